"""Running services in tests: in this process, or as separate processes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
from nameko.runners import ServiceRunner

from shared.config import REPO_ROOT, Settings
from shared.db.database import Database
from shared.runtime.launcher import nameko_config
from shared.runtime.setup import declare_topology, migrate_service

LOGS = Path(os.environ.get("ORGWORK_TEST_LOGS", "/tmp/orgwork-test-logs"))


def wait_until(
    predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll until ``predicate()`` is truthy; return its value or fail with ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as error:  # not ready yet
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for_tests(**overrides: Any) -> Settings:
    base = Settings.from_env()
    defaults = {"handler_backoff": 0.05, "handler_attempts": 3, "relay_idle_wait": 0.01, "db_pool_size": 6}
    return dataclasses.replace(base, **{**defaults, **overrides})


def reset_apps(database: Database, settings: Settings, *service_classes: type) -> None:
    """Drop the apps' schemas and queues, then migrate and declare them afresh."""
    with kombu.Connection(settings.amqp_uri) as connection:
        channel = connection.channel()
        for cls in service_classes:
            for source in ("ledger", "tally", "cadre", "feedback", "supervision", "training"):
                channel.queue_delete(f"{cls.name}.inbox.{source}")
    with database.transaction() as conn, conn.cursor() as cur:
        for cls in service_classes:
            cur.execute(f'DROP SCHEMA IF EXISTS "{cls.name}" CASCADE')
    for cls in service_classes:
        migrate_service(settings, cls)
    declare_topology(settings, service_classes)


class InProcess:
    """Service containers in the test process (nameko's ServiceRunner)."""

    def __init__(self) -> None:
        self.runners: list[ServiceRunner] = []

    def start(self, *service_classes: type, settings: Settings | None = None) -> ServiceRunner:
        settings = settings or settings_for_tests()
        runner = ServiceRunner(nameko_config(settings, {"health": 0, "metrics": 0}))
        for cls in service_classes:
            runner.add_service(cls)
        runner.start()
        self.runners.append(runner)
        return runner

    def stop_all(self) -> None:
        for runner in reversed(self.runners):
            runner.stop()
        self.runners.clear()


@dataclass
class ServiceProcess:
    """One service as its own process, as `make run` starts it."""

    target: str
    name: str
    env: dict[str, str]
    health_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self) -> "ServiceProcess":
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{self.name}-{self.health_port}.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.runtime.launcher",
                self.target,
                "--health-port",
                str(self.health_port),
                "--metrics-port",
                str(self.metrics_port),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "LOG_FORMAT": "json", **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def url(self, path: str, metrics: bool = False) -> str:
        return f"http://127.0.0.1:{self.metrics_port if metrics else self.health_port}{path}"

    def get(self, path: str, metrics: bool = False) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url(path, metrics), timeout=5) as response:
                body = response.read().decode()
                return response.status, json.loads(body) if not metrics else body
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode())

    def wait_ready(self, timeout: float = 60.0) -> "ServiceProcess":
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            return self.get("/health/ready")[0] == 200

        wait_until(ready, timeout, 0.2, f"{self.name} to be ready (log: {self.log_path})")
        return self

    def status(self) -> dict[str, Any]:
        return self.get("/status")[1]

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class Processes:
    """Starts service processes and makes sure none outlives its test."""

    def __init__(self) -> None:
        self.started: list[ServiceProcess] = []

    def start(self, target: str, name: str, **env: str) -> ServiceProcess:
        proc = ServiceProcess(target, name, {k.upper(): v for k, v in env.items()}).start()
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.process is not None and proc.process.poll() is None:
                proc.terminate(20)
        self.started.clear()
