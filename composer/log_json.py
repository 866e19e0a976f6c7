"""JSON log lines (one object per line) that carry the job id, for the bot and the composer tier alike.

Both tiers import `composer`, so the formatter lives here and a job can be followed by its id from
the shard that accepted it to the replica that composed it. Standard library only: the formatter
must not pull anything into a process that logs in plain text.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import IO, Any, Iterable, Mapping

# The job the current asyncio task (or thread) works on; a record without its own `job_id` gets it.
JOB_ID: ContextVar[int | str | None] = ContextVar("muse_job_id", default=None)

REDACTED = "[redacted]"
_SECRET_MIN_CHARS = 8  # a short "secret" would blank out ordinary words

# Attributes every LogRecord has; anything else on a record came from `extra=` and is written out.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def bind_job(job_id: int | str | None) -> None:
    """Tag the rest of the current task's records with this job id (a spawned task has its own copy)."""
    JOB_ID.set(job_id)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, process, job_id, extras, exception.

    `fields` are added to every line (the tier, the host, a bot's shard ids); every string in
    `redact` (a token, a password) is replaced wherever it would appear in a line.
    """

    def __init__(self, fields: Mapping[str, Any] | None = None, redact: Iterable[str | None] = ()):
        super().__init__()
        self.fields = dict(fields or {})
        self.secrets = tuple(s for s in redact if s and len(s) >= _SECRET_MIN_CHARS)

    def format(self, record: logging.LogRecord) -> str:
        line = json.dumps(self.fields_of(record), default=str, ensure_ascii=False)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line

    def fields_of(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.processName,
            "pid": record.process,
            **self.fields,
        }
        job_id = getattr(record, "job_id", None)
        out["job_id"] = job_id if job_id is not None else JOB_ID.get()
        if out["job_id"] is None:
            del out["job_id"]
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != "job_id"})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return out


def json_handler(fields: Mapping[str, Any] | None = None, redact: Iterable[str | None] = (),
                 stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing JSON lines to `stream` (stderr): what a bot process or a composer replica
    adds to its root logger when MUSE_LOG_FORMAT=json."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(fields, redact))
    return handler
