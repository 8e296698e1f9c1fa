"""What every service's RPC requests share: ids, texts, who and why.

Field metadata for marshmallow-dataclass (``field(metadata=ID)``), one meaning
each in every service:

* ``ID``: a key (an aggregate's id, a member's id);
* ``NAME``: a short text on one line (a name, a title, a unit);
* ``LONG_TEXT``: what a person writes (a summary, a complaint, a decision).

``Command`` is the base of every request that changes something: who gives it
(``actor``) and, optionally, why (``reason``); both go into the events'
metadata for the audit trail, and any ``Command`` is what the unit of work
takes as ``by``. The caller never sends ``actor``: it is marked ``FROM_CALLER``,
which keeps it out of the request's schema (a request naming it is refused as
an unknown field), and the RPC layer sets it to the verified caller
(``as_caller``). Every command may carry a ``command_id`` (``Idempotent``): a
repeat with the same id gets the first reply and changes nothing
(``shared.application.idempotency``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marshmallow import validate

from shared.domain.schemas import FILLED_BY_CALLER, filled_by_caller

R = TypeVar("R")

#: A field the caller does not send: the verified identity's subject fills it.
FROM_CALLER = {"metadata": {FILLED_BY_CALLER: "subject"}}
#: A field the caller does not send: where the call came from (the client's
#: address the gateway saw, else the caller's subject) fills it.
FROM_CLIENT = {"metadata": {FILLED_BY_CALLER: "client"}}

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
    actor: str = field(default="", metadata=FROM_CALLER)
    reason: str | None = field(default=None, metadata={"validate": validate.Length(max=2000)})


def as_caller(request: R, subject: str, client: str | None) -> R:
    """``request`` with its caller's fields set from the verified identity."""
    fields = filled_by_caller(type(request))
    if not fields:
        return request
    values: dict[str, Any] = {
        name: subject if source == "subject" else (client or subject) for name, source in fields.items()
    }
    return dataclasses.replace(request, **values)  # type: ignore[type-var]
