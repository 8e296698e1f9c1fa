"""What a cadre's record says about standing for promotion, and the periods the rules count over.

The rules themselves are checked by ``SelectionProcess.register_candidate``
(each with the article it comes from); ``CadreRecord.eligibility`` gathers
the facts from the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

#: 《干部教育培训工作条例》(2015) 第十六条: leading cadres' training is counted over five years
#: (每5年累计…), so credit hours are summed over this year and the four before it.
TRAINING_WINDOW_YEARS = 5

#: Appraisal grades are checked for this many years, this one included (see ``selection.registration``).
GRADE_YEARS = 3

#: How long a substantiated supervision finding bars promotion, from its conclusion: one year, the longest
#: period of effect of the measures 《中国共产党组织处理规定(试行)》(2021) 第十八条 sets for
#: organisational measures; the finding's own sanction, when supervision records one, may set another.
FINDING_PERIOD = dt.timedelta(days=365)


@dataclass(frozen=True)
class Eligibility:
    """What the cadre record says about a would-be candidate (``CadreRecord.eligibility``).

    ``grades``: the appraisal grades of the last three years, oldest first;
    ``credit_hours``: the training hours over the rolling window
    (``TRAINING_WINDOW_YEARS``); ``findings``: substantiated supervision
    findings still within their period; ``open_cases``: cases still pending.
    """

    name: str
    latest_grade: str | None
    credit_hours: Decimal
    grades: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    open_cases: tuple[str, ...] = ()


__all__ = ["FINDING_PERIOD", "GRADE_YEARS", "TRAINING_WINDOW_YEARS", "Eligibility"]
