"""P9: the gateway's HTTP requests per second, against nameko's bare ``@http`` entrypoint on the same machine.

Two operations through the gateway (``python -m services.gateway``, its own
process, in front of ``cadre`` in another): the public notice board
(``GET /api/v1/public/notices``: route, rate limit, the public's identity,
one RPC call, a read-model query) and an authenticated command
(``POST /api/v1/cadre/change_roles`` with a bearer token from the local
issuer: the token checked, the roles table, the body validated, the command
carried out once per message, an event appended; each client changes a cadre
of its own, registered first). The baseline is ``bench.apps:PlainHttp``, a
bare nameko ``@http`` answering a small JSON body, run as nameko runs it.
All three are loaded by the same generator (``bench.http_load``), in turns.

There is no numeric goal: the figure is reported with its baseline. It is
``met`` when all three were measured and not one request failed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.environment import BenchEnvironment
from bench.measure import figure, percentile
from shared.config import REPO_ROOT
from shared.runtime.process.control import free_port, launch, stop_all, wait_ready, wait_until
from shared.security import tokens
from shared.security.keys import KeyRing

#: Limits no benchmark reaches: every client is 127.0.0.1, and the limiter still counts every request.
UNLIMITED = "100000000/minute"
NOTICES = "/api/v1/public/notices"
BOARD_PAGE = "/"
COMMAND = "/api/v1/cadre/change_roles"
CLIENTS = 16


@dataclass(frozen=True)
class HttpLoad:
    """One measured window: requests/s answered as expected, their latencies (ms), failures, the generator's CPU."""

    rate: float
    latencies_ms: list[float]
    errors: int
    cpu_share: float


def http_load(url: str, seconds: float, *options: str) -> HttpLoad:
    """Run ``bench.http_load`` against ``url`` with ``CLIENTS`` keep-alive clients."""
    command = [sys.executable, "-m", "bench.http_load", "--url", url, "--clients", str(CLIENTS)]
    command += ["--seconds", str(seconds), "--warmup", "1", *options]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    report = json.loads(result.stdout)
    latencies = [x * 1000 for x in report["latencies"]]
    return HttpLoad(float(report["rate"]), latencies, int(report["errors"]), float(report["cpu_share"]))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


def _post(url: str, body: dict[str, Any], token: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


class GatewayPlatform:
    """``cadre`` and the gateway on the platform, ``plain_http`` on bare nameko; a staff token; cadres to change."""

    def __init__(self, env: BenchEnvironment) -> None:
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.gateway = f"http://127.0.0.1:{free_port()}"
        self.plain = f"http://127.0.0.1:{free_port()}"
        self.token = tokens.issue(KeyRing(env.keys_dir), "staff:bench", ["department_staff"], minutes=60)

    def __enter__(self) -> GatewayPlatform:
        env = {
            **os.environ,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "GATEWAY_PUBLIC_RATE_LIMIT": UNLIMITED,
            "GATEWAY_STAFF_RATE_LIMIT": UNLIMITED,
        }
        log = open(os.environ.get("BENCH_SERVICE_LOG", os.devnull), "ab")
        cadre = free_port()
        self.processes.append(
            launch("cadre", health_port=cadre, metrics_port=free_port(), env=env, stdout=log, stderr=log)
        )
        wait_ready({"cadre": cadre}, 120)
        gateway_port = self.gateway.rsplit(":", 1)[1]
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "services.gateway", "--port", gateway_port],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        plain_env = {**env, "WEB_SERVER_ADDRESS": self.plain.removeprefix("http://")}
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.run_plain", "bench.apps:PlainHttp"],
                cwd=REPO_ROOT,
                env=plain_env,
                stdout=log,
                stderr=log,
            )
        )
        wait_until(lambda: _answers(self.gateway + "/health/ready"), 60, 0.3, "the gateway")
        wait_until(lambda: _answers(self.plain + "/hello"), 60, 0.3, "plain_http")
        for n in range(CLIENTS):
            cadre_id = f"bench-{n}"
            body = {"cadre_id": cadre_id, "name": f"Bench {n}", "unit": "Bench unit", "post_category": "bench"}
            _post(self.gateway + "/api/v1/cadre/register_cadre", body, self.token)
        return self

    def __exit__(self, *exc: Any) -> None:
        stop_all(self.processes)


def p9(platform: GatewayPlatform, quick: bool) -> dict[str, Any]:
    """The notice board, the command and the bare entrypoint, in turns; median rates, pooled latencies."""
    seconds, rounds = (3.0, 1) if quick else (5.0, 3)
    command_body = json.dumps({"cadre_id": "bench-{client}", "leadership_team": True, "head_of_unit": False})
    runs: dict[str, list[HttpLoad]] = {"read": [], "command": [], "plain": []}
    for _ in range(rounds):
        runs["read"].append(http_load(platform.gateway + NOTICES, seconds))
        runs["command"].append(
            http_load(
                platform.gateway + COMMAND,
                seconds,
                "--method",
                "POST",
                "--header",
                f"Authorization: Bearer {platform.token}",
                "--body",
                command_body,
            )
        )
        runs["plain"].append(http_load(platform.plain + "/hello", seconds))
    rate = {name: statistics.median(load.rate for load in loads) for name, loads in runs.items()}
    p99 = {name: percentile([ms for load in loads for ms in load.latencies_ms], 99) for name, loads in runs.items()}
    errors = sum(load.errors for loads in runs.values() for load in loads)
    return figure(
        rate["read"],
        "requests/s",
        "reported with its baseline (nameko's bare @http); met when every request of all three was answered as expected",
        errors == 0 and all(rate.values()),
        {"nameko_http": rate["plain"]},
        public_read_p99_ms=round(p99["read"], 2),
        command_requests_per_second=round(rate["command"], 1),
        command_p99_ms=round(p99["command"], 2),
        command_ratio_nameko_http=round(rate["command"] / rate["plain"], 3) if rate["plain"] else None,
        nameko_http_p99_ms=round(p99["plain"], 2),
        errors=errors,
        clients=CLIENTS,
        load_generator_cpu_share_max=max(load.cpu_share for loads in runs.values() for load in loads),
    )


def p11(platform: GatewayPlatform, quick: bool) -> dict[str, Any]:
    """The public site's notice board page (HTML), against the JSON board it is drawn from, in turns.

    Both are the same RPC call and read-model query behind the gateway; the
    page adds the template, the reader's language and the CSRF cookie. The
    load is bounded: ``CLIENTS`` keep-alive clients on 127.0.0.1, each waiting
    for its answer before it asks again.
    """
    seconds, rounds = (3.0, 1) if quick else (5.0, 3)
    runs: dict[str, list[HttpLoad]] = {"page": [], "json": []}
    for _ in range(rounds):
        runs["page"].append(http_load(platform.gateway + BOARD_PAGE, seconds))
        runs["json"].append(http_load(platform.gateway + NOTICES, seconds))
    rate = {name: statistics.median(load.rate for load in loads) for name, loads in runs.items()}
    latencies = {name: [ms for load in loads for ms in load.latencies_ms] for name, loads in runs.items()}
    errors = sum(load.errors for loads in runs.values() for load in loads)
    return figure(
        percentile(latencies["page"], 50),
        "ms (p50)",
        "the notice board page's p50 and p99 under a bounded load, reported beside the JSON board's; "
        "met when every request was answered as expected",
        errors == 0 and all(rate.values()),
        {"json_board_p50_ms": percentile(latencies["json"], 50)},
        p99_ms=round(percentile(latencies["page"], 99), 2),
        json_board_p99_ms=round(percentile(latencies["json"], 99), 2),
        requests_per_second=round(rate["page"], 1),
        json_board_requests_per_second=round(rate["json"], 1),
        errors=errors,
        clients=CLIENTS,
        load_generator_cpu_share_max=max(load.cpu_share for loads in runs.values() for load in loads),
    )
