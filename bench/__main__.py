"""Run the benchmark suite: ``python -m bench [--quick] [--only P1,P3]``.

Every figure is measured together with its baselines in the same run (taking
turns where it matters), on a database and a vhost of the run's own. Prints a
table and writes ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import environment
from bench.figures import audit, catchup, store
from shared.config import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results.json"
BENCH_PYTHON = REPO_ROOT / ".bench-venv" / "bin" / "python"
ORDER = ("P1", "P2", "P3", "P4a", "P4b", "P5", "P6", "P7", "P8", "P9", "P10", "P11")


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def eventsourcing_baseline(url: str, p1_events: int, p2_events: int) -> dict[str, Any] | None:
    """The eventsourcing library's figures, from its bench-only environment."""
    if not BENCH_PYTHON.exists():
        print("  (no .bench-venv: the eventsourcing baseline is skipped; `make bench` builds it)", flush=True)
        return None
    result = subprocess.run(
        [
            str(BENCH_PYTHON),
            str(REPO_ROOT / "bench" / "baseline_eventsourcing.py"),
            "--dsn",
            url,
            "--p1-events",
            str(p1_events),
            "--p1-writers",
            str(store.WRITERS),
            "--p2-events",
            str(p2_events),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        print(f"  eventsourcing baseline failed: {result.stderr[-2000:]}", file=sys.stderr, flush=True)
        return None
    return dict(json.loads(result.stdout))


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'id':<4} {'value':>12} {'unit':<10} {'met':<4} baselines (value, ratio ours/baseline)")
    for key in ORDER:
        if key not in results:
            continue
        r = results[key]
        baselines = ", ".join(
            f"{name[9:]}={r[name]:,.1f} (x{r['ratio_' + name[9:]]})" for name in r if name.startswith("baseline_")
        )
        print(f"{key:<4} {r['value']:>12,.2f} {r['unit']:<10} {'yes' if r['met'] else 'NO':<4} {baselines}")
        print(f"     goal: {r['goal']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    parser.add_argument("--only", default=",".join(ORDER), help="comma-separated figure ids")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    asked = {f.strip().upper() for f in args.only.split(",")}
    # ``P4`` asks for P4a and P4b
    wanted = {key for key in ORDER if key.upper() in asked or key.upper().rstrip("AB") in asked}
    sizes = store.QUICK if args.quick else store.FULL
    started = time.perf_counter()
    env = environment.create()
    env.export()
    results: dict[str, Any] = {}
    try:
        es = None
        if wanted & {"P1", "P2"}:
            print("eventsourcing baseline ...", flush=True)
            es = eventsourcing_baseline(env.database_url, sizes.p1_events, sizes.p2_events)
        es_p1 = es["p1"]["events_per_second"] if es else None
        es_p2 = es["p2"]["events_per_second"] if es else None
        appends = store.Appends(env.database_url)
        try:
            if wanted & {"P1", "P7"}:
                print("P1 appends ...", flush=True)
                results["P1"] = store.p1(appends, sizes, es_p1)
            if "P7" in wanted:
                print(f"P7 growth: filling {sizes.p7_fill:,} events ...", flush=True)
                results["P7"] = store.p7(appends, sizes, results["P1"]["value"])
            if wanted & {"P8", "P10"} and "P7" not in wanted:
                print(f"P8 and P10 need a full store: filling {sizes.p7_fill:,} events ...", flush=True)
                appends.fill(sizes.p7_fill)
            if "P8" in wanted:
                print("P8 catch-up of a new subscription ...", flush=True)
                results["P8"] = catchup.p8(env, appends.database)
            if "P10" in wanted:
                print("P10 inclusion proofs: building the tree ...", flush=True)
                results["P10"] = audit.p10(appends.database)
        finally:
            appends.close()
        if wanted & {"P2", "P6"}:
            print(f"P2 rebuild: storing {sizes.p2_events:,} events ...", flush=True)
            rebuild = store.Rebuild(env.database_url, sizes.p2_events)
            try:
                if "P2" in wanted:
                    print("P2 rebuild ...", flush=True)
                    results["P2"] = store.p2(rebuild, es_p2)
                if "P6" in wanted:
                    print("P6 verification ...", flush=True)
                    results["P6"] = store.p6(rebuild)
            finally:
                rebuild.close()
        if "P5" in wanted:
            print("P5 aggregate load ...", flush=True)
            results["P5"] = store.p5(env.database_url, sizes)
        if wanted & {"P3", "P4a", "P4b"}:
            from bench.figures import commands, services

            with services.Platform(env) as running:
                if "P3" in wanted:
                    print("P3 relay pipeline ...", flush=True)
                    results["P3"] = services.p3(running, quick=args.quick)
                if "P4a" in wanted:
                    print("P4a RPC command latency, one caller ...", flush=True)
                    results["P4a"] = commands.p4a(running, quick=args.quick)
                if "P4b" in wanted:
                    print("P4b RPC commands at saturation ...", flush=True)
                    results["P4b"] = commands.p4b(running, quick=args.quick)
        if wanted & {"P9", "P11"}:
            from bench.figures import gateway

            with gateway.GatewayPlatform(env) as serving:
                if "P9" in wanted:
                    print("P9 gateway HTTP ...", flush=True)
                    results["P9"] = gateway.p9(serving, quick=args.quick)
                if "P11" in wanted:
                    print("P11 the notice board page under load ...", flush=True)
                    results["P11"] = gateway.p11(serving, quick=args.quick)
    finally:
        environment.destroy(env)
    document = {
        **{key: results[key] for key in ORDER if key in results},
        "machine": machine(),
        "mode": "quick" if args.quick else "full",
        "eventsourcing": es,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(document, indent=2))
    print_table(results)
    print(f"\nwritten to {args.out} in {document['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
