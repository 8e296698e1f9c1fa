"""Structured logs: JSON lines when not on a terminal, with correlation ids.

Every record carries the service's name and the correlation id of the work
it belongs to (set per worker by ``operations.Tracing``), so one id finds the
whole story of a request in every service's log.
"""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

_service = "-"


class ContextFilter(logging.Filter):
    """Adds ``service`` and ``correlation_id`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = _service
        record.correlation_id = correlation_id.get()
        return True


def configure_logging(service: str, fmt: str = "auto", level: str = "INFO") -> None:
    """Send the root logger's records to stderr, as JSON unless on a terminal."""
    global _service
    _service = service
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    formatter: logging.Formatter
    if use_json:
        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)-7s %(service)s [%(correlation_id)s] %(name)s: %(message)s"
        )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kombu", "amqp", "nameko.containers", "nameko.messaging"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
