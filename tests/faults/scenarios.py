"""The fault scenarios: each one fault, injected into the test apps running as processes."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import kombu
import psycopg2

from shared.config import Settings
from shared.db.database import Database, dsn_for_database
from shared.runtime.messaging.client import rpc_client
from shared.runtime.process import sandbox
from tests.support import foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.environment import TEST_APPS
from tests.support.identities import EVERY_ROLE
from tests.support.platform import Processes, ServiceProcess, reset_apps, settings_for_tests, wait_until
from tests.support.probes import deposit_directly

LEDGER = "tests.support.apps.ledger.service:Ledger"
TALLY = "tests.support.apps.tally.service:Tally"


@dataclass
class Result:
    scenario: str
    accepted: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    recovery: float | None = None
    note: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.lost == 0 and self.duplicated == 0


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | accepted | delivered | lost | duplicated | recovery (s) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        recovery = f"{r.recovery:.1f}" if r.recovery is not None else "-"
        note = r.note if r.error is None else f"FAILED: {r.error}"
        lines.append(
            f"| {r.scenario} | {r.accepted} | {r.delivered} | {r.lost} | {r.duplicated} | {recovery} | {note} |"
        )
    return "\n".join(lines)


# -- the rig ---------------------------------------------------------------------------------


class Rig:
    """A sandbox (database and vhost) with ledger and tally provisioned, and their processes."""

    def __init__(self, name: str) -> None:
        self.sandbox = sandbox.create(f"orgwork_faults_{name}_{os.getpid()}_{secrets.token_hex(2)}", TEST_APPS)
        self.sandbox.export()
        self.settings = Settings.from_env()
        self.database = Database(self.sandbox.database_url, size=6, application_name="faults")
        reset_apps(self.database, settings_for_tests(), Ledger, Tally)
        self.processes = Processes()

    def start(self, target: str, name: str, **env: str) -> ServiceProcess:
        return self.processes.start(target, name, **env).wait_ready(90)

    def scalar(self, sql: str, params: Any = ()) -> int:
        for _ in range(60):  # the faults may take the database away for a while
            try:
                with self.database.transaction() as conn, conn.cursor() as cur:
                    cur.execute(sql, params)
                    row = cur.fetchone()
                    return int(row[0]) if row and row[0] is not None else 0
            except psycopg2.OperationalError:
                time.sleep(1)
        raise RuntimeError("the database stayed away")

    def stored(self, prefix: str) -> int:
        return self.scalar("SELECT count(*) FROM ledger.events WHERE stream_id LIKE %s", [f"account-{prefix}%"])

    def handled(self, prefix: str) -> int:
        return self.scalar("SELECT count(*) FROM tally.inbox WHERE stream_id LIKE %s", [f"account-{prefix}%"])

    def effects(self, prefix: str) -> int:
        return self.scalar("SELECT count(*) FROM tally.events WHERE stream_id LIKE %s", [f"tally-{prefix}%"])

    def wait_delivered(self, prefix: str, since: float, timeout: float = 120.0) -> float:
        """Seconds from ``since`` until every stored event of ``prefix`` was handled."""
        wait_until(
            lambda: self.handled(prefix) >= self.stored(prefix) > 0,
            timeout=timeout,
            interval=0.1,
            what=f"every {prefix} event to be handled",
        )
        return time.monotonic() - since

    def events_result(self, scenario: str, prefix: str, recovery: float | None, note: str = "") -> Result:
        accepted, distinct, effects = self.stored(prefix), self.handled(prefix), self.effects(prefix)
        return Result(scenario, accepted, distinct, accepted - distinct, effects - distinct, recovery, note)

    def close(self) -> None:
        self.processes.stop_all()
        self.database.close()
        sandbox.destroy(self.sandbox)


class Stream:
    """Deposits appended straight to ledger's store, ``rate`` a second, in a thread, until stopped."""

    def __init__(self, rig: Rig, prefix: str, rate: float = 40.0, accounts: int = 5) -> None:
        self.rig, self.prefix, self.rate, self.accounts = rig, prefix, rate, accounts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.errors = 0

    def __enter__(self) -> Stream:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            try:
                deposit_directly(self.rig.database, f"{self.prefix}-{n % self.accounts}", 1)
                n += 1
            except Exception:
                self.errors += 1  # the database is away: this deposit was never accepted
                time.sleep(0.2)
            time.sleep(1 / self.rate)


class Commands:
    """Deposits as RPC commands from several clients, each with its own command id, retried until acknowledged.

    Several clients keep commands in flight, so that a fault lands between a
    command's commit and its acknowledgement: the broker then delivers it
    again, to the restarted service.
    """

    def __init__(self, rig: Rig, prefix: str, clients: int = 4, rate: float = 10.0) -> None:
        self.rig, self.prefix, self.rate = rig, prefix, rate
        self.acknowledged: list[str] = []
        self.retries = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Commands:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(180)

    def _run(self, client: int) -> None:
        n = 0
        with rpc_client(timeout=5, identity=EVERY_ROLE) as rpc:
            while not self._stop.is_set():
                command_id = str(uuid.uuid4())
                while True:  # a client that times out retries the same command
                    try:
                        rpc.ledger.deposit(account_id=f"{self.prefix}-{client}", amount=1, command_id=command_id)
                        break
                    except Exception:
                        self.retries += 1
                        time.sleep(0.5)
                self.acknowledged.append(command_id)
                n += 1
                time.sleep(1 / self.rate)


def postgres_cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


# -- the scenarios ----------------------------------------------------------------------------


def broker_restart(rig: Rig) -> Result:
    rig.start(LEDGER, "ledger")
    rig.start(TALLY, "tally")
    with Stream(rig, "br"):
        time.sleep(1)
        began = time.monotonic()
        rabbitmqctl("stop_app")
        time.sleep(5)
        rabbitmqctl("start_app")
        time.sleep(2)
    return rig.events_result("broker stopped 5 s and restarted", "br", rig.wait_delivered("br", began))


def postgres_restart(rig: Rig) -> Result:
    rig.start(LEDGER, "ledger")
    rig.start(TALLY, "tally")
    with Commands(rig, "pg") as commands:
        time.sleep(2)
        began = time.monotonic()
        subprocess.run([*postgres_cluster(), "restart"], check=True, capture_output=True, timeout=120)
        time.sleep(3)
    recovery = rig.wait_delivered("pg", began)
    return command_result("PostgreSQL restarted mid-stream of commands", rig, "pg", commands, recovery)


def command_result(scenario: str, rig: Rig, prefix: str, commands: Commands, recovery: float) -> Result:
    accepted = len(set(commands.acknowledged))
    applied = rig.stored(prefix)
    distinct = rig.handled(prefix)
    effects = rig.effects(prefix)
    note = f"{commands.retries} client retries; {applied} stored, {distinct} handled by tally"
    duplicated = (applied - accepted) + (effects - distinct)
    return Result(scenario, accepted, distinct, accepted - distinct, duplicated, recovery, note)


def kill_command_service(rig: Rig) -> Result:
    ledger = rig.start(LEDGER, "ledger")
    rig.start(TALLY, "tally")
    with Commands(rig, "kc") as commands:
        time.sleep(2)
        began = time.monotonic()
        ledger.kill9()
        rig.start(LEDGER, "ledger")
        time.sleep(2)
    recovery = rig.wait_delivered("kc", began)
    return command_result("SIGKILL of the command service mid-stream", rig, "kc", commands, recovery)


def kill_handler_service(rig: Rig) -> Result:
    rig.start(LEDGER, "ledger")
    tally = rig.start(TALLY, "tally")
    with Stream(rig, "kh"):
        time.sleep(2)
        began = time.monotonic()
        tally.kill9()
        rig.start(TALLY, "tally")
        time.sleep(2)
    return rig.events_result("SIGKILL of the handler service mid-stream", "kh", rig.wait_delivered("kh", began))


def sigstop_relay_leader(rig: Rig) -> Result:
    first = rig.start(LEDGER, "ledger", relay_lease_seconds="10")
    second = rig.start(LEDGER, "ledger", relay_lease_seconds="10")
    rig.start(TALLY, "tally")
    wait_until(lambda: first.status()["relay_leader"] != second.status()["relay_leader"], what="one leader")
    leader, follower = (first, second) if first.status()["relay_leader"] else (second, first)
    with Stream(rig, "ss"):
        time.sleep(1)
        began = time.monotonic()
        os.kill(leader.pid, signal.SIGSTOP)
        wait_until(lambda: follower.status()["relay_leader"], timeout=60, what="the follower to take over")
        took_over = time.monotonic() - began
        time.sleep(2)
    recovery = rig.wait_delivered("ss", began)
    os.kill(leader.pid, signal.SIGCONT)
    return rig.events_result(
        "SIGSTOP of the relay leader", "ss", recovery, f"the follower took over after {took_over:.1f} s"
    )


def unrelated_long_transaction(rig: Rig) -> Result:
    rig.start(LEDGER, "ledger")
    rig.start(TALLY, "tally")
    elsewhere = psycopg2.connect(dsn_for_database(rig.sandbox.database_url, "postgres"))
    try:
        with elsewhere.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # another database: an id, held open
        with Stream(rig, "lt"):
            time.sleep(5)
        last = time.monotonic()
        recovery = rig.wait_delivered("lt", last)
    finally:
        elsewhere.rollback()
        elsewhere.close()
    return rig.events_result(
        "an unrelated transaction held open (another database)", "lt", recovery, "recovery: after the last append"
    )


def late_subscriber(rig: Rig) -> Result:
    with kombu.Connection(rig.sandbox.amqp_uri) as connection:
        connection.channel().queue_delete("tally.inbox.ledger")
    rig.start(LEDGER, "ledger")
    with Stream(rig, "ls"):
        time.sleep(3)
    began = time.monotonic()
    rig.start(TALLY, "tally")
    return rig.events_result(
        "a late subscriber (tally starts after ledger published)", "ls", rig.wait_delivered("ls", began)
    )


def _event(stream: str, data: str, **overrides: Any) -> bytes:
    envelope = foreign.envelope("ledger", "Deposited", stream, {"amount": 1, "note": ""})
    envelope.update(overrides)
    return json.dumps(envelope).replace('{"amount": 1, "note": ""}', data).encode()


def poison_messages(rig: Rig) -> Result:
    ledger = rig.start(LEDGER, "ledger")
    tally = rig.start(TALLY, "tally")
    uri = rig.sandbox.amqp_uri
    request = json.dumps({"args": [], "kwargs": {"account_id": "x", "amount": 1}}).encode()
    sent = {
        "rpc without reply_to": lambda: foreign.publish_raw(uri, "nameko-rpc", "ledger.deposit", request),
        "rpc not json": lambda: foreign.publish_raw(uri, "nameko-rpc", "ledger.deposit", b"{no", reply_to="x"),
        "rpc text/plain": lambda: foreign.publish_raw(uri, "nameko-rpc", "ledger.deposit", b"x", "text/plain"),
        "event metadata not an object": lambda: foreign.publish_raw(
            uri, "ledger.events", "Deposited", _event("account-pm-0", '{"amount": 1, "note": ""}', metadata="x")
        ),
        "event with NaN": lambda: foreign.publish_raw(
            uri, "ledger.events", "Deposited", _event("account-pm-0", '{"amount": NaN, "note": ""}')
        ),
        "event with NUL": lambda: foreign.publish_raw(
            uri, "ledger.events", "Deposited", _event("account-pm-0", '{"amount": 1, "note": "\\u0000"}')
        ),
        "event with a lone surrogate": lambda: foreign.publish_raw(
            uri, "ledger.events", "Deposited", _event("account-pm-0", '{"amount": 1, "note": "\\ud800"}')
        ),
        "event too large": lambda: foreign.publish_raw(uri, "ledger.events", "Deposited", b" " * (2 * 1024 * 1024)),
        "event not json": lambda: foreign.publish_raw(uri, "ledger.events", "Deposited", b"{no"),
    }
    with Stream(rig, "pm"):
        time.sleep(1)
        began = time.monotonic()
        for send in sent.values():
            send()
        time.sleep(3)
    recovery = rig.wait_delivered("pm", began)
    alive = all(p.process is not None and p.process.poll() is None for p in (ledger, tally))
    letters = rig.scalar("SELECT count(*) FROM tally.dead_letters")
    note = f"{len(sent)} kinds sent; both services up: {alive}; {letters} dead letter(s) in tally"
    result = rig.events_result("poison messages, each kind once", "pm", recovery, note)
    if not alive:
        result.error = "a service died"
    return result


ALL = [
    broker_restart,
    postgres_restart,
    kill_command_service,
    kill_handler_service,
    sigstop_relay_leader,
    unrelated_long_transaction,
    late_subscriber,
    poison_messages,
]


def run_all(chosen: Sequence[Callable[[Rig], Result]]) -> list[Result]:
    results = []
    for scenario in chosen:
        print(f"{scenario.__name__} ...", flush=True)
        rig = Rig(scenario.__name__[:12])
        try:
            result = scenario(rig)
        except Exception as error:
            traceback.print_exc()
            result = Result(scenario.__name__, error=f"{type(error).__name__}: {str(error)[:200]}")
        finally:
            rig.close()
        print(f"  {result}", flush=True)
        results.append(result)
    return results
