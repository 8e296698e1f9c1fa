"""The four appraisal grades (优秀/称职/基本称职/不称职) and how a score maps to one."""

from __future__ import annotations

from decimal import Decimal

EXCELLENT = "excellent"
COMPETENT = "competent"
BASICALLY_COMPETENT = "basically_competent"
INCOMPETENT = "incompetent"

GRADES: tuple[str, ...] = (EXCELLENT, COMPETENT, BASICALLY_COMPETENT, INCOMPETENT)


def grade_for(score: Decimal, excellent: Decimal, competent: Decimal, basically_competent: Decimal) -> str:
    """The grade a score earns under a cycle's thresholds (each a lower bound)."""
    if score >= excellent:
        return EXCELLENT
    if score >= competent:
        return COMPETENT
    if score >= basically_competent:
        return BASICALLY_COMPETENT
    return INCOMPETENT
