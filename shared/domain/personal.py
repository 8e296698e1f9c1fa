"""Which fields of an event are personal data, and whose: declared with the field, in plain Python.

An event names its personal fields in its own schema, beside their types::

    @dataclass(frozen=True)
    class CandidateRegistered(DomainEvent):
        cadre_id: str
        name: str = field(metadata=personal("cadre", of="cadre_id"))

says that ``name`` is personal data of the data subject ``cadre:<cadre_id>``.
Without ``of`` the subject's id is the aggregate's own (the stream's id).
A field whose subject depends on the event takes rules in order: ``when``
limits a rule to the events it holds for, ``otherwise`` is the rule to fall
back on (a talent record's name is the cadre's when it names a cadre, else
the person's).

The registry (``EventRegistry.to_new_event``) reports, per event, which fields
are personal and whose (``NewEvent.personal``); the store seals them under the
subject's key and erasing the key erases them (``shared.privacy``). Nothing
here knows how: the domain stays plain Python, with no cryptography.

Once erased, a field reads as ``ERASED``; a field whose type or validation
would refuse that text declares a stand-in of its own (``erased=``, in its JSON
form), which the registry checks the field accepts.

``shared.domain.erasure.PersonalDataErased`` is the platform's record of an
erasure, kept in every service's store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.eventstore.records import ERASED

#: The key of a dataclass field's (marshmallow) metadata that holds its ``Personal`` declaration.
PERSONAL = "personal"


@dataclass(frozen=True)
class Subject:
    """One rule naming a data subject: ``<kind>:<id>``.

    ``of``: the event's field holding the id (a list of exactly one id counts
    as that id); None: the aggregate's own id. ``when``: the rule holds only
    for events it returns True for.
    """

    kind: str
    of: str | None = None
    when: Callable[[Any], bool] | None = None

    def subject_of(self, event: Any, aggregate_id: str | None) -> str | None:
        if self.when is not None and not self.when(event):
            return None
        raw = aggregate_id if self.of is None else getattr(event, self.of)
        if isinstance(raw, list | tuple):
            raw = raw[0] if len(raw) == 1 else None
        return f"{self.kind}:{raw}" if raw not in (None, "") else None


@dataclass(frozen=True)
class Personal:
    """A field's declaration: the rules naming its subject, in order, and its erased stand-in (JSON)."""

    rules: tuple[Subject, ...]
    erased: Any = ERASED

    @property
    def always(self) -> bool:
        """True when some rule holds for every event: then a value must have a subject."""
        return any(rule.when is None for rule in self.rules)


def personal(
    kind: str,
    of: str | None = None,
    *,
    when: Callable[[Any], bool] | None = None,
    otherwise: Subject | tuple[Subject, ...] = (),
    erased: Any = ERASED,
) -> dict[str, Any]:
    """The metadata of a dataclass field that is personal data of ``<kind>:<id>``: ``field(metadata=personal(...))``.

    ``otherwise``: the rules to try, in order, when this one does not hold.
    (Under ``"metadata"``, like ``FROM_CALLER``: marshmallow keeps it as the
    schema field's metadata, and the field's type and validation are untouched.)
    """
    rules = (Subject(kind, of, when), *((otherwise,) if isinstance(otherwise, Subject) else otherwise))
    return {"metadata": {PERSONAL: Personal(rules, erased)}}


_DECLARED: dict[type, dict[str, Personal]] = {}


def personal_fields(cls: type) -> dict[str, Personal]:
    """The personal fields a dataclass declares (cached)."""
    found = _DECLARED.get(cls)
    if found is None:
        found = _DECLARED[cls] = {
            f.name: f.metadata["metadata"][PERSONAL]
            for f in dataclasses.fields(cls)
            if isinstance(f.metadata.get("metadata"), dict) and PERSONAL in f.metadata["metadata"]
        }
    return found
