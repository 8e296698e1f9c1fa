"""The hash is computed over canonical JSON; that text must survive jsonb."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.db.database import Database, fetch_one
from shared.eventstore.appending import prepare
from shared.eventstore.hashing import NotCanonical, canonical_json, canonical_text, normalise, reference_text
from shared.eventstore.records import Metadata, NewEvent, utc_now

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8).filter(lambda k: "\x00" not in k and all(not 0xD800 <= ord(c) <= 0xDFFF for c in k)),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_canonical_text_survives_a_trip_through_jsonb(database: Database, value: object) -> None:
    text = canonical_json({"v": value})
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT %s::jsonb", [text])
        back = fetch_one(cur)[0]
    assert canonical_json(back) == text


@settings(max_examples=200, deadline=None)
@given(
    actor=st.text(min_size=1, max_size=20).filter(
        lambda s: "\x00" not in s and s.strip() != "" and all(not 0xD800 <= ord(c) <= 0xDFFF for c in s)
    ),
    reason=st.none()
    | st.text(max_size=20).filter(lambda s: "\x00" not in s and all(not 0xD800 <= ord(c) <= 0xDFFF for c in s)),
    service=st.sampled_from(["cadre", "feedback"]),
)
def test_the_stores_metadata_text_is_the_canonical_json(actor: str, reason: str | None, service: str) -> None:
    """Appends write metadata from a cached prefix; it must be exactly the canonical text."""
    metadata = Metadata(actor=actor, reason=reason)
    prepared = prepare([NewEvent("Noted", {})], 0, metadata, service=service, recorded_at=utc_now().isoformat())
    assert prepared[0].metadata_json == canonical_json(prepared[0].metadata, "metadata")


#: Text with what JSON escapes (quotes, backslashes, control characters) and
#: what it does not (DEL, line separators, astral characters), and strings that
#: look like the small floats the fast encoder is not trusted with.
tricky_text = st.text(
    alphabet=st.sampled_from('"\\/\b\f\n\r\t\x01\x1f\x7f\x80\u2028\u2029\ufeff\uffff\U0001f600é0.e-')
    | st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=12,
)
canonical_values = st.recursive(
    json_scalars | tricky_text | st.integers() | st.floats(min_value=-1e-3, max_value=1e-3),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=16,
)


@settings(max_examples=2000, deadline=None)
@given(value=canonical_values)
@example(value={"small": [1e-05, -1e-05, 1.5e-07, 5e-324, 0.0001, 9.99e-05]})
@example(value={"big": [2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**30)]})
@example(value={"large": [1e16, 1e22, 1.7976931348623157e308, 1234567890123456.7, 123456789012345678.0]})
@example(value={"zero": [0.0, -0.0, 0, False, None, True]})
@example(value={"text": ["re-do", "0.00001", "\u2028\u2029", "\x01\x1f\x7f", '"\\'], "é": 1, "\U0001f600": 2, "z": 3})
def test_the_fast_encoder_writes_the_reference_text_byte_for_byte(value: object) -> None:
    """orjson writes canonical JSON only where it gives the standard library's text exactly."""
    normalised = normalise(value, "data")
    assert canonical_text(normalised) == reference_text(normalised)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1e-05"),  # orjson alone: 0.00001
        (-1.5e-07, "-1.5e-07"),  # orjson alone: -1.5e-7
        (2**64, "18446744073709551616"),  # orjson alone refuses it
        (-0.0, "0.0"),
        (1e16, "10000000000000000"),  # an integral float with an exponent is written as the integer jsonb gives back
        ('a\u2028\x7f\x01\n"', '"a\u2028\x7f\\u0001\\n\\""'),
    ],
)
def test_canonical_json_of_what_the_fast_encoder_is_not_trusted_with(value: object, text: str) -> None:
    assert canonical_json(value) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "lone \ud800", "nul \x00", {1: "key"}, object()])
def test_what_is_not_canonical_is_refused_before_it_is_written(value: object) -> None:
    with pytest.raises(NotCanonical):
        canonical_json({"v": value})
