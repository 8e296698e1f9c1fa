"""A delivered envelope is checked by a compiled schema: a good one comes back whole, a bad one names its field."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import ValidationFailed
from shared.eventstore.records import record_from_envelope
from tests.support import foreign


def _envelope(**changes: Any) -> dict[str, Any]:
    envelope = foreign.envelope("desk", "LampReported", "report-1", {"title": "Lamp"})
    envelope.update(changes)
    return envelope


def _problems(envelope: Any) -> dict[str, Any]:
    with pytest.raises(ValidationFailed) as caught:
        record_from_envelope(envelope)
    assert caught.value.message == "malformed event envelope"
    return dict(caught.value.errors)


def test_a_well_formed_envelope_becomes_the_record_it_was_made_from() -> None:
    envelope = _envelope()
    record = record_from_envelope(envelope)
    assert record.envelope() == envelope
    assert record_from_envelope(record.envelope()) == record


def test_integral_numbers_written_as_floats_are_taken_as_integers() -> None:
    record = record_from_envelope(_envelope(version=2.0, position=7.0))
    assert (record.version, record.position) == (2, 7)
    assert isinstance(record.version, int)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "3"}, "version"),
        ({"version": True}, "version"),
        ({"version": 0}, "version"),
        ({"version": 1.5}, "version"),
        ({"position": -1}, "position"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"event_id": "A1B2C3D4-0000-4000-8000-000000000000"}, "event_id"),  # only the canonical form
        ({"type": "lamp reported"}, "type"),
        ({"stream_id": "no category"}, "stream_id"),
        ({"data": [1, 2]}, "data"),
        ({"metadata": None}, "metadata"),
        ({"hash": "zz" * 32}, "hash"),  # hex of the right length only: never a crash converting it
        ({"prev_hash": "ab" * 31}, "prev_hash"),
    ],
)
def test_a_bad_field_is_named_with_its_problem(changes: dict[str, Any], field: str) -> None:
    problems = _problems(_envelope(**changes))
    assert list(problems) == [field]
    assert problems[field] and all(isinstance(p, str) and p for p in problems[field])


def test_missing_fields_are_each_named() -> None:
    envelope = _envelope()
    del envelope["hash"], envelope["tx_id"]
    assert _problems(envelope) == {"tx_id": ["missing"], "hash": ["missing"]}


def test_an_unknown_field_is_refused_by_name() -> None:
    assert _problems(_envelope(sneaky=1)) == {"sneaky": ["unknown field"]}


@pytest.mark.parametrize("body", [None, "text", [1, 2], 42])
def test_an_envelope_that_is_not_an_object_is_refused(body: Any) -> None:
    assert list(_problems(body)) == ["_schema"]
