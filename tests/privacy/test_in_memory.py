"""Personal data in a use case on the in-memory unit of work: sealed, opened and erased as on PostgreSQL."""

from __future__ import annotations

import json

from services.feedback.domain.events import ERASED_IDENTITY, SubmissionReceived, SubmitterIdentity
from services.feedback.domain.policy import Category, Channel
from services.feedback.domain.submission import Submission
from services.feedback.entrypoint import FeedbackService
from shared.application import Author
from shared.application.privacy import erase_personal_data, erased_already
from shared.domain.erasure import PersonalDataErased, erasure_stream
from shared.eventstore.records import ERASED
from tests.support.local import memory_uow

TEXT = "Chen Jing here: the village road is broken."


def test_a_submitters_identity_and_text_are_sealed_opened_and_erased_in_memory() -> None:
    uow = memory_uow(FeedbackService)
    identity = SubmitterIdentity("Chen Jing", "+86 139 0000 0000")
    uow.create(
        Submission,
        "s-1",
        lambda s: s.receive(
            Channel.MAILBOX, Category.GENERAL, TEXT, "h" * 64, False, identity, uow.clock.now(), uow.calendar
        ),
        Author("public"),
    )
    uow.create(
        Submission,
        "s-2",
        lambda s: s.receive(
            Channel.MAILBOX, Category.GENERAL, "Another's.", "i" * 64, True, None, uow.clock.now(), uow.calendar
        ),
        Author("public"),
    )
    at_rest = json.dumps([r.data for r in uow.store._committed], ensure_ascii=False)
    assert "Chen Jing" not in at_rest and "+86 139" not in at_rest, "the store holds it sealed"
    (received,) = uow.events_of("submission-s-1")
    loaded = FeedbackService.events.from_record(received)
    assert isinstance(loaded, SubmissionReceived)
    assert (loaded.text, loaded.identity, loaded.identity_sealed) == (TEXT, identity, None), "every read opens it"

    assert erase_personal_data(
        uow, "submitter:s-1", legal_basis="consent withdrawn", requested_by="the submitter", by=Author("operator:test")
    )
    assert erased_already(uow, "submitter:s-1") and not erased_already(uow, "submitter:s-2")
    (received,) = uow.events_of("submission-s-1")
    erased = FeedbackService.events.from_record(received)
    assert isinstance(erased, SubmissionReceived)
    assert erased.text == ERASED and erased.identity == SubmitterIdentity(**ERASED_IDENTITY)
    assert uow.load(Submission, "s-1").state.received, "the aggregate still loads from its erased events"
    (record,) = uow.events_of(erasure_stream("submitter:s-1"))
    assert isinstance(FeedbackService.events.from_record(record), PersonalDataErased)
    assert record.metadata["actor"] == "operator:test" and record.data["key_deleted"] is True
    assert uow.events_of("submission-s-2")[0].data["text"] == "Another's.", "another submitter is untouched"
