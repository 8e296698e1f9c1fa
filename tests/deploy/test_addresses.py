"""Where another process reaches a service: ``<SERVICE>_HOST`` and its health port; ``GATEWAY_HOST`` for the gateway.

orgctl runs where an operator is, not always beside the services: ``orgctl
status`` must ask each service where it runs, and say which address did not
answer rather than stop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.cli import orgctl
from shared.config import (
    SERVICE_NAMES,
    ServiceAddress,
    Settings,
    gateway_address,
    load_services_file,
    service_address,
)
from shared.runtime.process.control import free_port, health_url

#: A loopback address other than the default one: a service found there was looked for there.
ELSEWHERE = "127.0.0.2"
CADRE_STATUS = {
    "service": "cadre",
    "alive": True,
    "ready": True,
    "healthy": True,
    "database": "ok",
    "broker": "ok",
    "relay_lag_events": 0,
    "relay_lag_seconds": 0.0,
}


def test_a_service_is_reached_on_this_machine_unless_its_host_is_set() -> None:
    port = load_services_file()["cadre"]["health_port"]
    assert service_address("cadre", {}) == ServiceAddress("127.0.0.1", port)
    env = {"CADRE_HOST": "cadre.orgwork.svc", "CADRE_HEALTH_PORT": "18101"}
    assert service_address("cadre", env) == ServiceAddress("cadre.orgwork.svc", 18101)
    assert service_address("talent", env).host == "127.0.0.1", "one service's host is not another's"
    assert service_address("cadre", {"CADRE_HOST": ""}).host == "127.0.0.1", "an empty variable is an unset one"


def test_an_ipv6_host_is_put_in_brackets() -> None:
    assert ServiceAddress("::1", 8101).url("/status") == "http://[::1]:8101/status"
    assert ServiceAddress("[::1]", 8101).url() == "http://[::1]:8101"
    assert health_url(8101, "/status", "fd00::5") == "http://[fd00::5]:8101/status"
    assert health_url(8101) == "http://127.0.0.1:8101/health/ready"


def test_the_gateway_is_reached_where_it_listens_or_here_when_it_listens_everywhere() -> None:
    port = load_services_file()["gateway"]["http_port"]
    assert gateway_address(Settings.from_env({})) == ServiceAddress("127.0.0.1", port), "it listens on 0.0.0.0"
    assert gateway_address(Settings.from_env({"GATEWAY_HOST": "::"})).host == "127.0.0.1"
    settings = Settings.from_env({"GATEWAY_HOST": "gateway.orgwork.svc", "GATEWAY_HTTP_PORT": "9080"})
    assert gateway_address(settings) == ServiceAddress("gateway.orgwork.svc", 9080)


@pytest.fixture
def cadre_elsewhere() -> Iterator[int]:
    """A ``/status`` answering as cadre, on ``ELSEWHERE`` only; its port."""

    class Status(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(CADRE_STATUS if self.path == "/status" else {}).encode()
            self.send_response(200 if self.path == "/status" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer((ELSEWHERE, 0), Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def status_rows(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    result = CliRunner().invoke(orgctl.app, ["status", "--json"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, {row["service"]: row for row in json.loads(result.output)}


def test_orgctl_status_asks_each_service_at_its_own_host(cadre_elsewhere: int) -> None:
    silent = free_port()  # nothing listens there: the others are down, whatever runs on this machine
    env = {f"{name.upper()}_HEALTH_PORT": str(silent) for name in SERVICE_NAMES}
    env |= {f"{name.upper()}_HOST": ELSEWHERE for name in SERVICE_NAMES if name != "cadre"}
    env["CADRE_HEALTH_PORT"] = str(cadre_elsewhere)

    code, rows = status_rows(env)
    assert not rows["cadre"]["alive"], "without CADRE_HOST, cadre is looked for on 127.0.0.1, where it is not"
    assert rows["cadre"]["error"] == f"nothing answers at http://127.0.0.1:{cadre_elsewhere}"

    code, rows = status_rows({**env, "CADRE_HOST": ELSEWHERE})
    assert rows["cadre"] == CADRE_STATUS
    assert sorted(rows) == sorted(SERVICE_NAMES)
    for name in set(SERVICE_NAMES) - {"cadre"}:
        assert rows[name] == {
            "service": name,
            "alive": False,
            "ready": False,
            "error": f"nothing answers at http://{ELSEWHERE}:{silent}",
        }
    assert code == 1, "a service down is a problem found"


def test_orgctl_status_reports_a_host_that_does_not_resolve_as_down() -> None:
    env = {f"{name.upper()}_HOST": "nowhere.invalid" for name in SERVICE_NAMES}  # RFC 6761: never resolves
    code, rows = status_rows(env)
    assert code == 1
    assert {name: row["alive"] for name, row in rows.items()} == dict.fromkeys(SERVICE_NAMES, False)
    assert all("nowhere.invalid" in row["error"] for row in rows.values())
