"""The public writes in, follows up and closes by receipt code; the department answers.

A complaint about a cadre is routed to supervision and a suggestion on
training to training, by the events the submission records. A submission
that names a cadre under an open notice is attached to that notice (its
notice and process ids), on any channel, whether or not it named the notice
or the process: so the routed complaint carries the process to supervision,
and the decision waits for its case. Deadlines count on the organisation's
calendar (``uow.calendar``).

The receipt code is shown once and only its hash is kept; an identity, like the
text, is personal data of ``submitter:<submission id>``, kept only sealed
under that subject's key by the store (``shared.privacy``). Through the
gateway, it arrives sealed to this service's key (``sealed_identity``,
``shared.security.sealed_identity``), so it crossed the broker unreadable;
``unseal`` opens it, holds it to the same rules as one given in clear, and
the submission then proceeds exactly as with ``identity``. Every use of the
public's channels counts against a rate limit first, in a transaction of its
own, so refused and failing requests count too.

The department replies, resolves, rejects (with a reason), transfers, merges
a duplicate into another submission, and reopens; the actor is always the
verified caller.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from services.feedback import messages as m
from services.feedback.domain.events import SubmitterIdentity
from services.feedback.domain.policy import Category
from services.feedback.domain.submission import Submission
from services.feedback.protection import IdentitySeal, new_receipt_code, receipt_hash
from services.feedback.read_models import notices, submissions
from services.feedback.read_models.submissions import CaseView
from services.feedback.service_layer import deadlines
from services.feedback.service_layer.notices import CADRE
from services.feedback.views import Receipt, SubmissionAck, submission_ack
from shared.application import Author, UnitOfWork, ratelimit
from shared.application.sweeps import report_missed
from shared.config import FeedbackSettings
from shared.domain import schemas
from shared.errors import NotFound, ValidationFailed
from shared.security import sealed_identity

PUBLIC = "public"
WINDOW_SECONDS = 3600
ROUTED_TO = {Category.COMPLAINT_ABOUT_CADRE: "supervision", Category.SUGGESTION_ON_TRAINING: "training"}


def unseal(request: m.Submit, private_key: Callable[[], X25519PrivateKey]) -> m.Submit:
    """``request`` with its ``sealed_identity`` opened into ``identity`` (unchanged without one).

    ``private_key`` is asked for only when there is something to open, so
    anonymous submissions need no key. What does not open, or opens to
    anything but a valid ``Identity``, is a ``ValidationFailed`` naming
    ``sealed_identity`` (with the rule broken, never the value).
    """
    if request.sealed_identity is None:
        return request
    message = "invalid arguments to submit"
    if request.identity is not None:  # the schema refuses both; a request built in code is held to it too
        both = ["give identity or sealed_identity, not both"]
        raise ValidationFailed({"identity": both, "sealed_identity": both}, message)
    try:
        opened = sealed_identity.open(private_key(), request.sealed_identity)
    except ValueError as error:
        raise ValidationFailed({"sealed_identity": [str(error)]}, message) from None
    try:
        identity = schemas.load(m.Identity, opened, message=message, request=True)
    except ValidationFailed as error:
        raise ValidationFailed({"sealed_identity": error.errors}, message) from None
    return dataclasses.replace(request, identity=identity, sealed_identity=None)


def submit(
    request: m.Submit,
    uow: UnitOfWork,
    settings: FeedbackSettings,
    private_key: Callable[[], X25519PrivateKey] | None = None,
) -> Receipt:
    """Take a submission; the reply carries the receipt code, shown this once.

    A sealed identity is opened with ``private_key`` (``unseal``) first; the
    entrypoint has usually done so already, to compare repeats of a command.
    """
    if request.sealed_identity is not None:
        if private_key is None:
            raise ValueError("a sealed identity needs feedback's private key to open")
        request = unseal(request, private_key)
    now, calendar = uow.clock.now(), uow.calendar
    seal = IdentitySeal(settings.identity_key, settings.source_key)
    given = None if request.anonymous else request.identity
    identity = SubmitterIdentity(given.name, given.contact) if given is not None else None
    code = new_receipt_code()
    ratelimit.hit(uow, "source", seal.source_key(request.source), settings.source_limit, WINDOW_SECONDS, now)
    known = notices.known_notice(uow, request.notice_id) if request.notice_id is not None else None
    if request.notice_id is not None and known is None:
        raise NotFound("notice", request.notice_id)
    if known is None and request.cadre_id is not None:  # the cadre may be under a notice all the same
        known = notices.open_notice_naming(uow, CADRE, request.cadre_id, now, request.process_id)
    submission, _ = uow.create(
        Submission,
        uuid.uuid4().hex,
        lambda s: s.receive(
            request.channel,
            request.category,
            request.text,
            receipt_hash(code),
            request.anonymous,
            identity,
            now,
            calendar,
            cadre_id=request.cadre_id,
            notice=known.window if known else None,
            process_id=request.process_id,
        ),
        Author(PUBLIC, f"{request.channel} submission"),
        # a comment on a notice continues the notice's story, caused by it
        correlation_id=known.correlation_id if known else None,
        causation_id=known.event_id if known else None,
    )
    state = submission.state
    assert state.first_reply_due is not None and state.resolution_due is not None
    return Receipt(
        submission.id,
        code,
        state.first_reply_due,
        state.resolution_due,
        ROUTED_TO.get(request.category),
        identity is not None,
        state.notice_id,
    )


def _by_receipt(uow: UnitOfWork, code: str, settings: FeedbackSettings, now: dt.datetime) -> str:
    """The submission a receipt code opens; every use of a code counts against its limit."""
    ratelimit.hit(uow, "receipt", receipt_hash(code), settings.receipt_limit, WINDOW_SECONDS, now)
    submission_id = submissions.submission_id_by_receipt(uow, receipt_hash(code))
    if submission_id is None:
        raise NotFound("submission with this receipt code", "(receipt code withheld)")
    return submission_id


def follow_up(request: m.FollowUp, uow: UnitOfWork, settings: FeedbackSettings) -> SubmissionAck:
    now = uow.clock.now()
    submission_id = _by_receipt(uow, request.receipt_code, settings, now)
    submission, _ = uow.update(Submission, submission_id, lambda s: s.follow_up(request.text, now), Author(PUBLIC))
    return submission_ack(submission)


def my_case(request: m.ReceiptRef, uow: UnitOfWork, settings: FeedbackSettings) -> CaseView:
    """What a submitter sees with their receipt code: status and replies."""
    _by_receipt(uow, request.receipt_code, settings, uow.clock.now())
    case = submissions.by_receipt(uow, receipt_hash(request.receipt_code))
    if case is None:  # the read model has not caught up with the submission yet
        raise NotFound("submission with this receipt code", "(receipt code withheld)")
    return case


def close(request: m.Close, uow: UnitOfWork, settings: FeedbackSettings) -> SubmissionAck:
    now = uow.clock.now()
    submission_id = _by_receipt(uow, request.receipt_code, settings, now)
    submission, _ = uow.update(
        Submission, submission_id, lambda s: s.close(request.rating, request.comment, now), Author(PUBLIC)
    )
    return submission_ack(submission)


def reply(request: m.ReplyTo, uow: UnitOfWork) -> SubmissionAck:
    now = uow.clock.now()
    submission, recorded = uow.update(
        Submission, request.submission_id, lambda s: s.reply(request.actor, request.text, now), Author(request.actor)
    )
    report_missed(uow, recorded, deadlines.missed)  # a first reply past its deadline records its breach
    return submission_ack(submission)


def resolve(request: m.ReplyTo, uow: UnitOfWork) -> SubmissionAck:
    """The department resolves a case (its text is the resolution); the submitter may rate it later."""
    now = uow.clock.now()
    submission, recorded = uow.update(
        Submission, request.submission_id, lambda s: s.resolve(request.actor, request.text, now), Author(request.actor)
    )
    report_missed(uow, recorded, deadlines.missed)
    return submission_ack(submission)


def reject(request: m.Reject, uow: UnitOfWork) -> SubmissionAck:
    """Decline to take it up; the reason is the answer the submitter reads."""
    now = uow.clock.now()
    submission, _ = uow.update(
        Submission, request.submission_id, lambda s: s.reject(request.actor, request.reason, now), request
    )
    return submission_ack(submission)


def transfer(request: m.Transfer, uow: UnitOfWork) -> SubmissionAck:
    now = uow.clock.now()
    submission, _ = uow.update(
        Submission, request.submission_id, lambda s: s.transfer(request.actor, request.to, request.note, now), request
    )
    return submission_ack(submission)


def merge(request: m.Merge, uow: UnitOfWork) -> SubmissionAck:
    """Merge a duplicate into another submission, which must exist and still be open."""
    now = uow.clock.now()
    target = uow.load(Submission, request.into)
    submission, _ = uow.update(
        Submission, request.submission_id, lambda s: s.merge_into(request.actor, target, now), request
    )
    return submission_ack(submission)


def reopen(request: m.Reopen, uow: UnitOfWork) -> SubmissionAck:
    """Take it up again; the new resolution deadline counts on the organisation's calendar."""
    now, calendar = uow.clock.now(), uow.calendar
    submission, _ = uow.update(
        Submission, request.submission_id, lambda s: s.reopen(request.actor, request.reason, now, calendar), request
    )
    return submission_ack(submission)
