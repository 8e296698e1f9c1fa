"""Publishing another service's event, as its relay would, before that service exists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from shared.runtime.messaging.publisher import BatchPublisher, event_message


def envelope(
    source: str, event_type: str, stream_id: str, data: dict[str, Any], version: int = 1, **metadata: Any
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": 1,
        "stream_id": stream_id,
        "version": version,
        "position": version,
        "tx_id": 1,
        "data": data,
        "metadata": {
            "actor": "test",
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "reason": None,
            "service": source,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            **metadata,
        },
        "hash": "0" * 64,
        "prev_hash": "0" * 64,
    }


def publish(amqp_uri: str, source: str, *envelopes: dict[str, Any]) -> None:
    publisher = BatchPublisher(amqp_uri, source)
    try:
        publisher.publish([event_message(e) for e in envelopes])
    finally:
        publisher.close()
