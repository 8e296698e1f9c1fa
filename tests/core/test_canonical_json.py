"""The hash is computed over canonical JSON; that text must survive jsonb."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.db.database import Database, fetch_one
from shared.eventstore.appending import prepare
from shared.eventstore.hashing import canonical_json
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
