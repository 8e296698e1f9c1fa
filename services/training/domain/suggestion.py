"""A suggestion on training from the public, routed by feedback: received, then answered once.

The answer says whether the suggestion was adopted, and why; feedback gives
it to the submitter, who reads it with their receipt code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.training.domain.events import SuggestionAnswered, SuggestionReceived
from shared.domain import Aggregate, applies, command


@dataclass
class SuggestionState:
    received: bool = False
    text: str = ""
    answered: bool = False


def answer_text(adopted: bool, reasons: str) -> str:
    """What the submitter reads."""
    return f"{'Adopted' if adopted else 'Not adopted'} by the training service: {reasons}"


class Suggestion(Aggregate):
    category = "suggestion"
    State = SuggestionState
    state: SuggestionState

    @command
    def receive(self, text: str, received_at: dt.datetime) -> None:
        if not self.state.received:
            self.record(SuggestionReceived(self.id, text, received_at))

    @command
    def answer(self, adopted: bool, reasons: str, now: dt.datetime) -> None:
        self.require(self.state.received, "suggestion.received", f"no suggestion {self.id} has been received")
        self.require(not self.state.answered, "suggestion.answer_once", f"suggestion {self.id} is answered already")
        self.record(SuggestionAnswered(self.id, adopted, reasons, answer_text(adopted, reasons), now))

    @applies(SuggestionReceived)
    def _received(self, e: SuggestionReceived) -> None:
        self.state.received, self.state.text = True, e.text

    @applies(SuggestionAnswered)
    def _answered(self, e: SuggestionAnswered) -> None:
        self.state.answered = True
