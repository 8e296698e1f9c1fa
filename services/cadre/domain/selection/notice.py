"""The pre-appointment public notice (任前公示), the holds that supervision's outcomes put on it, and the close."""

from __future__ import annotations

import datetime as dt

from services.cadre.domain.events import (
    PublicNoticeOpened,
    SelectionCancelled,
)
from services.cadre.domain.selection.holds import HoldSteps
from services.cadre.domain.selection.state import (
    Phase,
    Window,
)
from shared.domain import applies, command
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened

#: 《党政领导干部选拔任用工作条例》(2019) 第四十二条: 公示期不少于五个工作日. No override goes below it.
MIN_NOTICE_WORKING_DAYS = 5


class NoticeSteps(HoldSteps):
    @command
    def open_public_notice(
        self,
        notice_id: str,
        now: dt.datetime,
        working_days: int = MIN_NOTICE_WORKING_DAYS,
        *,
        calendar: OrganisationCalendar,
    ) -> None:
        """Open the pre-appointment notice: at least 5 whole working days on the organisation's calendar."""
        self._step("open_public_notice")
        nominees = [c.cadre_id for c in self.state.candidates.values() if c.nominated_post]
        self.require(
            bool(nominees), "selection.no_nominees", "the committee approved nobody: there is nothing to announce"
        )
        self.require(
            working_days >= MIN_NOTICE_WORKING_DAYS,
            "selection.notice_days",
            f"a pre-appointment notice stays open at least {MIN_NOTICE_WORKING_DAYS} working days; "
            f"{working_days} were asked",
        )
        closes_at = calendar.end_of_working_days(now, working_days)
        title, unit = self.state.title, self.state.unit
        self.record(PublicNoticeOpened(notice_id, title, unit, nominees, now, closes_at, working_days))
        self.record(
            NoticeOpened(
                notice_id,
                NoticeKind.PRE_APPOINTMENT,
                self.id,
                list(nominees),
                title,
                unit,
                now,
                closes_at,
                working_days,
            )
        )

    @command
    def cancel(self, reason: str, now: dt.datetime) -> None:
        """End the selection without appointments, at any phase before the close; the reason is required."""
        self._step("cancel")
        self.require(bool(reason and reason.strip()), "selection.cancel_reason", "a cancellation states its reason")
        self.record(SelectionCancelled(reason.strip(), str(self.state.phase), now))

    @command
    def close(self, now: dt.datetime) -> None:
        """At the end of the notice, decide each nominee (公示结果不影响任职的, 办理任职手续):

        a substantiated finding withholds the appointment; a case still open
        postpones it (the process waits for the outcome); otherwise the nominee
        is appointed. The selection closes once no appointment waits.
        """
        self._step("close")
        notice = self.state.notice
        nominated = any(c.nominated_post for c in self.state.candidates.values())
        self.require(
            notice is not None or not nominated,
            "selection.notice_required",
            "nominees are appointed only after a pre-appointment public notice: open it first",
        )
        if notice is not None:
            self.require(
                now >= notice.closes_at,
                "selection.notice_open",
                f"the public notice is open until {notice.closes_at.isoformat()}; the process cannot close before",
            )
        for candidate in self.state.candidates.values():
            if candidate.nominated_post:
                self._decide(candidate, now)
        self._close_when_decided(now)

    @applies(PublicNoticeOpened)
    def _notice_opened(self, e: PublicNoticeOpened) -> None:
        self.state.phase = Phase.PUBLIC_NOTICE
        self.state.notice = Window(e.notice_id, e.opens_at, e.closes_at)

    @applies(SelectionCancelled)
    def _cancelled(self, e: SelectionCancelled) -> None:
        self.state.phase = Phase.CANCELLED
        for candidate in self.state.candidates.values():
            if candidate.result == "postponed":  # cancelled while it waited for a case: never made
                candidate.result = "withheld"

    @applies(NoticeOpened)
    def _notice_published(self, e: NoticeOpened) -> None:
        """The shared contract's copy of the preview or notice: the window is kept from the cadre event."""
