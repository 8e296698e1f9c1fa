"""``make demo``: the stories told against the platform through the gateway, as its people reach it."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import uuid
from types import SimpleNamespace
from typing import Any

from services.gateway.client import GatewayClient, GatewayError
from services.scenarios.appointment import appointment_under_public_watch
from services.scenarios.common import say, wait_for
from services.scenarios.grassroots import grassroots_in_the_open
from services.scenarios.training import training_opens_the_way
from shared.config import LOCAL_KEYS_DIR, GatewaySettings, Settings, gateway_port, service_ports
from shared.db.clock import OffsetClock, advance_clock
from shared.db.database import Database
from shared.runtime.process.control import is_ready, launch_platform, status
from shared.security import tokens
from shared.security.keys import KeyRing

#: Who the demo acts as, each with a token of the roles their work needs.
DEPARTMENT = ("organization-department", ("selection_officer", "committee_secretary", "department_staff"))
SUPERVISION_OFFICE = ("supervision-office", ("supervision_officer",))
TRAINING_OFFICE = ("training-office", ("training_officer",))
GRASSROOTS_OFFICE = ("grassroots-office", ("grassroots_officer",))
TALENT_OFFICE = ("talent-office", ("talent_officer",))
SERVICES = ("cadre", "talent", "grassroots", "supervision", "training", "feedback")


# -- running it against the platform ---------------------------------------------------


def through_gateway(
    base_url: str, keys: KeyRing, gateway: GatewaySettings, correlation_id: str, timeout: float = 30.0
) -> SimpleNamespace:
    """The platform as the demo's people reach it: the department and the office with tokens, the public without."""

    def client(person: tuple[str, tuple[str, ...]] | None) -> GatewayClient:
        token = None
        if person is not None:
            subject, roles = person
            token = tokens.issue(
                keys, subject, roles, minutes=60, issuer=gateway.token_issuer, audience=gateway.token_audience
            )
        return GatewayClient(base_url, token, timeout=timeout, correlation_id=correlation_id)

    department, office, public = client(DEPARTMENT), client(SUPERVISION_OFFICE), client(None)
    trainers, grassroots, talent = client(TRAINING_OFFICE), client(GRASSROOTS_OFFICE), client(TALENT_OFFICE)
    return SimpleNamespace(
        cadre=department.cadre,
        supervision=office.supervision,
        feedback=public.feedback,
        training=trainers.training,
        grassroots=grassroots.grassroots,
        talent=talent.talent,
    )


def published(base_url: str, run: str) -> None:
    """What the public board of results shows for this run's three selections (once its read model has them)."""
    board = GatewayClient(base_url).cadre

    def this_run() -> list[dict[str, Any]]:
        results = [r for r in board.published_results(limit=50)["items"] if r["process_id"].startswith(run)]
        return results if len(results) == 3 else []

    for result in sorted(wait_for(this_run, "the published results"), key=lambda r: r["process_id"], reverse=True):
        appointed = ", ".join(o["cadre_id"] for o in result["appointed"]) or "nobody"
        withheld = ", ".join(o["cadre_id"] for o in result["withheld"]) or "nobody"
        say("public", "published result", f"{result['process_id']}: appointed {appointed}; withheld {withheld}")


def _ready(name: str) -> dict[str, Any] | None:
    answer = status(service_ports(name).health)
    return answer if answer and answer.get("ready") else None


def _start_platform(gateway_port: int) -> subprocess.Popen[bytes]:
    print("Nothing is running: starting the platform (offset clock) ...", flush=True)
    platform = launch_platform({**os.environ, "CLOCK": "offset"})
    wait_for(
        lambda: all(_ready(name) for name in SERVICES) and is_ready(gateway_port),
        "the platform and its gateway to be ready",
        timeout=150,
    )
    return platform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECURITY_KEYS_DIR", str(LOCAL_KEYS_DIR))
    settings = Settings.from_env()
    port = gateway_port(settings)
    base_url = f"http://127.0.0.1:{port}"
    statuses = {name: _ready(name) for name in SERVICES}
    platform = None
    if not any(statuses.values()) and not is_ready(port):
        platform = _start_platform(port)
    elif not all(statuses.values()) or not is_ready(port):
        missing = [name for name, ready in statuses.items() if not ready] + ([] if is_ready(port) else ["gateway"])
        print(f"A platform is running, but not ready: {', '.join(missing)} (restart `make run`).", file=sys.stderr)
        return 1
    elif any(answer.get("clock") != "offset" for answer in statuses.values() if answer):
        print("The running platform keeps the system clock: start it with `make run` (offset clock).", file=sys.stderr)
        return 1
    database = Database(settings.database_url, size=1, application_name="demo")
    run = uuid.uuid4().hex[:6]
    print(f"Through the gateway at {base_url} (tokens from {settings.security.keys_dir})")
    try:
        people = through_gateway(
            base_url, KeyRing(settings.security.keys_dir), settings.gateway, str(uuid.uuid4()), args.timeout
        )
        now = OffsetClock(database).now
        outcome = appointment_under_public_watch(people, lambda delta: advance_clock(database, delta), run, now)
        print()
        published(base_url, run)
        print(f"\nTraining opens the way (run {run}):")
        trained = training_opens_the_way(people, run, now)
        print(f"\nGrassroots in the open (run {run}):")
        grassroots = grassroots_in_the_open(people, lambda delta: advance_clock(database, delta), run, now)
    except GatewayError as error:
        print(f"\nThe gateway refused: {error} {error.problem}", file=sys.stderr)
        return 1
    finally:
        database.close()
        if platform is not None:
            os.killpg(platform.pid, signal.SIGINT)
            platform.wait(60)
    print()
    print(f"withheld: {outcome.withheld or 'nobody'} (expected {outcome.withheld_nominee})")
    print(f"appointed: {outcome.appointed or 'nobody'} (expected {outcome.clean_nominee})")
    print(f"postponed: {outcome.postponed or 'nobody'} (expected {outcome.postponed_nominee})")
    print(f"then appointed: {outcome.appointed_after_case or 'nobody'} (expected {outcome.postponed_nominee})")
    print(f"inducted on appointment: {outcome.inducted or 'nobody'} (expected {outcome.clean_nominee})")
    print(f"in the talent pool with the post: {outcome.pooled or 'nobody'} (expected {outcome.clean_nominee})")
    print(
        f"training: refused before {trained.refused_before}, completed {trained.completed}, "
        f"{trained.hours_at_cadre} hours at cadre, then admitted {trained.admitted_after}"
    )
    print(
        f"grassroots: branch committee {', '.join(grassroots.elected) or 'nobody'} (secretary {grassroots.secretary}); "
        f"member admitted after the short course: {grassroots.admitted}"
    )
    passed = outcome.passed and trained.passed and grassroots.passed
    print("demo passed" if passed else "demo FAILED")
    return 0 if passed else 1
