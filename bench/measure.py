"""Timing helpers: rates measured side by side, in alternating rounds."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def in_threads(workers: int, work: Callable[[int], None]) -> float:
    """Run ``work(i)`` in ``workers`` OS threads at once; return the wall time."""
    barrier = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as error:  # reported after the run
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def alternate(rounds: int, contenders: dict[str, Callable[[int], float]]) -> dict[str, float]:
    """Median rate of each contender over ``rounds``, run in turns (A B A B ...).

    Each callable gets the round number and returns a rate. Taking turns keeps
    a noisy, shared machine from favouring whoever ran during a quiet moment.
    """
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(rounds):
        for name, run in contenders.items():
            rates[name].append(run(round_))
    return {name: statistics.median(values) for name, values in rates.items()}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def figure(
    value: float,
    unit: str,
    goal: str,
    met: bool,
    baselines: dict[str, float],
    ratio_of: dict[str, float] | None = None,
    **details: Any,
) -> dict[str, Any]:
    """A figure as results.json records it: value, unit, goal, met, a ratio and value per baseline."""
    result: dict[str, Any] = {"value": round(value, 3), "unit": unit, "goal": goal, "met": bool(met)}
    for name, baseline in baselines.items():
        result[f"baseline_{name}"] = round(baseline, 3)
        ours = (ratio_of or {}).get(name, value)
        result[f"ratio_{name}"] = round(ours / baseline, 3) if baseline else None
    result.update(details)
    return result
