"""Structured logs: JSON lines when not on a terminal, with correlation ids.

Every record carries the service's name and the correlation id of the work
it belongs to (set per worker by ``operations.Operations``), so one id finds the
whole story of a request in every service's log.

Its ``time`` is RFC 3339 in UTC with milliseconds (``2026-12-02T20:43:17.123Z``),
in both formats: log collectors (Loki, Elasticsearch, Cloud Logging) parse it
as it is, whatever the host's timezone, and lines from several hosts sort
by it.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time

from pythonjsonlogger.json import JsonFormatter

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_service = "-"

HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(service)s [%(correlation_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s"


def rfc3339(record: logging.LogRecord) -> str:
    """The record's creation time as RFC 3339, UTC, to the millisecond: ``2026-12-02T20:43:17.123Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class ContextFilter(logging.Filter):
    """Adds ``service`` and ``correlation_id`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        record.correlation_id = correlation_id.get()
        return True


class HumanFormatter(logging.Formatter):
    """One line a person reads, its time in RFC 3339 UTC like the JSON's."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return rfc3339(record)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: ``time`` (RFC 3339 UTC), ``level``, ``logger``, ``message``, ``service``, ``correlation_id``."""

    def __init__(self) -> None:
        super().__init__(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return rfc3339(record)


def configure_logging(service: str, fmt: str = "auto", level: str = "INFO") -> None:
    """Send the root logger's records to stderr, as JSON unless on a terminal."""
    global _service
    _service = service
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonLineFormatter() if use_json else HumanFormatter(HUMAN_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kombu", "amqp", "nameko.containers", "nameko.messaging"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
