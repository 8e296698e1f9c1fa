"""What every part of the selection process shares: the phase guard and the candidates' lookups."""

from __future__ import annotations

import math
from typing import Any

from services.cadre.domain.selection.state import (
    ALLOWED,
    Candidate,
    SelectionState,
)
from shared.domain import Aggregate


class SelectionBase(Aggregate):
    """The selection's state and guards; the commands live in one mixin per part of the process."""

    state: SelectionState

    # -- guards ---------------------------------------------------------------

    def _step(self, command_name: str) -> None:
        phase = self.state.phase
        allowed = ALLOWED[phase]
        self.require(
            command_name in allowed,
            "selection.phase_order",
            f"'{command_name}' is not allowed in phase '{phase}'; "
            + (f"this phase allows: {', '.join(allowed)}" if allowed else "the process is closed"),
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "allowed": list(ALLOWED[self.state.phase])}

    def _candidate(self, cadre_id: str) -> Candidate:
        candidate = self.state.candidates.get(cadre_id)
        self.require(candidate is not None, "selection.unknown_candidate", f"{cadre_id} is not a candidate here")
        assert candidate is not None
        return candidate

    @property
    def shortlisted(self) -> list[Candidate]:
        return [c for c in self.state.candidates.values() if c.shortlisted]

    @property
    def required_shortlist(self) -> int:
        """Differential assessment: more candidates than posts (posts + 1, or the ratio)."""
        posts = len(self.state.posts)
        ratio = self.state.shortlist_ratio
        return max(posts + 1, math.ceil(posts * ratio) if ratio else 0)
