"""The hash is computed over canonical JSON; that text must survive jsonb."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.db.database import Database
from shared.eventstore.hashing import canonical_json

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
        back = cur.fetchone()[0]
    assert canonical_json(back) == text
