"""What every story of the demo is told with: its narration, its waits, the platform's clock."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from shared.runtime.process.control import wait_until

#: Moves the platform's clock forward (the offset clock the demo moves).
MoveClock = Callable[[dt.timedelta], object]
#: Now on the platform's clock.
Clock = Callable[[], dt.datetime]


def say(service: str, step: str, detail: str = "") -> None:
    print(f"  {service:<12} {step:<34} {detail}", flush=True)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    return wait_until(predicate, timeout, 0.1, what)


def window(view: dict[str, Any], which: str) -> dt.timedelta:
    """How long the view's preview or notice runs (whole working days on the calendar), in whole minutes, plus one.

    Whole minutes: the offset clock then moves by whole seconds, as it always has.
    """
    opens, closes = (dt.datetime.fromisoformat(view[f"{which}_{end}_at"]) for end in ("opens", "closes"))
    return dt.timedelta(minutes=math.ceil((closes - opens).total_seconds() / 60) + 1)


def pass_window(view: dict[str, Any], which: str, move_clock: MoveClock) -> None:
    """Move the platform's clock past the window the view shows."""
    delta = window(view, which)
    move_clock(delta)
    say("clock", f"+{delta.days} days {delta.seconds // 3600} h", f"the {which} window has passed")


def refusal(call: Callable[[], Any]) -> str | None:
    """What refused the call (the rule's name is in it), or None when it went through."""
    try:
        call()
    except Exception as error:  # the gateway's problem over HTTP, the rule's violation over RPC
        return f"{error} {getattr(error, 'problem', '')}"
    return None


def move_past(moment: str, now: Clock, move_clock: MoveClock) -> None:
    """Move the platform's clock a whole minute past ``moment``."""
    delta = dt.timedelta(minutes=math.ceil((dt.datetime.fromisoformat(moment) - now()).total_seconds() / 60) + 1)
    move_clock(delta)
    say("clock", f"+{delta.days} days {delta.seconds // 3600} h", "the notice has closed")
