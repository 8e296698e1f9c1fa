"""What may come in over AMQP, checked before anything else trusts it.

Every message the platform takes is JSON. kombu decodes a body with the codec
registered for its content type before any of our code sees it, so the
platform registers its own codec for ``application/json`` (``install``): the
body's size is checked before it is parsed (``Settings.max_message_bytes``),
NaN and infinities are refused (they are not JSON), and a body nested too
deeply is refused instead of exhausting the stack. A body the codec refuses,
or one of another content type, reaches the consumers as a decode error; they
reject it with one of the ``REASONS`` below, never by dying.

``REASONS`` is a closed set: it is what the metric of rejected messages is
labelled with, so a hostile sender cannot grow a label without bound.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any

import kombu.serialization
from kombu.exceptions import ContentDisallowed
from kombu.utils.json import dumps as kombu_dumps
from nameko.messaging import QueueConsumer

from shared.runtime.observability import metrics

log = logging.getLogger(__name__)

#: Why a message was rejected (the ``reason`` label of ``orgwork_messages_rejected_total``).
REASONS = (
    "no_reply_to",  # an RPC request nobody could answer
    "content_type",  # not JSON
    "too_large",  # over Settings.max_message_bytes, refused before parsing
    "undecodable",  # not UTF-8, not JSON, NaN or infinity, nested too deep
    "malformed",  # JSON, but not the shape of a request or an event envelope
    "unstorable",  # an event with text that cannot be stored (NUL, lone surrogates)
    "unauthenticated",  # an event its source did not sign, or that does not continue its source's chain
)

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
_limit = DEFAULT_MAX_MESSAGE_BYTES


class Rejected(ValueError):
    """A message the platform will not take, and why (one of ``REASONS``)."""

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _no_constants(name: str) -> Any:
    raise Rejected("undecodable", f"{name} is not JSON")


def loads(body: bytes | str) -> Any:
    """A JSON body, or ``Rejected``: the size is checked before anything is parsed."""
    size = len(body)
    if size > _limit:
        raise Rejected("too_large", f"{size} bytes, more than the limit of {_limit}")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_no_constants)
    except Rejected:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Rejected("undecodable", f"{type(error).__name__}: {str(error)[:200]}") from None


def install(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
    """Use the platform's codec for every JSON message this process decodes (idempotent)."""
    global _limit
    _limit = max_message_bytes
    kombu.serialization.register("json", kombu_dumps, loads, content_type="application/json", content_encoding="utf-8")


def reason_of(error: BaseException) -> Rejected:
    """The platform's reading of a decode error kombu raised for a message."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, Rejected):
            return seen
        if isinstance(seen, ContentDisallowed):
            return Rejected("content_type", str(seen)[:200])
        seen = seen.__cause__ or seen.__context__
    return Rejected("undecodable", f"{type(error).__name__}: {str(error)[:200]}")


def count_rejected(service: str, kind: str, rejected: Rejected) -> None:
    """Say why a message was refused, in the log and in the metric."""
    log.warning("%s: %s message refused: %s", service, kind, rejected)
    metrics.MESSAGES_REJECTED.labels(service, kind, rejected.reason).inc()


class GuardedQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but a message kombu cannot decode goes to its provider.

    Left alone, kombu raises the decode error in the consuming thread, which
    ends the container; the message, unacknowledged, comes back to the next
    one. Here the provider's ``handle_undecodable(message, rejected)`` decides
    (an error reply, a dead letter) and acknowledges it.
    """

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = partial(self._undecodable, provider)
        return consumers

    def _undecodable(self, provider: Any, message: Any, error: BaseException) -> None:
        provider.handle_undecodable(message, reason_of(error))


install()
