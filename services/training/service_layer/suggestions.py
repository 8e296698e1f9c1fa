"""The public's suggestions on training, routed by feedback: received once, answered once.

The answer (``SuggestionAnswered``) goes back to feedback, which gives it to
the submitter as a reply they read with their receipt code.
"""

from __future__ import annotations

from services.training import messages as m
from services.training.domain.suggestion import Suggestion
from services.training.inbound import RoutedSuggestion
from services.training.views import SuggestionView, suggestion_view
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent


def receive(suggestion: RoutedSuggestion, record: RecordedEvent, uow: UnitOfWork) -> None:
    with uow.transaction():
        received = uow.load_or_new(Suggestion, suggestion.submission_id)
        received.receive(suggestion.text, suggestion.received_at)
        uow.save(received, uow.system("suggestion routed from feedback"))


def answer(request: m.AnswerSuggestion, uow: UnitOfWork) -> SuggestionView:
    now = uow.clock.now()
    suggestion, _ = uow.update(
        Suggestion, request.submission_id, lambda s: s.answer(request.adopted, request.reasons, now), request
    )
    return suggestion_view(suggestion)
