"""Reading ``jsonb`` columns: PostgreSQL's text parsed by the JSON scanner itself.

psycopg2 parses a ``jsonb`` value with ``json.loads``, which checks its
argument's type, looks for a byte-order mark and matches a whitespace pattern
on both sides of the document before and after it calls the C scanner. Text
that PostgreSQL renders from ``jsonb`` has none of that, and an event read
parses two documents (data and metadata): calling the scanner directly takes
a third to a half of the time. Anything that is not exactly one document
(never PostgreSQL's output) goes to ``json.loads``, which raises as before.
"""

from __future__ import annotations

import json
import json.scanner
from typing import Any

import psycopg2.extensions

# typeshed spells the scanner's argument as a scanner; it is the decoder whose settings it takes
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

JSONB_OID = 3802


def parse(text: str | bytes | None, cursor: Any = None) -> Any:
    """One JSON document, as PostgreSQL renders a ``jsonb`` value (``None`` for SQL NULL)."""
    if not isinstance(text, str):
        return None if text is None else json.loads(text)
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


JSONB = psycopg2.extensions.new_type((JSONB_OID,), "JSONB_SCANNED", parse)


def read_jsonb_quickly(cursor: Any) -> Any:
    """``cursor``, now parsing the ``jsonb`` columns it reads with ``parse``."""
    psycopg2.extensions.register_type(JSONB, cursor)
    return cursor
