"""Load an RPC method with concurrent callers; print latencies, the rate and this process's CPU as JSON.

python -m bench.rpc_load --service bench_source --method increment --callers 20 --seconds 5

Every caller opens its proxy first; the clock starts when all are open (a
warm-up, then the measured window), so that opening 64 connections is not
counted as the service's time. ``cpu_share`` is the CPU this process used
over the window (1.0: one core, all of it): near 1.0 the load generator, not
the service, sets the rate.
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import AbstractContextManager  # noqa: E402
from typing import Any  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from bench.load_window import Window  # noqa: E402
from shared.runtime.messaging.client import rpc_client  # noqa: E402
from shared.security.assertions import Identity  # noqa: E402

#: The platform's commands are made by a verified caller, as through the gateway (its assertion signed per call).
BENCH_CLIENT = Identity("bench", ("bench_client",), "gateway")


def _proxy(service: str, method: str) -> tuple[AbstractContextManager[Any], Callable[[Any, int, int], object]]:
    """The proxy a caller opens and how it calls: the platform's client for a command, bare nameko for the echo."""
    if method == "increment":
        run = os.getpid()  # a counter of each caller's own, in this run only: no two callers conflict
        return rpc_client(timeout=30, identity=BENCH_CLIENT), lambda proxy, n, i: getattr(proxy, service).increment(
            counter_id=f"p4-{run}-{n}", by=1
        )
    plain = ClusterRpcProxy({"AMQP_URI": os.environ["AMQP_URI"]}, timeout=30)  # the plain nameko baseline: no identity
    return plain, lambda proxy, n, i: getattr(getattr(proxy, service), method)({"n": i})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    latencies: list[float] = []
    completed = 0  # calls that ended inside the window, whenever they began: the rate
    window = Window(args.callers, args.warmup, args.seconds)

    def caller(n: int) -> None:
        nonlocal completed
        context, call = _proxy(args.service, args.method)
        with context as proxy:
            window.ready()
            i = 0
            while True:
                started = time.perf_counter()
                if started >= window.end:
                    return
                i += 1
                call(proxy, n, i)
                finished = time.perf_counter()
                if window.start <= finished <= window.end:
                    completed += 1
                    if started >= window.start:
                        latencies.append(finished - started)

    cpu_share = window.run(caller)
    print(
        json.dumps(
            {
                "latencies": latencies,
                "seconds": args.seconds,
                "rate": completed / args.seconds,
                "cpu_share": round(cpu_share, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
