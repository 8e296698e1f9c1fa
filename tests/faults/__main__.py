"""The fault suite: ``make faults`` (``python -m tests.faults``).

Separate from ``make test`` because it stops and restarts the machine's
RabbitMQ and PostgreSQL. Each scenario runs the test apps as processes, as
``make run`` starts services (``ledger`` publishes deposits, ``tally``
handles them), in a sandbox of its own (database and vhost), injects one
fault, and counts:

* accepted: what the publisher stored (events; for commands, commands a client was told succeeded);
* delivered: distinct events the subscriber took (its inbox), or commands applied;
* lost: accepted but never delivered;
* duplicated: effects beyond one per event or command;
* recovery: seconds from the end of the fault until everything accepted was delivered.

It prints a table and exits 1 when anything was lost or duplicated.
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import sys  # noqa: E402

from tests.faults import scenarios  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenario names (default: all)")
    args = parser.parse_args(argv)
    chosen = [s for s in scenarios.ALL if not args.only or s.__name__ in args.only.split(",")]
    results = scenarios.run_all(chosen)
    print()
    print(scenarios.table(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
