"""The feedback service on nameko: one line per RPC method, event handler and timer.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly. A submission's
sealed identity is opened first (``_unseal``, with feedback's private key
from ``SECURITY_KEYS_DIR``), so a repeat of the command is compared by the
identity, not by a ciphertext that differs on every send.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from services.feedback import messages as m
from services.feedback import read_models
from services.feedback.domain.events import registry
from services.feedback.domain.submission import Submission
from services.feedback.inbound import OpenedNotice, PublishedNotice, SupervisionCase, SupervisionOutcome, TrainingAnswer
from services.feedback.read_models import monthly as monthly_queries
from services.feedback.read_models import notices as notice_queries
from services.feedback.read_models import statistics as statistics_queries
from services.feedback.read_models import submissions as submission_queries
from services.feedback.read_models.monthly import MonthRow
from services.feedback.read_models.notices import NoticeView
from services.feedback.read_models.statistics import StatisticsRow
from services.feedback.read_models.submissions import CaseView, StaffRow
from services.feedback.service_layer import deadlines as deadline_work
from services.feedback.service_layer import loop as loop_work
from services.feedback.service_layer import notices as notice_work
from services.feedback.service_layer import retention as retention_work
from services.feedback.service_layer import submissions as submission_work
from services.feedback.views import BreachCount, Receipt, SubmissionAck
from shared.application.notice_board import NoticeArchiveQuery
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.periodic import every
from shared.runtime.service import ServiceBase
from shared.security import sealed_identity


def _private_key(service: FeedbackService) -> Callable[[], X25519PrivateKey]:
    """The key identities are sealed to at the gateway (``feedback.hpke.key``), read only when one is to be opened."""
    return functools.partial(sealed_identity.load_private, service.settings.security.keys_dir)


def _unseal(service: FeedbackService, request: m.Submit) -> m.Submit:
    return submission_work.unseal(request, _private_key(service))


class FeedbackService(ServiceBase):
    name = "feedback"
    events = registry
    aggregates = (Submission,)
    projections = read_models.ALL

    # -- the public ------------------------------------------------------------------------

    @rpc_method(request=m.Submit, response=Receipt, prepare=_unseal)
    def submit(self, request: m.Submit) -> Receipt:
        return submission_work.submit(request, self.uow, self.settings.feedback, _private_key(self))

    @rpc_method(request=m.FollowUp, response=SubmissionAck)
    def follow_up(self, request: m.FollowUp) -> SubmissionAck:
        return submission_work.follow_up(request, self.uow, self.settings.feedback)

    @rpc_method(request=m.ReceiptRef, response=CaseView)
    def my_case(self, request: m.ReceiptRef) -> CaseView:
        return submission_work.my_case(request, self.uow, self.settings.feedback)

    @rpc_method(request=m.Close, response=SubmissionAck)
    def close(self, request: m.Close) -> SubmissionAck:
        return submission_work.close(request, self.uow, self.settings.feedback)

    @rpc_method(response=NoticeView, many=True)
    def open_notices(self) -> list[NoticeView]:
        return notice_queries.open_notices(self.uow, self.uow.clock.now(), self.uow.calendar)

    @rpc_method(request=NoticeArchiveQuery, response=NoticeView, many=True)
    def notice_archive(self, query: NoticeArchiveQuery) -> list[NoticeView]:
        """Notices whose window has closed, every service's: the board's archive, by unit and closing dates."""
        return notice_queries.notice_archive(self.uow, self.uow.clock.now(), query)

    # -- the department ----------------------------------------------------------------------

    @rpc_method(request=m.ReplyTo, response=SubmissionAck)
    def reply(self, request: m.ReplyTo) -> SubmissionAck:
        return submission_work.reply(request, self.uow)

    @rpc_method(request=m.ReplyTo, response=SubmissionAck)
    def resolve(self, request: m.ReplyTo) -> SubmissionAck:
        return submission_work.resolve(request, self.uow)

    @rpc_method(request=m.Reject, response=SubmissionAck)
    def reject(self, request: m.Reject) -> SubmissionAck:
        return submission_work.reject(request, self.uow)

    @rpc_method(request=m.Transfer, response=SubmissionAck)
    def transfer(self, request: m.Transfer) -> SubmissionAck:
        return submission_work.transfer(request, self.uow)

    @rpc_method(request=m.Merge, response=SubmissionAck)
    def merge(self, request: m.Merge) -> SubmissionAck:
        return submission_work.merge(request, self.uow)

    @rpc_method(request=m.Reopen, response=SubmissionAck)
    def reopen(self, request: m.Reopen) -> SubmissionAck:
        return submission_work.reopen(request, self.uow)

    @rpc_method(request=m.StaffQuery, response=StaffRow, many=True)
    def submissions(self, query: m.StaffQuery) -> list[StaffRow]:
        return submission_queries.staff_queue(self.uow, query)

    @rpc_method(response=StatisticsRow, many=True)
    def statistics(self) -> list[StatisticsRow]:
        return statistics_queries.statistics(self.uow)

    @rpc_method(response=MonthRow, many=True)
    def open_statistics(self) -> list[MonthRow]:
        """The public's statistics: by month and channel, answered on time or not, and satisfaction."""
        return monthly_queries.open_statistics(self.uow, self.uow.clock.now())

    @rpc_method(response=BreachCount)
    def check_deadlines(self) -> BreachCount:
        return deadline_work.check_deadlines(self.uow)

    @every(lambda settings: settings.feedback.deadline_check_seconds)
    def periodic_deadline_check(self) -> None:
        deadline_work.check_deadlines(self.uow)

    @every(lambda settings: settings.feedback.retention_check_seconds)
    def periodic_retention(self) -> None:
        retention_work.erase_expired(self.uow, self.settings.feedback)

    # -- notices: the generic one (cadre's, grassroots' and talent's), and cadre's older events stores still hold --

    @handles("cadre", "NoticeOpened", payload=OpenedNotice)
    def on_notice_opened(self, notice: OpenedNotice, record: RecordedEvent) -> None:
        notice_work.note_opened(notice_work.CADRE, notice, record, self.uow)

    @handles("grassroots", "NoticeOpened", payload=OpenedNotice)
    def on_grassroots_notice(self, notice: OpenedNotice, record: RecordedEvent) -> None:
        notice_work.note_opened(notice_work.GRASSROOTS, notice, record, self.uow)

    @handles("talent", "NoticeOpened", payload=OpenedNotice)
    def on_talent_notice(self, notice: OpenedNotice, record: RecordedEvent) -> None:
        notice_work.note_opened(notice_work.TALENT, notice, record, self.uow)

    @handles("cadre", "AssessmentPreviewPublished", payload=PublishedNotice)
    def on_assessment_preview(self, notice: PublishedNotice, record: RecordedEvent) -> None:
        notice_work.note_notice(notice_work.ASSESSMENT_PREVIEW, notice, record, self.uow)

    @handles("cadre", "PublicNoticeOpened", payload=PublishedNotice)
    def on_public_notice(self, notice: PublishedNotice, record: RecordedEvent) -> None:
        notice_work.note_notice(notice_work.PRE_APPOINTMENT, notice, record, self.uow)

    # -- the loop closed: what the services a submission was routed to answer ---------------------

    @handles("supervision", "CaseOpened", payload=SupervisionCase)
    def on_case_opened(self, case: SupervisionCase, record: RecordedEvent) -> None:
        loop_work.case_opened(case, record, self.uow)

    @handles("supervision", "SupervisionOutcomeRecorded", payload=SupervisionOutcome)
    def on_supervision_outcome(self, outcome: SupervisionOutcome, record: RecordedEvent) -> None:
        loop_work.outcome_recorded(outcome, record, self.uow)

    @handles("training", "SuggestionAnswered", payload=TrainingAnswer)
    def on_training_answer(self, answer: TrainingAnswer, record: RecordedEvent) -> None:
        loop_work.answer_from_training(answer, record, self.uow)
