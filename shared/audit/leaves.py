"""An event's leaf in its store's Merkle tree, from the row exactly as stored.

The tree covers what is stored, not what the service reads: sealed personal
fields stay ciphertext here, so erasing a key never changes a leaf. The row
is read with its JSON as PostgreSQL's text (``data::text``), made canonical
the way ``shared.eventstore.hashing`` defines it, so the builder, ``verify``
and anyone with the row compute the same leaf input.
"""

from __future__ import annotations

import json
from typing import Any

from shared.audit import proofs
from shared.eventstore.hashing import canonical_text as canonical_text_of
from shared.eventstore.hashing import event_hash

COMMIT_ORDER = "tx_id, position"


def leaf_columns(alias: str = "") -> str:
    """The columns a leaf needs, in the order ``leaf_input_of_row`` takes them (``alias.`` before each)."""
    a = f"{alias}." if alias else ""
    return (
        f"{a}position, {a}tx_id::text::bigint AS tx_number, {a}stream_id, {a}version, {a}event_id::text, {a}type, "
        f"{a}schema_version, {a}data::text, {a}metadata::text, {a}prev_hash, {a}hash"
    )


LEAF_COLUMNS = leaf_columns()


def _canonical_float(text: str) -> float | int:
    """Numbers as canonical JSON writes them (see ``shared.eventstore.hashing``)."""
    value = float(text)
    if value == 0:
        return 0.0
    if value.is_integer() and "e" in repr(value):
        return int(value)
    return value


#: One decoder for every row (building one per call was a tenth of a verification).
_DECODER = json.JSONDecoder(parse_float=_canonical_float)


def canonical_text(jsonb_text: str) -> str:
    """The canonical JSON of a jsonb value, from PostgreSQL's text of it.

    Cheaper than decoding then walking the value: jsonb holds no NUL and no lone
    surrogate, so only numbers need the canonical treatment, which the parser
    applies as it reads them.
    """
    return canonical_text_of(_DECODER.decode(jsonb_text))


def digests_of_row(row: tuple[Any, ...]) -> tuple[bytes, bytes]:
    """The hash the row's fields give (to compare with its stored ``hash``) and its leaf input.

    One canonicalisation of the payload serves both, which is most of the work.
    """
    position, tx_id, stream_id, version, event_id, type_, schema_version, data, metadata, prev, digest = row
    fields = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "event_id": event_id,
        "type": type_,
        "schema_version": schema_version,
        "data_json": canonical_text(data),
        "metadata_json": canonical_text(metadata),
        "prev_hash": bytes(prev),
    }
    return event_hash(**fields), proofs.leaf_input(tx_id=tx_id, hash=bytes(digest), **fields)


def leaf_input_of_row(row: tuple[Any, ...]) -> bytes:
    """The leaf input of a row read with ``leaf_columns()``."""
    return digests_of_row(row)[1]
