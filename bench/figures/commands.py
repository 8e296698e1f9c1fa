"""P4a and P4b: a command through the platform's RPC, against nameko's plain RPC echo in the same run.

P4a is what a user feels: the latency of one command with one caller, nothing
queued in front of it. P4b is what the platform carries: commands per second
at saturation, with the number of callers that gives the most, against the
echo with as many callers. The callers run in a load generator of their own
(``bench.rpc_load``), one process per measurement, the same for both sides;
it reports its own CPU, so that a run can tell whether it was the limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from bench.figures.services import Platform
from bench.measure import figure, percentile
from shared.config import REPO_ROOT

#: ``bench_source.increment`` through ``rpc_client`` with a verified identity (validate, load, append, reply).
COMMAND = ("bench_source", "increment")
#: nameko's own RPC, a bare echo, called through a bare ``ClusterRpcProxy``.
ECHO = ("plain_source", "echo")
SWEEP_QUICK = (1, 2, 4, 8, 16, 32)
SWEEP_FULL = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Load:
    """One measured window: every call's latency (ms), calls completed per second, the generator's CPU share."""

    latencies_ms: list[float]
    rate: float
    cpu_share: float

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def rpc_load(target: tuple[str, str], callers: int, seconds: float, warmup: float) -> Load:
    """Run ``bench.rpc_load`` against ``target`` (service, method) with ``callers`` at once."""
    service, method = target
    command = [sys.executable, "-m", "bench.rpc_load", "--service", service, "--method", method]
    command += ["--callers", str(callers), "--seconds", str(seconds), "--warmup", str(warmup)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    report = json.loads(result.stdout)
    return Load([x * 1000 for x in report["latencies"]], float(report["rate"]), float(report["cpu_share"]))


def p4a(platform: Platform, quick: bool) -> dict[str, Any]:
    """One caller: the command's latency, and the echo's, in turns (command, echo, command, echo)."""
    seconds, rounds = (3.0, 2) if quick else (6.0, 3)
    commands: list[float] = []
    echoes: list[float] = []
    for _ in range(rounds):
        commands += rpc_load(COMMAND, 1, seconds, warmup=0.5).latencies_ms
        echoes += rpc_load(ECHO, 1, seconds, warmup=0.5).latencies_ms
    p50, p99 = percentile(commands, 50), percentile(commands, 99)
    return figure(
        p50,
        "ms (p50)",
        "p50 < 5 ms, p99 < 20 ms with one caller; ratio to nameko's RPC echo with one caller reported",
        p50 < 5 and p99 < 20,
        {"rpc_echo_p50": percentile(echoes, 50), "rpc_echo_p99": percentile(echoes, 99)},
        ratio_of={"rpc_echo_p99": p99},
        p99_ms=round(p99, 2),
        commands=len(commands),
        echoes=len(echoes),
        callers=1,
    )


def p4b(platform: Platform, quick: bool) -> dict[str, Any]:
    """Commands/s at each number of callers, the echo's after each at the same number; the best count wins."""
    sweep, seconds, warmup = (SWEEP_QUICK, 2.0, 0.5) if quick else (SWEEP_FULL, 4.0, 1.0)
    ours: dict[int, Load] = {}
    echo: dict[int, Load] = {}
    for callers in sweep:
        ours[callers] = rpc_load(COMMAND, callers, seconds, warmup)
        echo[callers] = rpc_load(ECHO, callers, seconds, warmup)
    best = max(sweep, key=lambda n: ours[n].rate)
    echo_best = max(sweep, key=lambda n: echo[n].rate)
    ratio = ours[best].rate / echo[best].rate if echo[best].rate else 0.0
    return figure(
        ours[best].rate,
        "commands/s",
        ">= 0.7x nameko's RPC echo with as many callers, at the number of callers that maximises commands/s",
        ratio >= 0.7,
        {"rpc_echo_same_callers": echo[best].rate, "rpc_echo_best": echo[echo_best].rate},
        callers=best,
        p50_ms=round(ours[best].p(50), 2),
        p99_ms=round(ours[best].p(99), 2),
        echo_best_callers=echo_best,
        load_generator_cpu_share_max=max(load.cpu_share for load in (*ours.values(), *echo.values())),
        sweep={
            str(n): {
                "commands_per_second": round(ours[n].rate, 1),
                "p99_ms": round(ours[n].p(99), 1),
                "echo_calls_per_second": round(echo[n].rate, 1),
                "echo_p99_ms": round(echo[n].p(99), 1),
            }
            for n in sweep
        },
    )
