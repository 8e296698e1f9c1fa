"""Run a plain nameko service (no platform), as `nameko run` would: for baselines.

python -m bench.run_plain bench.apps:PlainSink
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import importlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402


def main() -> int:
    module, _, name = sys.argv[1].partition(":")
    cls = getattr(importlib.import_module(module), name)
    config = {"AMQP_URI": os.environ["AMQP_URI"], "max_workers": 10, "serializer": "json"}
    if os.environ.get("WEB_SERVER_ADDRESS"):  # where an ``@http`` service listens (nameko's own setting)
        config["WEB_SERVER_ADDRESS"] = os.environ["WEB_SERVER_ADDRESS"]
    runner = ServiceRunner(config)
    runner.add_service(cls)
    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(runner.stop))
    runner.start()
    runner.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
