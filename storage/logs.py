"""Logging set-up with A-number redaction.

Every record that leaves the process (stderr, files) goes through :class:`RedactingFormatter`,
which rewrites anything shaped like an A-number or a phone number (a client's, for reminders; the
gateway's library logs the recipient) to its last four digits (``***5678``), tracebacks included.
Only the database holds full A-numbers, and phone numbers only sealed.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

# "A-012-345-678", "A 012 345 678", "A012345678", "012-345-678", and bare runs of 8 or 9 digits.
# Longer digit runs (phone numbers with country code, timestamps such as 20261127) are left
# alone only when they are not 8-9 digits: a date written 20261127 is 8 digits and is redacted
# too, which costs a little readability and never leaks a number.
_A_NUMBER_TEXT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:[Aa][\s\-]?)?"
    r"(?:\d{3}[\s\-]\d{3}[\s\-]\d{3}|\d{2}[\s\-]\d{3}[\s\-]\d{3}|\d{8,9})"
    r"(?![0-9])"
)


# Clients' phone numbers (reminders): +12135550123, %2B12135550123 (in a URL), whatsapp:+1...,
# (213) 555-0123, 213-555-0123,
# and bare runs of 10 to 15 digits (an epoch timestamp is redacted too: readability, not a leak).
_PHONE_TEXT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:(?:\+|%2[Bb])\d[\d\s\-().]{6,20}\d|\(?\d{3}\)?[\s\-.]\d{3}[\s\-.]\d{4}|\d{10,15})"
    r"(?![0-9])"
)


def _last_four(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "***" + digits[-4:]


def redact(text: str) -> str:
    """Replace every phone-number- and A-number-shaped run in ``text`` by ``***`` and its last
    four digits."""
    return _A_NUMBER_TEXT.sub(_last_four, _PHONE_TEXT.sub(_last_four, text))


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output, traceback included, is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: what the process is working on, for the JSON log's fields (a source's check, its run)
_CONTEXT: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "docketwatch_log_context", default=None
)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Records logged inside carry ``fields`` (``source``, ``run_id``) in the JSON log."""
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def set_log_context(**fields: object) -> None:
    """The same for the rest of this process (a check or crawl process has one source, one run)."""
    _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for journald, Loki or any collector: ``time`` (UTC, ISO 8601),
    ``level``, ``logger``, ``message``, then ``source`` and ``run_id`` when known, ``client``
    (given as ``extra={"client": ...}``) as ``***`` and its last four digits, and ``error`` (a
    traceback). Every value is redacted as the text log is."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in (_CONTEXT.get() or {}).items():
            entry[key] = value
        client = getattr(record, "client", None)
        if client:
            entry["client"] = "***" + re.sub(r"\D", "", str(client))[-4:]
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", stream: object = None, fmt: str = "text") -> None:
    """Route the root logger to stderr (or ``stream``) through the redacting formatter: text
    lines, or (``fmt="json"``) one JSON object a line."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_docketwatch", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter(LOG_FORMAT))
    handler._docketwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party chatter that is noise at INFO.
    for noisy in ("alembic.runtime.migration", "apscheduler.scheduler", "scrapy", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # httpx writes each request's full address at INFO (and more at DEBUG): a LegalServer
    # report's api_key travels in its query string. Never logged, at any level.
    for leaky in ("httpx", "httpcore"):
        logging.getLogger(leaky).setLevel(logging.WARNING)
