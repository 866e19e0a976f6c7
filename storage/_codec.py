"""Conversions between dataclass values and column values, in one place."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from storage.errors import InvalidValueError


def to_ts(value: datetime | None) -> float | None:
    """Aware or naive-UTC datetime -> Unix seconds (REAL column)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def from_ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)


def from_ts_required(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


def dumps(value: Any) -> str:
    """Compact JSON; non-ASCII kept readable in the file."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"cannot store as JSON: {exc}") from exc


def loads(text: str) -> Any:
    return json.loads(text)
