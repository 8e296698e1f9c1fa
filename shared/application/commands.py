"""What every service's RPC requests share: ids, texts, who and why.

Field metadata for marshmallow-dataclass (``field(metadata=ID)``), one meaning
each in every service:

* ``ID``: a key (an aggregate's id, a member's id);
* ``NAME``: a short text on one line (a name, a title, a unit);
* ``LONG_TEXT``: what a person writes (a summary, a complaint, a decision).

``Command`` is the base of every request that changes something: who gives it
(``actor``) and, optionally, why (``reason``); both go into the events'
metadata for the audit trail, and any ``Command`` is what the unit of work
takes as ``by``. Every command may carry a ``command_id`` (``Idempotent``): a
repeat with the same id gets the first reply and changes nothing
(``shared.application.idempotency``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import validate

TEXT_LIMIT = 4000

ID = {"validate": validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", error="an id is 1-64 letters, digits or _.:-")}
NAME = {"validate": validate.Length(min=1, max=200)}
LONG_TEXT = {"validate": validate.Length(min=1, max=TEXT_LIMIT, error=f"text is 1 to {TEXT_LIMIT} characters")}


COMMAND_ID = {
    "validate": validate.Regexp(
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        error="a command id is a UUID, chosen by the caller",
    )
}


@dataclass(frozen=True, kw_only=True)
class Idempotent:
    """A request that changes something: carried out once, however often it arrives."""

    command_id: str | None = field(default=None, metadata=COMMAND_ID)


@dataclass(frozen=True, kw_only=True)
class Command(Idempotent):
    actor: str = field(metadata=NAME)
    reason: str | None = field(default=None, metadata={"validate": validate.Length(max=2000)})
