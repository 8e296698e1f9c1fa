"""The platform's record of an erasure of personal data, kept in every service's store.

Erasing a data subject (``shared.privacy.erasure``) deletes their key from a
store and records ``PersonalDataErased`` in it, in the stream
``privacy-<subject>``: the log itself says when, why (the legal basis), at
whose request, and (its actor) which operator erased. Every service registers
the event (``ServiceBase``), as it does ``CalendarYearLoaded``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.domain.events import DomainEvent

#: The stream category of erasure records: ``privacy-<subject>``.
ERASURE_CATEGORY = "privacy"


def erasure_stream(subject: str) -> str:
    return f"{ERASURE_CATEGORY}-{subject}"


@dataclass(frozen=True)
class PersonalDataErased(DomainEvent):
    """A data subject's personal data was erased from this store: its key deleted, nothing sealed under it opens.

    ``key_deleted``: this store held a key of the subject (it held personal
    data of theirs). The operator who erased is the event's actor.
    """

    subject: str
    legal_basis: str
    requested_by: str
    key_deleted: bool
    erased_at: dt.datetime
