"""Other services' events, as training reads them.

Each payload lists only the fields training uses (the publisher may add
fields); the rules a field must keep are checked here, and a payload that
breaks them is dead-lettered, never applied.

- cadre's ``CadreRegistered`` (stream ``cadre-<cadre_id>``): a cadre's ledger;
- cadre's ``CandidateAppointed`` (a selection's stream, naming the cadre) and
  ``CadreAppointedToPost`` (the cadre's own stream): induction is owed, once per post;
- grassroots' ``DevelopmentTargetDesignated`` (the contract grassroots
  publishes: ``{person_id, name, branch_id, designated_at}``): the short course;
- feedback's ``SuggestionRoutedToTraining``: a suggestion to answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.application.commands import ID, LONG_TEXT, NAME


@dataclass(frozen=True)
class RegisteredCadre:
    """cadre's ``CadreRegistered``; the cadre id is its stream's."""

    name: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    post_category: str = field(metadata=NAME)


@dataclass(frozen=True)
class AppointedCandidate:
    """cadre's ``CandidateAppointed``."""

    cadre_id: str = field(metadata=ID)
    post_id: str = field(metadata=ID)
    appointed_at: dt.datetime


@dataclass(frozen=True)
class AppointedToPost:
    """cadre's ``CadreAppointedToPost``; the cadre id is its stream's."""

    post_id: str = field(metadata=ID)
    appointed_at: dt.datetime


@dataclass(frozen=True)
class DesignatedTarget:
    """grassroots' ``DevelopmentTargetDesignated``: a party applicant designated a development target."""

    person_id: str = field(metadata=ID)
    name: str = field(metadata=NAME)
    branch_id: str = field(metadata=ID)
    designated_at: dt.datetime


@dataclass(frozen=True)
class RoutedSuggestion:
    """feedback's ``SuggestionRoutedToTraining``."""

    submission_id: str = field(metadata=ID)
    text: str = field(metadata=LONG_TEXT)
    received_at: dt.datetime
