"""The selection process: cadres chosen in the open, one phase after another.

announced → registration → democratic recommendation → shortlist for
differential assessment → assessment preview notice (the public may comment)
→ assessment → committee vote → pre-appointment public notice → closed, each
candidate appointed or withheld.

The order is enforced here: a command out of order is a ``RuleViolation``
naming the current phase and the commands it allows. Every rule the article
states is checked by the command that could break it.

``SelectionProcess`` is one aggregate, one state machine; its commands and
the methods that apply their events are kept in one module per part of the
process (``registration``, ``recommendation``, ``ballots``, ``assessment``,
``committee``, ``notice``), on the guards of ``base`` and the state of ``state``.
"""

from __future__ import annotations

from services.cadre.domain.eligibility import Eligibility
from services.cadre.domain.selection.assessment import AssessmentSteps
from services.cadre.domain.selection.ballots import BallotSteps
from services.cadre.domain.selection.committee import CommitteeSteps
from services.cadre.domain.selection.notice import NoticeSteps
from services.cadre.domain.selection.recommendation import RecommendationSteps
from services.cadre.domain.selection.registration import RegistrationSteps
from services.cadre.domain.selection.state import (
    ALLOWED,
    Candidate,
    Kind,
    Phase,
    Round,
    SelectionState,
    Variant,
    Window,
)

__all__ = [
    "ALLOWED",
    "Candidate",
    "Eligibility",
    "Kind",
    "Phase",
    "Round",
    "SelectionProcess",
    "SelectionState",
    "Variant",
    "Window",
]


class SelectionProcess(
    RegistrationSteps, RecommendationSteps, BallotSteps, AssessmentSteps, CommitteeSteps, NoticeSteps
):
    category = "selection"
    State = SelectionState
    snapshot_every = 100
