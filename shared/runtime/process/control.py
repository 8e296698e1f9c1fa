"""Starting service processes and waiting until they are ready: one way for every caller.

The platform runner, the demo, the CLI, the benchmarks and the tests all start
services and ask how they are; they do it through here. A service answers on
its health port: ``/health/live``, ``/health/ready`` (200 when ready, 503 when
not) and ``/status`` (the figures ``orgctl status`` shows).

Nothing here is green or imports nameko: a supervising process stays a plain one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import IO, Any, TypeVar

from shared.config import DEFAULT_SERVICE_HOST, FROM_CHECKOUT, REPO_ROOT, ServiceAddress

T = TypeVar("T")

LAUNCHER = "shared.runtime.process.launcher"
PLATFORM = "shared.runtime.process.platform"
#: Where a child starts: from a checkout, the checkout, so that ``python -m`` finds the packages even where
#: they are not installed; an installed copy finds them anywhere, so the child starts where its parent runs
#: (relative paths in its settings mean what they meant to the parent).
CHILD_CWD = REPO_ROOT if FROM_CHECKOUT else None


class NotReady(RuntimeError):
    """A service did not get ready in time, or its process ended while starting."""


# -- starting ----------------------------------------------------------------------------


def launch(
    target: str,
    *,
    health_port: int | None = None,
    metrics_port: int | None = None,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """One service as its own process, as ``make run`` starts it (``target``: a name or ``module:Class``)."""
    command = [sys.executable, "-m", LAUNCHER, target]
    if health_port is not None:
        command += ["--health-port", str(health_port)]
    if metrics_port is not None:
        command += ["--metrics-port", str(metrics_port)]
    return subprocess.Popen(
        command, cwd=CHILD_CWD, env=dict(os.environ if env is None else env), stdout=stdout, stderr=stderr
    )


def launch_platform(env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The whole platform (``make run``) in a session of its own, quiet; stop it with ``os.killpg``."""
    return subprocess.Popen(
        [sys.executable, "-m", PLATFORM, "run"],
        cwd=CHILD_CWD,
        env=dict(os.environ if env is None else env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_all(processes: list[subprocess.Popen[bytes]], grace: float = 30.0) -> None:
    """SIGTERM every process, then wait for each (killing one that outlives ``grace``): a clean stop, all at once."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()


def free_port() -> int:
    """A TCP port nothing listens on now (for a service's health or metrics)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- asking --------------------------------------------------------------------------------


def get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    """The status and JSON body of a GET; ``OSError`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read().decode() or "null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "{}")


def health_url(port: int, path: str = "/health/ready", host: str = DEFAULT_SERVICE_HOST) -> str:
    """A URL on a service's health port; ``host`` as ``shared.config.service_address`` gives it."""
    return ServiceAddress(host, port).url(path)


def status(port: int, timeout: float = 2.0, host: str = DEFAULT_SERVICE_HOST) -> dict[str, Any] | None:
    """A service's ``/status``, or None when nothing answers on ``host:port`` (refused, unreachable, unknown)."""
    try:
        return dict(get_json(health_url(port, "/status", host), timeout)[1])
    except (OSError, ValueError):
        return None


def is_ready(port: int, host: str = DEFAULT_SERVICE_HOST) -> bool:
    try:
        return get_json(health_url(port, host=host))[0] == 200
    except (OSError, ValueError):
        return False


# -- waiting -------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> T:
    """Poll until ``predicate()`` is truthy and return it; ``TimeoutError`` naming ``what`` otherwise.

    An exception from ``predicate`` counts as "not yet" and is shown if time runs out.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = predicate()
        except Exception as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def wait_ready(
    ports: Mapping[str, int],
    timeout: float = 120.0,
    processes: Mapping[str, subprocess.Popen[bytes]] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Wait until every named service answers ready; ``NotReady`` names those that did not.

    With ``processes``, a service whose process ends meanwhile is reported at
    once; ``stop`` lets a caller give up early (a Ctrl-C).
    """
    pending, deadline = set(ports), time.monotonic() + timeout
    while pending and not stop():
        for name in sorted(pending):
            process = (processes or {}).get(name)
            if process is not None and process.poll() is not None:
                raise NotReady(f"{name} exited with status {process.returncode} while starting")
            if is_ready(ports[name]):
                pending.discard(name)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise NotReady(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
        time.sleep(0.3)
