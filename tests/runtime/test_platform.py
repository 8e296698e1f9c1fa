"""`make run`'s runner: every service (all six are written) in its own process, ready, then stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from shared.config import REPO_ROOT, SERVICE_NAMES
from shared.runtime.process.catalog import existing_services
from tests.support.environment import RunEnvironment
from tests.support.platform import free_port

pytestmark = pytest.mark.slow


def test_the_platform_starts_every_service_prints_its_urls_and_stops_on_ctrl_c(
    test_env: RunEnvironment, tmp_path: Path
) -> None:
    services = existing_services()
    assert services == list(SERVICE_NAMES), "all six services are written, and make run starts every one"
    sink = tmp_path / "audit"  # made by the runner, as `make run` makes .orgwork/audit
    env = {**os.environ, "CLOCK": "offset", "AUDIT_HEAD_SINK": str(sink)}
    ports = {}
    for name in services:
        ports[name] = (free_port(), free_port())
        env[f"{name.upper()}_HEALTH_PORT"], env[f"{name.upper()}_METRICS_PORT"] = map(str, ports[name])
    platform = subprocess.Popen(
        [sys.executable, "-m", "shared.runtime.process.platform", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr.log").open("wb"),
        text=True,
        start_new_session=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        assert platform.stdout is not None
        while time.monotonic() < deadline:
            line = platform.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops every service" in line or platform.poll() is not None:
                break
        output = "".join(lines)
        errors = (tmp_path / "stderr.log").read_text()[-3000:]
        assert "The platform is running" in output, output + errors
        keys_dir = test_env.keys_dir
        assert f"Tree heads: signed every 5 s with {keys_dir}/audit.key" in output, output
        assert f"published to {sink}/<service>.heads.jsonl" in output and sink.is_dir()
        assert f"auditors trust {keys_dir}/audit.pub" in output
        for name, (health, metrics) in ports.items():
            assert f"  {name:<12} http://127.0.0.1:{health}/health/ready" in output, name
            assert f"http://127.0.0.1:{metrics}/metrics" in output
            with urllib.request.urlopen(f"http://127.0.0.1:{health}/health/ready", timeout=5) as response:
                assert json.loads(response.read())["ready"] is True
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5) as response:
                assert b"orgwork_relay_leader" in response.read()
        os.killpg(platform.pid, signal.SIGINT)  # Ctrl-C: the runner and every service get it
        assert platform.wait(60) == 0
    finally:
        if platform.poll() is None:
            os.killpg(platform.pid, signal.SIGKILL)
