"""Load an RPC method with concurrent callers; print latencies as JSON.

python -m bench.rpc_load --service bench_source --method increment --callers 20 --seconds 5
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import eventlet  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from shared.runtime.messaging.client import rpc_client  # noqa: E402
from shared.security.assertions import Identity  # noqa: E402

#: The platform's commands are made by a verified caller, as through the gateway (its assertion signed per call).
BENCH_CLIENT = Identity("bench", ("bench_client",), "gateway")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    config = {"AMQP_URI": os.environ["AMQP_URI"]}
    latencies: list[float] = []
    deadline = time.perf_counter() + args.warmup + args.seconds
    measuring_from = time.perf_counter() + args.warmup

    def caller(n: int) -> None:
        proxies = (
            rpc_client(timeout=30, identity=BENCH_CLIENT)
            if args.method == "increment"
            else ClusterRpcProxy(config, timeout=30)  # the plain nameko baseline: no identity
        )
        with proxies as proxy:
            method = getattr(getattr(proxy, args.service), args.method)
            i = 0
            while time.perf_counter() < deadline:
                i += 1
                started = time.perf_counter()
                if args.method == "increment":
                    method(counter_id=f"p4-{n}", by=1)
                else:
                    method({"n": i})
                if started >= measuring_from:
                    latencies.append(time.perf_counter() - started)

    pool = eventlet.GreenPool(args.callers)
    for n in range(args.callers):
        pool.spawn(caller, n)
    pool.waitall()
    print(json.dumps({"latencies": latencies, "seconds": args.seconds}))


if __name__ == "__main__":
    main()
