"""Write a piece's files the way `muse compose` does, and get their paths back (for tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def written(piece: Any, out_dir: Path) -> dict[str, Any]:
    """kind → Path (stems: name → Path), after writing the piece into `out_dir`."""
    return {kind: {n: Path(p) for n, p in value.items()} if isinstance(value, dict) else Path(value)
            for kind, value in piece.write(out_dir).items()}
