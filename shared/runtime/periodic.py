"""Timers whose interval is a setting, read when the service starts, not when it is imported.

``@every(lambda settings: settings.feedback.deadline_check_seconds)`` runs the
method that often. nameko's own ``@timer(interval=...)`` takes a number when
the class is defined, which would freeze a setting at import and keep tests
from choosing it; this one asks the container's settings in ``setup``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from nameko.timer import Timer

from shared.config import Settings
from shared.runtime.resources import settings_of

F = TypeVar("F", bound=Callable[..., Any])


class SettingTimer(Timer):
    """nameko's timer, with its interval taken from the container's settings."""

    def __init__(self, interval_of: Callable[[Settings], float], **kwargs: Any) -> None:
        self.interval_of = interval_of
        super().__init__(interval=0.0, **kwargs)

    def setup(self) -> None:
        interval = float(self.interval_of(settings_of(self.container)))
        if interval <= 0:
            raise ValueError(f"{self.method_name}: a timer's interval must be positive, not {interval}")
        self.interval = interval


def every(interval_of: Callable[[Settings], float]) -> Callable[[F], F]:
    """Run the decorated method every ``interval_of(settings)`` seconds.

    (By keyword: nameko takes a lone callable argument for the method itself.)
    """

    def decorate(fn: F) -> F:
        return SettingTimer.decorator(interval_of=interval_of)(fn)  # type: ignore[no-any-return]

    return decorate
