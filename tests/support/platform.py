"""Running services in tests: in this process, or as separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kombu
from nameko.runners import ServiceRunner

from shared.config import SERVICE_NAMES, Settings
from shared.db.database import Database
from shared.runtime.messaging.inbound import subscriptions_of
from shared.runtime.messaging.topology import dead_letter_name
from shared.runtime.process.control import NotReady, free_port, get_json, launch, wait_ready, wait_until
from shared.runtime.process.provisioning import declare_queues, migrate_service, nameko_config
from shared.runtime.service import ServiceBase

__all__ = [
    "InProcess",
    "Processes",
    "ServiceProcess",
    "reset_apps",
    "service_running",
    "settings_for_tests",
    "wait_until",
]


def log_dir() -> Path:
    """Where service processes started by tests write their logs (``ORGWORK_TEST_LOGS``)."""
    return Path(os.environ.get("ORGWORK_TEST_LOGS", "/tmp/orgwork-test-logs"))


def settings_for_tests(**overrides: Any) -> Settings:
    """The run's settings, quicker to retry and smaller, with ``overrides`` (a section as a dict)."""
    base = Settings.from_env()
    defaults = {
        "handler_backoff": 0.05,
        "handler_attempts": 3,
        "relay_idle_wait": 0.01,
        "db_pool_size": 6,
        "max_workers": 5,
    }
    return base.replace(**{**defaults, **overrides})


def forget_service(database: Database, settings: Settings, name: str) -> None:
    """As if ``name`` had never run: its inbound and dead-letter queues deleted, its schema dropped."""
    with kombu.Connection(settings.amqp_uri) as connection:
        channel = connection.channel()
        for source in SERVICE_NAMES:
            channel.queue_delete(f"{name}.inbox.{source}")
        channel.queue_delete(dead_letter_name(name))
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def reset_apps(database: Database, settings: Settings, *service_classes: type[ServiceBase]) -> None:
    """Drop the apps' schemas and queues, then migrate and declare them afresh."""
    with kombu.Connection(settings.amqp_uri) as connection:
        channel = connection.channel()
        for cls in service_classes:
            for source in sorted({"ledger", "tally", *SERVICE_NAMES, *subscriptions_of(cls)}):
                channel.queue_delete(f"{cls.name}.inbox.{source}")
            channel.queue_delete(dead_letter_name(cls.name))
    with database.transaction() as conn, conn.cursor() as cur:
        for cls in service_classes:
            cur.execute(f'DROP SCHEMA IF EXISTS "{cls.name}" CASCADE')
    for cls in service_classes:
        migrate_service(settings, cls)
    declare_queues(settings, service_classes)


@contextmanager
def service_running(database: Database, service_cls: type[ServiceBase], settings: Settings) -> Iterator[None]:
    """One service, fresh (schema and queues reset), running in this process for the block."""
    with services_running(database, settings, service_cls):
        yield


@contextmanager
def services_running(database: Database, settings: Settings, *service_classes: type[ServiceBase]) -> Iterator[None]:
    """Services, fresh (schemas and queues reset), running in this process for the block."""
    reset_apps(database, settings, *service_classes)
    runners = InProcess()
    runners.start(*service_classes, settings=settings)
    try:
        yield
    finally:
        runners.stop_all()


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

    def start(self) -> ServiceProcess:
        logs = log_dir()
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / f"{self.name}-{self.health_port}.log"
        with self.log_path.open("ab") as log:
            self.process = launch(
                self.target,
                health_port=self.health_port,
                metrics_port=self.metrics_port,
                env={**os.environ, "LOG_FORMAT": "json", **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def url(self, path: str, metrics: bool = False) -> str:
        return f"http://127.0.0.1:{self.metrics_port if metrics else self.health_port}{path}"

    def get(self, path: str) -> tuple[int, Any]:
        """A health endpoint's status and JSON body."""
        return get_json(self.url(path), timeout=5)

    def scrape(self) -> str:
        """The service's Prometheus metrics, as text."""
        with urllib.request.urlopen(self.url("/metrics", metrics=True), timeout=5) as response:
            return str(response.read().decode())

    def wait_ready(self, timeout: float = 60.0) -> ServiceProcess:
        assert self.process is not None
        try:
            wait_ready({self.name: self.health_port}, timeout, {self.name: self.process})
        except NotReady as error:
            raise AssertionError(f"{error} (log: {self.log_path})") from error
        return self

    def status(self) -> dict[str, Any]:
        return dict(self.get("/status")[1])

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
