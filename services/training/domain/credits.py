"""How a year's credit hours are counted: online hours count for at most a share of the total.

The department sets the share with each year's requirement (``RequirementSet``);
where it has set none, the service's default (``TRAINING_ONLINE_SHARE``) applies.
A share ``s`` means online hours may be at most ``s`` of the counted total, so
they count up to ``offline * s / (1 - s)``: with ``s = 0.5``, no more online
hours than classroom and base hours.
"""

from __future__ import annotations

from decimal import Decimal

ONE = Decimal(1)


def counted_hours(offline: Decimal, online: Decimal, online_share: Decimal) -> Decimal:
    """The year's counted hours: every offline hour, and online hours up to the share."""
    if online_share >= ONE:
        return offline + online
    if online_share <= 0:
        return offline
    cap = offline * online_share / (ONE - online_share)
    return offline + min(online, cap)


def online_hours_counted(offline: Decimal, online: Decimal, online_share: Decimal) -> Decimal:
    return counted_hours(offline, online, online_share) - offline
