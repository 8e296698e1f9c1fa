"""The cadre service's RPC requests: commands (who and why) and queries.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it.
Every command says who gives it (``actor``) and may say why (``reason``): both
go into the events' metadata for the audit trail. Replies are in ``views``
(commands) and ``read_models`` (queries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import validate

from services.cadre.domain.grades import GRADES
from services.cadre.domain.selection import Kind, Round, Variant
from shared.application.commands import ID, LONG_TEXT, NAME, Command

SCORE = {"validate": validate.Range(min=0, max=100)}


def ids(minimum: int = 1) -> dict[str, Any]:
    return {"validate": validate.Length(min=minimum, max=500)}


@dataclass(frozen=True, kw_only=True)
class OnSelection(Command):
    process_id: str = field(metadata=ID)


# -- selection ------------------------------------------------------------------


@dataclass(frozen=True)
class PostInput:
    post_id: str = field(metadata=ID)
    title: str = field(metadata=NAME)


@dataclass(frozen=True)
class CriterionInput:
    name: str = field(metadata=NAME)
    weight: Decimal = field(metadata={"validate": validate.Range(min=0, min_inclusive=False, max=1000)})


@dataclass(frozen=True, kw_only=True)
class CreateSelection(Command):
    title: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    kind: Kind = field(metadata={"by_value": True})
    posts: list[PostInput] = field(metadata=ids())
    variant: Variant = field(default=Variant.STANDARD, metadata={"by_value": True})
    process_id: str | None = field(default=None, metadata=ID)
    min_credit_hours: Decimal | None = field(default=None, metadata={"validate": validate.Range(min=0, max=10000)})
    shortlist_ratio: Decimal | None = field(
        default=None, metadata={"validate": validate.Range(min=1, min_inclusive=False, max=10)}
    )


@dataclass(frozen=True, kw_only=True)
class ExtendRegistration(OnSelection):
    """Registration kept open (or opened again) for more working days."""

    working_days: int = field(default=5, metadata={"validate": validate.Range(min=1, max=30)})


@dataclass(frozen=True, kw_only=True)
class CancelSelection(OnSelection):
    """The selection ends without appointments; the reason is required."""

    reason: str = field(metadata={"validate": validate.Length(min=1, max=2000)})  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class RegisterCandidate(OnSelection):
    cadre_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class CastRecommendation(OnSelection):
    """A voter takes part in a secret recommendation ballot: who, never whom they name."""

    voter_id: str = field(metadata=ID)
    round: Round = field(default=Round.MEETING, metadata={"by_value": True})


@dataclass(frozen=True, kw_only=True)
class CountRecommendation(OnSelection):
    """The box counted: each ballot is the list of candidates it names (no voter id; an empty one is blank)."""

    ballots: list[list[str]] = field(metadata=ids())
    round: Round = field(default=Round.MEETING, metadata={"by_value": True})


@dataclass(frozen=True, kw_only=True)
class MakeStatement(OnSelection):
    cadre_id: str = field(metadata=ID)
    summary: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class DrawShortlist(OnSelection):
    cadre_ids: list[str] = field(metadata=ids())


@dataclass(frozen=True, kw_only=True)
class PublishPreview(OnSelection):
    working_days: int = field(default=3, metadata={"validate": validate.Range(min=1, max=30)})


@dataclass(frozen=True, kw_only=True)
class StartAssessment(OnSelection):
    criteria: list[CriterionInput] = field(metadata=ids())


@dataclass(frozen=True, kw_only=True)
class AssessCandidate(OnSelection):
    cadre_id: str = field(metadata=ID)
    qualitative: str = field(metadata={"validate": validate.OneOf(GRADES)})
    scores: dict[str, Decimal] = field(metadata=ids())


@dataclass(frozen=True, kw_only=True)
class ConveneCommittee(OnSelection):
    members: list[str] = field(metadata=ids(3))
    present: list[str] = field(metadata=ids())


@dataclass(frozen=True, kw_only=True)
class CastCommitteeVote(OnSelection):
    """A member present takes part in a post's secret ballot."""

    member_id: str = field(metadata=ID)
    post_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class CountCommitteeVote(OnSelection):
    """A post's box counted: each ballot lists the candidates it approves for the post (no member id)."""

    post_id: str = field(metadata=ID)
    ballots: list[list[str]] = field(metadata=ids())


@dataclass(frozen=True, kw_only=True)
class OpenPublicNotice(OnSelection):
    """At least 5 working days (the regulation's minimum); a longer notice may be asked for."""

    working_days: int = field(default=5, metadata={"validate": validate.Range(min=5, max=30)})


@dataclass(frozen=True)
class SelectionQuery:
    phase: str | None = field(default=None, metadata={"validate": validate.Length(max=40)})


@dataclass(frozen=True)
class JourneyQuery:
    process_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)


@dataclass(frozen=True)
class ResultsQuery:
    """The published results of closed selections, latest first (optionally of one unit)."""

    unit: str | None = field(default=None, metadata=NAME)
    limit: int = field(default=50, metadata={"validate": validate.Range(min=1, max=500)})


# -- cadre records ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterCadre(Command):
    cadre_id: str = field(metadata=ID)
    name: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    post_category: str = field(metadata=NAME)
    leadership_team: bool = False
    head_of_unit: bool = False


@dataclass(frozen=True, kw_only=True)
class ChangeRoles(Command):
    cadre_id: str = field(metadata=ID)
    leadership_team: bool
    head_of_unit: bool


@dataclass(frozen=True, kw_only=True)
class CommendCadre(Command):
    cadre_id: str = field(metadata=ID)
    title: str = field(
        metadata={
            "validate": validate.OneOf(["outstanding_township_party_secretary", "outstanding_village_branch_secretary"])
        }
    )
    year: int = field(metadata={"validate": validate.Range(min=1949, max=2100)})
    citation: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True)
class CadreRef:
    cadre_id: str = field(metadata=ID)


@dataclass(frozen=True)
class UnitQuery:
    unit: str = field(metadata=NAME)


# -- appraisal ----------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdsInput:
    excellent: Decimal = field(default=Decimal(90), metadata=SCORE)
    competent: Decimal = field(default=Decimal(75), metadata=SCORE)
    basically_competent: Decimal = field(default=Decimal(60), metadata=SCORE)


@dataclass(frozen=True, kw_only=True)
class OpenAppraisalCycle(Command):
    year: int = field(metadata={"validate": validate.Range(min=1949, max=2100)})
    post_category: str = field(metadata=NAME)
    criteria: list[CriterionInput] = field(metadata=ids())
    thresholds: ThresholdsInput = field(default_factory=ThresholdsInput)
    cycle_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnCycle(Command):
    cycle_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class EnrolForAppraisal(OnCycle):
    cadre_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class SubmitSelfReview(OnCycle):
    cadre_id: str = field(metadata=ID)
    summary: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class SubmitReviewScores(OnCycle):
    cadre_id: str = field(metadata=ID)
    reviewer_id: str = field(metadata=ID)
    scores: dict[str, Decimal] = field(metadata=ids())


@dataclass(frozen=True)
class YearQuery:
    year: int = field(metadata={"validate": validate.Range(min=1949, max=2100)})
