"""Supervision's cases about candidates, and the holds they put on an appointment.

A case about a candidate of a running selection counts whatever the phase
(the assessment preview, the assessment, the committee, between the vote and
the notice, the notice itself): a substantiated finding withholds the
appointment, and a case still open at the end of the notice postpones it
(公示结果不影响任职的, 办理任职手续: only a notice whose result does not bear
on the appointment lets it go ahead). When a case that postponed an
appointment concludes, the appointment is withheld (substantiated) or made
(not substantiated), recording the notice and the case it followed.
"""

from __future__ import annotations

import datetime as dt

from services.cadre.domain.events import (
    AppointmentPostponed,
    AppointmentWithheld,
    CandidateAppointed,
    OutcomeAfterCloseFlagged,
    SelectionClosed,
    SupervisionCaseNoted,
    SupervisionOutcomeNoted,
)
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import RUNNING, Candidate, Phase
from shared.domain import applies, command


class HoldSteps(SelectionBase):
    @property
    def running(self) -> bool:
        return self.state.phase in RUNNING

    def concerns(self, cadre_id: str) -> bool:
        """Whether a case about ``cadre_id`` bears on this process now: a candidate of a running selection."""
        return self.running and cadre_id in self.state.candidates

    def missed_outcome(self, cadre_id: str, substantiated: bool, concluded_at: dt.datetime) -> bool:
        """A substantiated outcome concluded during the notice, reaching a process already closed.

        The appointment stands (it has been made); a person must look at it.
        """
        candidate = self.state.candidates.get(cadre_id)
        notice = self.state.notice
        return (
            self.state.phase is Phase.CLOSED
            and substantiated
            and candidate is not None
            and bool(candidate.nominated_post)
            and notice is not None
            and notice.is_open(concluded_at)
        )

    @command
    def flag_outcome_after_close(self, cadre_id: str, case_id: str, concluded_at: dt.datetime) -> None:
        """A missed outcome (``missed_outcome``) on the closed selection, for a person to review: the
        appointment stands, and nothing else changes."""
        self.require(
            self.missed_outcome(cadre_id, True, concluded_at),
            "selection.outcome_not_missed",
            f"case {case_id} about {cadre_id} is no substantiated outcome concluded during the notice of this "
            "closed selection",
        )
        candidate = self._candidate(cadre_id)
        if case_id in candidate.flagged_cases:
            return
        assert candidate.nominated_post is not None
        notice_id = self.state.notice.notice_id if self.state.notice else None
        self.record(OutcomeAfterCloseFlagged(cadre_id, case_id, candidate.nominated_post, concluded_at, notice_id))

    def _concerned(self, cadre_id: str) -> Candidate:
        self.require(
            self.running,
            "selection.not_running",
            f"the selection is {self.state.phase}: a case no longer bears on it",
        )
        return self._candidate(cadre_id)

    @command
    def note_case_opened(self, cadre_id: str, case_id: str, opened_at: dt.datetime) -> None:
        """A case about a candidate opened: it holds their appointment until it concludes."""
        candidate = self._concerned(cadre_id)
        known = case_id in candidate.open_cases + candidate.substantiated_cases + candidate.cleared_cases
        self.require(not known, "selection.case_noted", f"case {case_id} is already noted for {cadre_id}")
        self.record(SupervisionCaseNoted(cadre_id, case_id, opened_at, str(self.state.phase)))

    @command
    def note_supervision_outcome(self, cadre_id: str, case_id: str, substantiated: bool, now: dt.datetime) -> None:
        """A case about a candidate concluded; an appointment it postponed is decided now."""
        candidate = self._concerned(cadre_id)
        self.require(
            case_id not in candidate.substantiated_cases + candidate.cleared_cases,
            "selection.outcome_noted",
            f"the outcome of case {case_id} is already noted for {cadre_id}",
        )
        notice = self.state.notice
        self.record(
            SupervisionOutcomeNoted(cadre_id, case_id, substantiated, now, notice is not None and notice.is_open(now))
        )
        if self.state.phase is Phase.POSTPONED and candidate.result == "postponed":
            self._decide(candidate, now)
            self._close_when_decided(now)

    # -- deciding an appointment ------------------------------------------------------

    def _decide(self, candidate: Candidate, now: dt.datetime) -> None:
        post_id = candidate.nominated_post
        assert post_id is not None
        if candidate.substantiated_cases:
            self.record(AppointmentWithheld(candidate.cadre_id, post_id, list(candidate.substantiated_cases), now))
        elif candidate.open_cases:
            if candidate.result != "postponed":
                self.record(AppointmentPostponed(candidate.cadre_id, post_id, list(candidate.open_cases), now))
        else:
            post = next(p for p in self.state.posts if p.post_id == post_id)
            notice_id = self.state.notice.notice_id if self.state.notice else None
            self.record(
                CandidateAppointed(
                    candidate.cadre_id,
                    post.post_id,
                    post.title,
                    self.state.unit,
                    now,
                    notice_id,
                    list(candidate.cleared_cases),
                )
            )

    def _close_when_decided(self, now: dt.datetime) -> None:
        nominees = [c for c in self.state.candidates.values() if c.nominated_post]
        if any(c.result == "postponed" for c in nominees):
            return
        appointed = [c.cadre_id for c in nominees if c.result == "appointed"]
        withheld = [c.cadre_id for c in nominees if c.result == "withheld"]
        self.record(SelectionClosed(appointed, withheld, now))

    # -- events -------------------------------------------------------------------------

    @applies(SupervisionCaseNoted)
    def _case_noted(self, e: SupervisionCaseNoted) -> None:
        self.state.candidates[e.cadre_id].open_cases.append(e.case_id)

    @applies(SupervisionOutcomeNoted)
    def _outcome(self, e: SupervisionOutcomeNoted) -> None:
        candidate = self.state.candidates[e.cadre_id]
        if e.case_id in candidate.open_cases:
            candidate.open_cases.remove(e.case_id)
        (candidate.substantiated_cases if e.substantiated else candidate.cleared_cases).append(e.case_id)

    @applies(AppointmentPostponed)
    def _postponed(self, e: AppointmentPostponed) -> None:
        self.state.phase = Phase.POSTPONED
        self.state.candidates[e.cadre_id].result = "postponed"

    @applies(CandidateAppointed)
    def _appointed(self, e: CandidateAppointed) -> None:
        self.state.candidates[e.cadre_id].result = "appointed"

    @applies(AppointmentWithheld)
    def _withheld(self, e: AppointmentWithheld) -> None:
        self.state.candidates[e.cadre_id].result = "withheld"

    @applies(OutcomeAfterCloseFlagged)
    def _flagged(self, e: OutcomeAfterCloseFlagged) -> None:
        self.state.candidates[e.cadre_id].flagged_cases.append(e.case_id)

    @applies(SelectionClosed)
    def _closed(self, e: SelectionClosed) -> None:
        self.state.phase = Phase.CLOSED
