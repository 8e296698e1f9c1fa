"""What a verification found: each finding, graded, and the report that gathers them.

Apart from ``verify`` so that the parallel ranges (``parallel``) fill the same
report without importing the verifier that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MANIPULATION = "manipulation"
GAP = "gap"
NOT_YET_COVERED = "not-yet-covered"
#: Most serious first: a report's grade is the most serious of its findings.
GRADES = (MANIPULATION, GAP, NOT_YET_COVERED)


@dataclass(frozen=True)
class Finding:
    service: str
    position: int | None
    kind: str  # altered, deleted, inserted, reordered, tx_id, leaf, head, signature, snapshot, untrusted, uncovered
    detail: str
    grade: str = MANIPULATION

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "position": self.position,
            "kind": self.kind,
            "grade": self.grade,
            "detail": self.detail,
        }


@dataclass
class Report:
    service: str
    events: int = 0
    heads: int = 0
    covered: int = 0  # events covered by the latest head whose root matched
    snapshots: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def grade(self) -> str | None:
        """The most serious grade among the findings; None when there are none."""
        present = {f.grade for f in self.findings}
        return next((g for g in GRADES if g in present), None)

    @property
    def first_position(self) -> int | None:
        positions = [f.position for f in self.findings if f.position is not None and f.grade == MANIPULATION]
        return min(positions) if positions else None

    def add(self, position: int | None, kind: str, detail: str, grade: str = MANIPULATION) -> None:
        self.findings.append(Finding(self.service, position, kind, detail, grade))
