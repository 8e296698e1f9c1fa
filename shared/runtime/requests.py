"""What every service's RPC requests share: ids, text lengths, who and why.

Field metadata for marshmallow-dataclass (``field(metadata=ID)``), and the base
of every command: who gives it (``actor``) and, optionally, why (``reason``);
both go into the events' metadata for the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import validate

ID = {"validate": validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", error="an id is 1-64 letters, digits or _.:-")}
NAME = {"validate": validate.Length(min=1, max=200)}
LONG_TEXT = {"validate": validate.Length(min=1, max=4000)}


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: str = field(metadata=NAME)
    reason: str | None = field(default=None, metadata={"validate": validate.Length(max=2000)})
