"""Logging set-up for every process: one format (text or JSON), the request id on each line.

``FOSS_LOG_FORMAT=json`` makes every line a JSON object (for log shippers);
the default is one human-readable line, whose message has every character that
is not printable (line breaks, carriage returns, NUL, ESC, bidirectional
overrides...) written as a Python escape (``\\n``, ``\\x00``, ``\\u202e``), so
no value taken from a request (a path with ``%0A``) can forge a line, colour a
terminal or turn the log into "binary" for ``grep``; the JSON format escapes
them by being JSON. The id of the request being served
is kept in a context variable so that any log line written while serving it
carries it, not just the access log line.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request this task is serving ("-" outside a request).
request_id_var: ContextVar[str] = ContextVar("foss_request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# Attributes every LogRecord has; anything else was passed in ``extra=`` and is
# worth keeping as a field of the JSON line.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``request_id`` (keeping one set explicitly) and let the record through."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def escape_text(text: str) -> str:
    """``text`` with each character that is not printable (space aside) as its escape."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class TextFormatter(logging.Formatter):
    """The text format: one line per record (a traceback aside), its message escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Format the record with its message's unprintable characters escaped."""
        message = record.message
        escaped = escape_text(message)
        if escaped is message:
            return super().formatMessage(record)
        record.message = escaped
        try:
            return super().formatMessage(record)
        finally:
            record.message = message


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def make_formatter(log_format: str) -> logging.Formatter:
    """Return the formatter for ``text`` or ``json``."""
    if log_format == "json":
        return JsonFormatter()
    return TextFormatter(TEXT_FORMAT)


def setup_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Send every logger's records to stderr in the chosen format (idempotent per process)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Alembic names each of its plugins at INFO when it is first imported.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Python warnings become log records too, so a JSON log stays all JSON.
    logging.captureWarnings(True)


def granian_log_config(level: str = "INFO", log_format: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the Granian server's own loggers, in our format."""
    formatter: dict[str, Any] = (
        {"()": "foss_registry.logs.JsonFormatter"}
        if log_format == "json"
        else {"()": "foss_registry.logs.TextFormatter", "fmt": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "foss_registry.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": level.upper(), "propagate": False},
            "granian.access": {"handlers": ["console"], "level": level.upper(), "propagate": False},
        },
    }
