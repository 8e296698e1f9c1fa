"""Least-privilege database roles (``shared.db.roles``), proved against the real PostgreSQL.

Each service's runtime role may use its store but not change its history nor
its guards, may read the events of the services it catches up from and
nothing else of theirs, and a service runs whole under it, started with
``MIGRATE_ON_START=false`` after a migrate as the owner. A service that may
not migrate waits for its schema, and says why it gives up.

Roles belong to the server, not to this run's database: every role made here
has a prefix of this run's own and is dropped at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eventlet
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest
from psycopg2 import sql

from services.feedback.entrypoint import FeedbackService
from shared.config import SERVICE_NAMES, Settings
from shared.db.database import Database, fetch_one
from shared.db.migrations import migrate, platform_migrations, schema_state
from shared.db.roles import RolesError, RuntimeRole, ensure_runtime_roles, runtime_role
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore
from shared.runtime.messaging.client import rpc_client
from shared.runtime.process import sandbox
from shared.runtime.process.catalog import load_service
from shared.runtime.process.provisioning import (
    SchemaNotReady,
    grant_runtime_roles,
    migrate_service,
    runtime_roles,
    wait_for_migrations,
)
from tests.support.environment import RunEnvironment
from tests.support.identities import THE_PUBLIC
from tests.support.platform import (
    InProcess,
    Processes,
    ServiceProcess,
    forget_service,
    reset_apps,
    settings_for_tests,
    wait_until,
)

TALLY = "tests.support.apps.tally.service:Tally"
META = Metadata(actor="tester", reason="least privilege")


@dataclass(frozen=True)
class Roles:
    """This module's roles: their prefix, and how to connect as one of them."""

    prefix: str
    settings: Settings
    database_url: str

    def role(self, service: str) -> str:
        return runtime_role(self.prefix, service)

    def url(self, service: str) -> str:
        params = psycopg2.extensions.parse_dsn(self.database_url)
        params["user"] = self.role(service)
        params.pop("password", None)
        return psycopg2.extensions.make_dsn(**params)

    def connect(self, service: str) -> Any:
        conn = psycopg2.connect(self.url(service), application_name="orgwork-tests-role")
        conn.autocommit = True
        return conn


def drop_roles(database: Database, prefix: str) -> None:
    """Every role of this prefix, with what it was granted here (roles outlive this run's database)."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [prefix])
        names = [name for (name,) in cur.fetchall()]
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)", [names])
        for name in names:
            cur.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def all_services() -> list[Any]:
    return [load_service(name) for name in SERVICE_NAMES]


@pytest.fixture(scope="module")
def roles(test_env: RunEnvironment, database: Database) -> Iterator[Roles]:
    """Every service migrated as the owner, then its runtime role granted; training's may log in."""
    prefix = f"rt{secrets.token_hex(4)}_"
    settings = settings_for_tests(db_role_prefix=prefix)
    made = Roles(prefix, settings, test_env.database_url)
    try:
        with database.transaction() as conn, conn.cursor() as cur:
            # As the operator (CloudNativePG) declares it: it exists, with LOGIN, before any migrate.
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(made.role("training"))))
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(made.role("talent"))))
        for cls in all_services():
            migrate_service(settings, cls)
        grant_runtime_roles(settings, all_services())
        yield made
    finally:
        drop_roles(database, prefix)


def refused(conn: Any, statement: str, params: tuple[Any, ...] = ()) -> str:
    """The SQLSTATE PostgreSQL refuses ``statement`` with (the test fails when it is allowed)."""
    with conn.cursor() as cur:
        try:
            cur.execute(statement, params)
        except psycopg2.Error as error:
            return str(error.pgcode)
    raise AssertionError(f"allowed: {statement}")


def has_privilege(database: Database, role: str, table: str, privilege: str) -> bool:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return bool(fetch_one(cur)[0])


# -- the grants ------------------------------------------------------------------------------------


def test_a_missing_role_is_made_nologin_and_a_declared_one_keeps_its_login(roles: Roles, database: Database) -> None:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE starts_with(rolname, %s)",
            [roles.prefix],
        )
        found = {name: (login, superuser, createrole) for name, login, superuser, createrole in cur.fetchall()}
    assert set(found) == {roles.role(name) for name in SERVICE_NAMES}
    assert found[roles.role("training")] == (True, False, False)
    assert found[roles.role("cadre")] == (False, False, False)


def test_the_runtime_role_appends_through_the_event_store_and_reads_back(roles: Roles) -> None:
    database = Database(roles.url("training"), size=2, application_name="tests-as-training", search_path="training")
    try:
        store = EventStore(database, "training")
        stream = f"least-privilege-{secrets.token_hex(4)}"
        appended = store.append(stream, [NewEvent("Noted", {"n": 1}), NewEvent("Noted", {"n": 2})], 0, META)
        assert [e.version for e in appended] == [1, 2]
        assert [e.data for e in store.read_stream(stream)] == [{"n": 1}, {"n": 2}]
        seen = [e.event_id for e in store.iter_all() if e.stream_id == stream]
        assert seen == [e.event_id for e in appended]
    finally:
        database.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE training.events SET type = 'Rewritten'",
        "DELETE FROM training.events",
        "TRUNCATE training.events",
        "ALTER TABLE training.events DISABLE TRIGGER events_no_update_or_delete",
        "ALTER TABLE training.events DISABLE TRIGGER ALL",
        "DROP TRIGGER events_no_update_or_delete ON training.events",
        "DROP TRIGGER events_no_truncate ON training.events",
        "DROP TABLE training.events",
        "UPDATE training.audit_tree_heads SET signature = '\\x00'",
        "DELETE FROM training.audit_leaves",
        "TRUNCATE training.suggestions",
        "CREATE TABLE training.smuggled (x int)",
        "CREATE TABLE public.smuggled (x int)",
        "CREATE TEMPORARY TABLE smuggled (x int)",
        "SELECT setval('training.event_position', 1)",
    ],
)
def test_the_runtime_role_may_not_change_its_history_nor_its_guards(roles: Roles, statement: str) -> None:
    conn = roles.connect("training")
    try:
        assert refused(conn, statement) == "42501"  # insufficient_privilege: not even the triggers' turn
    finally:
        conn.close()


def test_the_runtime_role_reads_no_key_table_but_its_own_and_opens_its_sources_keys_by_subject(
    roles: Roles, database: Database
) -> None:
    subject = f"submitter:{secrets.token_hex(4)}"
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO feedback.privacy_keys (subject, key) VALUES (%s, %s)", [subject, secrets.token_bytes(32)]
        )
    conn = roles.connect("training")
    try:
        assert refused(conn, "SELECT * FROM feedback.privacy_keys") == "42501"  # a source's
        assert refused(conn, "SELECT * FROM talent.privacy_keys") == "42501"  # not a source
        assert refused(conn, "DELETE FROM feedback.privacy_keys") == "42501"
        assert refused(conn, "SELECT * FROM talent.privacy_keys_of(%s)", ([subject],)) == "42501"
        with conn.cursor() as cur:
            cur.execute("SELECT subject FROM feedback.privacy_keys_of(%s)", [[subject, "submitter:nobody"]])
            assert cur.fetchall() == [(subject,)]  # what it asks for, as the consumer of feedback's events
            cur.execute("SELECT count(*) FROM training.privacy_keys")
            assert fetch_one(cur)[0] >= 0
    finally:
        conn.close()
    # PUBLIC may not call the key reader: only the roles granted it.
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT has_function_privilege('public', 'feedback.privacy_keys_of(text[])', 'EXECUTE')")
        assert fetch_one(cur)[0] is False


def test_the_runtime_role_reads_the_events_of_its_sources_and_nothing_of_the_others(roles: Roles) -> None:
    database = Database(roles.url("training"), size=1, application_name="tests-as-training")
    conn = roles.connect("training")
    try:
        for source in ("cadre", "feedback", "grassroots"):  # training's subscriptions
            EventStore(database, source, open_sealed=False).read_all(limit=5)  # catch-up's own read
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT count(*) FROM {}.events").format(sql.Identifier(source)))
        for other in ("talent", "supervision"):
            assert refused(conn, f"SELECT count(*) FROM {other}.events") == "42501"
        assert refused(conn, "SELECT * FROM cadre.snapshots") == "42501"
        assert refused(conn, "SELECT * FROM cadre.inbox") == "42501"
        assert refused(conn, "INSERT INTO cadre.events SELECT * FROM cadre.events LIMIT 0") == "42501"
        assert refused(conn, "SELECT cadre.begin_writing()") == "42501"
    finally:
        conn.close()
        database.close()


def test_granting_again_changes_nothing_and_then_brings_back_exactly_what_is_due(
    roles: Roles, database: Database
) -> None:
    again = grant_runtime_roles(roles.settings, all_services())
    assert again.changes == 0, [(r.role, r.granted, r.revoked) for r in again.roles]

    role = roles.role("training")
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE training.added_later (id int PRIMARY KEY)")  # a later migration's read model
        cur.execute(sql.SQL("GRANT TRUNCATE, TRIGGER ON training.events TO {}").format(sql.Identifier(role)))
        cur.execute(sql.SQL("GRANT SELECT ON talent.privacy_keys TO {} WITH GRANT OPTION").format(sql.Identifier(role)))
        cur.execute(sql.SQL("GRANT SELECT ON training.inbox TO {} WITH GRANT OPTION").format(sql.Identifier(role)))
    try:
        report = grant_runtime_roles(roles.settings, all_services())
        (training,) = [r for r in report.roles if r.role == role]
        assert training.granted == ["DELETE, INSERT, SELECT, UPDATE on table training.added_later"]
        assert sorted(training.revoked) == [
            "SELECT on table talent.privacy_keys",
            "TRIGGER, TRUNCATE on table training.events",
            "grant option of SELECT on table training.inbox",
        ]
        assert has_privilege(database, role, "training.added_later", "UPDATE")
        assert not has_privilege(database, role, "training.events", "TRUNCATE")
        assert not has_privilege(database, role, "talent.privacy_keys", "SELECT")
        assert not has_privilege(database, role, "training.inbox", "SELECT WITH GRANT OPTION")
        assert has_privilege(database, role, "training.inbox", "SELECT")
    finally:
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("DROP TABLE training.added_later")


@pytest.mark.slow
def test_platform_migrate_grants_every_role_and_a_second_run_changes_nothing(roles: Roles) -> None:
    """The migrate Job's own command, as the owner: each role's line, then nothing more to do."""
    env = {**os.environ, "DB_ROLE_PREFIX": roles.prefix, "LOG_FORMAT": "json"}
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "shared.runtime.process.platform", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    for name in SERVICE_NAMES:
        lines = [line for output in outputs for line in output.splitlines() if f" {roles.role(name)} " in line]
        assert len(lines) == 2, outputs
        assert lines[1].endswith(": 0 grant(s), 0 revoke(s)"), lines
    assert "reads the events of cadre, feedback, grassroots" in outputs[0]


def test_two_migrates_granting_at_once_both_succeed(roles: Roles, test_env: RunEnvironment) -> None:
    pools = [Database(test_env.database_url, size=1, application_name=f"tests-grant-{n}") for n in range(2)]
    wanted = runtime_roles(roles.settings, all_services())
    try:
        runs = [eventlet.spawn(ensure_runtime_roles, pool, wanted) for pool in pools]
        assert [run.wait().changes for run in runs] == [0, 0]
    finally:
        for pool in pools:
            pool.close()


def test_a_migrator_that_may_not_create_roles_says_so(roles: Roles) -> None:
    database = Database(roles.url("talent"), size=1, application_name="tests-as-talent")
    try:
        with pytest.raises(RolesError, match="may not create it"):
            ensure_runtime_roles(database, [RuntimeRole("talent", f"{roles.prefix}nobody")])
    finally:
        database.close()


def test_a_sandbox_names_its_roles_apart_and_drops_them(test_env: RunEnvironment, database: Database) -> None:
    """A migrate in a test run's sandbox makes roles of the run's own, which ``destroy`` drops (``drop_roles``)."""
    assert test_env.environment()["DB_ROLE_PREFIX"] == test_env.db_role_prefix
    assert test_env.db_role_prefix.startswith(test_env.vhost) and test_env.db_role_prefix != "orgwork_"
    prefix = f"rt{secrets.token_hex(4)}_"
    with database.transaction() as conn, conn.cursor() as cur:
        for name in ("cadre", "talent"):
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(prefix + name)))
    assert sandbox.drop_roles(test_env.database_url, prefix) == [f"{prefix}cadre", f"{prefix}talent"]
    assert _count(database, f"SELECT count(*) FROM pg_roles WHERE starts_with(rolname, '{prefix}')") == 0


def test_a_role_prefix_must_make_plain_names() -> None:
    assert runtime_role("orgwork_", "cadre") == "orgwork_cadre"
    for bad in ("", "Orgwork_", "org-work_", "1org_"):
        with pytest.raises(RolesError):
            runtime_role(bad, "cadre")


# -- waiting for the migrate Job --------------------------------------------------------------------


class _Probe:
    """A service as ``wait_for_migrations`` sees it: a name and the platform's migrations."""

    name = ""

    @classmethod
    def migrations(cls) -> list[Any]:
        return platform_migrations()


def probe(schema: str) -> Any:
    """A service class whose schema is ``schema`` (``Any``: it stands in for a ``ServiceBase``)."""
    return type("Probe", (_Probe,), {"name": schema})


class FakeTime:
    """A clock that moves only when slept on, and a record of the sleeps (with what happens during each)."""

    def __init__(self, during_sleep: Any = None) -> None:
        self.now, self.during_sleep = 0.0, during_sleep
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.during_sleep is not None:
            self.during_sleep()


@pytest.fixture
def fresh_schema(database: Database) -> Iterator[str]:
    name = f"w_{secrets.token_hex(4)}"
    yield name
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def test_the_schema_state_tells_missing_current_and_ahead(database: Database, fresh_schema: str) -> None:
    known = platform_migrations()
    assert [str(m) for m in schema_state(database, fresh_schema, known).missing] == [str(m) for m in known]
    migrate(database, fresh_schema, known[:-2])
    state = schema_state(database, fresh_schema, known)
    assert (state.missing, state.current, state.ahead) == (tuple(known[-2:]), False, False)
    migrate(database, fresh_schema, known)
    assert schema_state(database, fresh_schema, known).current
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.schema_migrations (component, version, name, checksum) "
                "VALUES ('platform', 9999, 'from_the_future', 'x')"
            ).format(sql.Identifier(fresh_schema))
        )
    state = schema_state(database, fresh_schema, known)
    assert (state.unknown, state.ahead) == (("platform/9999_from_the_future",), True)
    edited = [*known[:-1], dataclasses.replace(known[-1], sql=known[-1].sql + "-- edited\n")]
    assert schema_state(database, fresh_schema, edited).changed == (str(known[-1]),)


def test_a_service_that_may_not_migrate_waits_with_backoff_until_the_job_has_migrated(
    database: Database, fresh_schema: str
) -> None:
    def the_job_runs() -> None:
        if len(fake.slept) == 3:
            migrate(database, fresh_schema, platform_migrations())

    fake = FakeTime(the_job_runs)
    settings = Settings.from_env().replace(migrate_wait_seconds=60.0)
    state = wait_for_migrations(settings, probe(fresh_schema), sleep=fake.sleep, clock=fake.clock)
    assert state.current
    assert fake.slept == [1.0, 2.0, 4.0]


def test_a_service_that_may_not_migrate_gives_up_at_the_deadline_saying_why(
    database: Database, fresh_schema: str
) -> None:
    migrate(database, fresh_schema, platform_migrations()[:-1])
    fake = FakeTime()
    settings = Settings.from_env().replace(migrate_wait_seconds=5.0)
    with pytest.raises(SchemaNotReady) as refused_start:
        wait_for_migrations(settings, probe(fresh_schema), sleep=fake.sleep, clock=fake.clock)
    message = str(refused_start.value)
    assert f"schema {fresh_schema!r} lacks 1 of its" in message
    assert str(platform_migrations()[-1]) in message
    assert "MIGRATE_WAIT_SECONDS" in message
    assert fake.slept == [1.0, 2.0, 2.0]  # the last wait cut to the deadline


def test_a_schema_ahead_of_the_code_is_refused_at_once(database: Database, fresh_schema: str) -> None:
    migrate(database, fresh_schema, platform_migrations())
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.schema_migrations (component, version, name, checksum) VALUES ('service', 99, 'x', 'x')"
            ).format(sql.Identifier(fresh_schema))
        )
    fake = FakeTime()
    with pytest.raises(SchemaNotReady, match=r"ahead of this code .*service/0099_x"):
        wait_for_migrations(Settings.from_env(), probe(fresh_schema), sleep=fake.sleep, clock=fake.clock)
    assert fake.slept == []


# -- a service under its role, as its own process -----------------------------------------------------


@pytest.fixture
def started() -> Iterator[Processes]:
    processes = Processes()
    yield processes
    processes.stop_all()


def log_of(process: ServiceProcess) -> list[dict[str, Any]]:
    assert process.log_path is not None
    lines = Path(process.log_path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.mark.slow
def test_the_launcher_that_may_not_migrate_exits_non_zero_saying_what_it_waited_for(
    started: Processes, database: Database
) -> None:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS tally CASCADE")
    waiting = started.start(TALLY, "tally", migrate_on_start="false", migrate_wait_seconds="2")
    assert waiting.process is not None
    assert waiting.process.wait(60) != 0
    messages = [entry.get("message", "") for entry in log_of(waiting)]
    assert any("waiting for the migrate Job: schema 'tally' lacks" in m for m in messages), messages
    assert any("not starting" in m and "MIGRATE_WAIT_SECONDS" in m for m in messages), messages

    from tests.support.apps.tally.service import Tally

    migrate(database, "tally", Tally.migrations())
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO tally.schema_migrations (component, version, name, checksum) "
            "VALUES ('platform', 9999, 'from_the_future', 'x')"
        )
    try:
        ahead = started.start(TALLY, "tally", migrate_on_start="false", migrate_wait_seconds="60")
        assert ahead.process is not None
        assert ahead.process.wait(30) != 0  # at once, not after the minute
        messages = [entry.get("message", "") for entry in log_of(ahead)]
        assert any("ahead of this code" in m and "platform/9999_from_the_future" in m for m in messages), messages
    finally:
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM tally.schema_migrations WHERE version = 9999")


@pytest.mark.slow
def test_a_service_runs_whole_under_its_runtime_role(
    roles: Roles, started: Processes, database: Database, rpc: Any
) -> None:
    """training, as its role, after a migrate as the owner: it catches up on feedback's store (opening the
    sealed text with feedback's keys), takes a command, publishes its event to feedback, signs its tree heads."""
    settings = settings_for_tests()
    reset_apps(database, settings, FeedbackService)
    forget_service(database, settings, "training")
    # The migrate Job, as the owner: the schemas, then the grants.
    migrate_service(roles.settings, load_service("training"))
    grant_runtime_roles(roles.settings, all_services())

    feedback = InProcess()
    feedback.start(FeedbackService, settings=settings)
    try:
        text = f"Evening classes for village cadres, please ({secrets.token_hex(3)})"
        with rpc_client(timeout=20, identity=THE_PUBLIC) as public:
            receipt = public.feedback.submit(channel="suggestion_box", category="suggestion_on_training", text=text)
        assert receipt["routed_to"] == "training"

        training = started.start(
            "training",
            "training",
            database_url=roles.url("training"),
            migrate_on_start="false",
            migrate_wait_seconds="30",
            handler_backoff="0.05",
        ).wait_ready(90)

        found = wait_until(
            lambda: [s for s in rpc.training.suggestions()["items"] if s["submission_id"] == receipt["submission_id"]],
            what="training to catch up on feedback's store",
        )
        assert found[0]["text"] == text  # opened with feedback's key, through privacy_keys_of
        rpc.training.answer_suggestion(
            submission_id=receipt["submission_id"], adopted=True, reasons=f"from {dt.date.today():%B}"
        )

        def answered() -> Any:
            with rpc_client(timeout=20, identity=THE_PUBLIC) as public:
                case = public.feedback.my_case(receipt_code=receipt["receipt_code"])
            return case if case["replies"] else None

        assert "Adopted" in wait_until(answered, what="training's relay to reach feedback")["replies"][-1]["text"]
        assert wait_until(
            lambda: _count(database, "SELECT count(*) FROM training.audit_tree_heads"), what="a signed tree head"
        )
        status = training.status()
        assert status["events_stored"] >= 1
        assert [s for s in status["subscriptions"] if "error" in s] == []
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE 'training%%'"
            )
            assert {name for (name,) in cur.fetchall()} == {roles.role("training")}
        messages = [entry.get("message", "") for entry in log_of(training)]
        assert any("migrated by the migrate Job" in m for m in messages), messages
        assert not [m for m in messages if "permission denied" in m], "nothing refused for want of a grant"
    finally:
        feedback.stop_all()


def _count(database: Database, query: str) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(query)
        return int(fetch_one(cur)[0])
