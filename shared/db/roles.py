"""Least-privilege database roles: the migration role owns everything, each service's role only uses its part.

Why: with one role that both migrates and runs the services, a running
service (or whoever takes it over) may do anything the owner may: drop or
disable the event store's append-only triggers, rewrite the log, read every
other service's subjects' keys. So the role that migrates, whoever runs
``python -m shared.runtime.process.platform migrate`` (in Kubernetes the
migrate Job, as the database's owner), owns every schema, table and function;
each service runs as a role of its own (``<DB_ROLE_PREFIX><service>``,
``orgwork_cadre``) that owns nothing and holds exactly what its code uses
(``wanted``; the table is in docs/DATABASE.md):

* in its own schema: USAGE; SELECT and INSERT only on the append-only tables
  (``events``, the audit tree's tables, and any table an append-only trigger
  guards); what the code does on each of the platform's other tables
  (``PLATFORM_TABLES``); SELECT, INSERT, UPDATE and DELETE on the read models;
  USAGE on its sequences; EXECUTE on its functions. Never TRUNCATE, REFERENCES
  or TRIGGER, never ownership: the triggers stay whatever the role does.
* in each schema it catches up from (its subscriptions' sources): USAGE,
  SELECT on ``events``, and EXECUTE on the functions the store's reads call
  (``SOURCE_FUNCTIONS``, ``privacy_keys_of`` among them: the keys it needs to
  open what it handles, asked by subject, never the key table itself).
* CONNECT on the database, and nothing anywhere else.

PUBLIC loses what it has by default where that matters: EXECUTE on the
services' functions (one of them answers keys), TEMPORARY on the database,
CREATE on the schema ``public`` (PostgreSQL 15 already drops it).

``ensure_runtime_roles`` brings each role to exactly that by comparing with
the catalogs: it grants what is missing and revokes what is more, so running
it again issues no statement at all. Default privileges would not do: a table
a later migration adds is granted by the next ``migrate``, which grants anew
every time. A role that does not exist is created ``NOLOGIN``; an existing one
is never altered (in production the CloudNativePG operator owns its LOGIN and
its password). It runs in one transaction, under every touched schema's
migration lock, so that it never meets a migration half-way, nor another
``migrate`` granting at the same time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from shared.db.database import Database
from shared.db.migrations import SCHEMA_NAME, migration_lock

log = logging.getLogger(__name__)

DEFAULT_ROLE_PREFIX = "orgwork_"
ROLE_PREFIX = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLES_LOCK = "orgwork.roles"

APPEND_ONLY = frozenset({"SELECT", "INSERT"})
READ_WRITE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
#: Append-only whatever their triggers say (a table guarded by ``APPEND_ONLY_TRIGGER`` is too).
APPEND_ONLY_TABLES = frozenset({"events", "audit_leaves", "audit_nodes", "audit_tree_heads"})
APPEND_ONLY_TRIGGER = "refuse_event_change"
#: The platform's other tables (``shared/migrations``): what the services' code does on each.
#: A table not named here nor append-only is a read model: ``READ_WRITE``.
PLATFORM_TABLES: dict[str, frozenset[str]] = {
    "schema_migrations": frozenset({"SELECT"}),  # the start-up check (MIGRATE_ON_START=false)
    "snapshots": frozenset({"SELECT", "INSERT", "UPDATE"}),  # emptied only by orgctl privacy erase, as owner
    "relay_checkpoint": frozenset({"SELECT", "UPDATE"}),  # its rows are the migrations'
    "inbox": frozenset({"SELECT", "INSERT"}),
    "dead_letters": frozenset({"SELECT", "INSERT", "UPDATE"}),
    "projection_checkpoints": frozenset({"SELECT", "INSERT", "UPDATE"}),  # emptied only by orgctl, as owner
    "parked_events": frozenset({"SELECT", "INSERT", "UPDATE"}),
    "subscriptions": frozenset({"SELECT", "INSERT", "UPDATE"}),
    "rate_limits": READ_WRITE,
    "processed_commands": READ_WRITE,
    "privacy_keys": frozenset({"SELECT", "INSERT", "DELETE"}),  # deleting a key is the erasure
}
#: In a source's schema: what catch-up (``EventStore.read_all``), the status page and opening sealed fields use.
SOURCE_TABLES: dict[str, frozenset[str]] = {"events": frozenset({"SELECT"})}
SOURCE_FUNCTIONS = frozenset({"read_after", "read_horizon", "writer_lock_key", "privacy_keys_of"})

_SYSTEM_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"


class RolesError(Exception):
    """The runtime roles cannot be made or granted as asked."""


def runtime_role(prefix: str, service: str) -> str:
    """The name of ``service``'s runtime role: ``orgwork_cadre`` with the default prefix."""
    if not ROLE_PREFIX.match(prefix):
        raise RolesError(f"DB_ROLE_PREFIX {prefix!r} must be lower-case letters, digits and '_', from a letter")
    name = f"{prefix}{service}"
    if not SCHEMA_NAME.match(name):
        raise RolesError(f"role name {name!r} must match {SCHEMA_NAME.pattern}")
    return name


@dataclass(frozen=True)
class RuntimeRole:
    """One service's runtime role: its name, its schema, and the schemas it catches up from."""

    service: str
    role: str
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for schema in (self.service, *self.sources):
            if not SCHEMA_NAME.match(schema):
                raise RolesError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")


@dataclass
class RoleReport:
    """What ``ensure_runtime_roles`` did for one role, and what is wrong with it that it may not change."""

    role: str
    service: str
    sources: tuple[str, ...]
    created: bool = False
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return int(self.created) + len(self.granted) + len(self.revoked)


@dataclass
class RolesReport:
    roles: list[RoleReport] = field(default_factory=list)
    public_revoked: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(r.changes for r in self.roles) + len(self.public_revoked)


# An object privileges are held on: (kind, schema, name, identity arguments). Kinds:
# "database", "schema", "table" (any relation but a sequence), "sequence", "routine", "column" (name: "table.column").
_Object = tuple[str, str, str, str]
_Privileges = dict[_Object, set[str]]


def ensure_runtime_roles(database: Database, roles: Sequence[RuntimeRole]) -> RolesReport:
    """Make each role exist and hold exactly its privileges, and PUBLIC lose its own (see the module's docstring)."""
    report = RolesReport()
    if not roles:
        return report
    schemas = sorted({r.service for r in roles} | {s for r in roles for s in r.sources})
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_ROLES_LOCK])
        for schema in schemas:  # in one order, so that two of us never wait on each other
            migration_lock(cur, schema)
        catalog = _Catalog(cur)
        for role in roles:
            report.roles.append(_ensure_role(cur, catalog, role))
        report.public_revoked = _revoke_from_public(cur, catalog, sorted({r.service for r in roles}))
    for role_report in report.roles:
        for warning in role_report.warnings:
            log.warning("%s: %s", role_report.role, warning)
        log.info(
            "runtime role %s: %s, %d grant(s), %d revoke(s)",
            role_report.role,
            "created NOLOGIN" if role_report.created else "exists",
            len(role_report.granted),
            len(role_report.revoked),
        )
    return report


class _Catalog:
    """What the catalogs say about the objects of one database, read in the locking transaction."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur
        cur.execute("SELECT current_database()")
        self.database: str = cur.fetchone()[0]

    def schema_exists(self, schema: str) -> bool:
        self.cur.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema])
        return bool(self.cur.fetchone()[0])

    def relations(self, schema: str) -> list[tuple[str, str]]:
        """``(name, relkind)`` of the schema's tables, views and sequences."""
        self.cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY c.relname",
            [schema],
        )
        return [(name, kind) for name, kind in self.cur.fetchall()]

    def append_only(self, schema: str) -> set[str]:
        """The schema's tables an append-only trigger guards."""
        self.cur.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE n.nspname = %s AND NOT t.tgisinternal AND p.proname = %s",
            [schema, APPEND_ONLY_TRIGGER],
        )
        return {name for (name,) in self.cur.fetchall()}

    def routines(self, schema: str) -> list[tuple[str, str]]:
        """``(name, identity arguments)`` of the schema's functions and procedures."""
        self.cur.execute(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1, 2",
            [schema],
        )
        return [(name, args) for name, args in self.cur.fetchall()]

    def held(self, grantee: str) -> tuple[_Privileges, _Privileges]:
        """What ``grantee`` (a role's name, or PUBLIC) is granted in this database, and what it may grant on.

        PUBLIC's defaults count (a new function is executable by PUBLIC until
        revoked); an owner's implicit rights do not: ownership is no grant to
        revoke, and ``_warnings`` says so instead.
        """
        oid = self._oid(grantee)

        def acl(column: str, kind: str, owner: str) -> str:
            return f"coalesce({column}, acldefault('{kind}', {owner}))" if oid == 0 else column

        queries = [
            "SELECT 'database', '', d.datname, '', a.privilege_type, a.is_grantable FROM pg_database d, "
            f"aclexplode({acl('d.datacl', 'd', 'd.datdba')}) a "
            "WHERE d.datname = current_database() AND a.grantee = %(oid)s AND a.grantee <> d.datdba",
            "SELECT 'schema', '', n.nspname, '', a.privilege_type, a.is_grantable FROM pg_namespace n, "
            f"aclexplode({acl('n.nspacl', 'n', 'n.nspowner')}) a WHERE {_SYSTEM_SCHEMAS} "
            "AND a.grantee = %(oid)s AND a.grantee <> n.nspowner",
            "SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname, '', "
            "a.privilege_type, a.is_grantable FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            f"aclexplode(c.relacl) a WHERE {_SYSTEM_SCHEMAS} AND a.grantee = %(oid)s AND a.grantee <> c.relowner",
            "SELECT 'column', n.nspname, c.relname || '.' || t.attname, '', a.privilege_type, a.is_grantable "
            "FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, "
            f"aclexplode(t.attacl) a WHERE {_SYSTEM_SCHEMAS} AND a.grantee = %(oid)s",
            "SELECT 'routine', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), a.privilege_type, "
            "a.is_grantable FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, "
            f"aclexplode({acl('p.proacl', 'f', 'p.proowner')}) a WHERE {_SYSTEM_SCHEMAS} "
            "AND a.grantee = %(oid)s AND a.grantee <> p.proowner",
        ]
        held: _Privileges = {}
        grantable: _Privileges = {}
        for query in queries:
            self.cur.execute(query, {"oid": oid})
            for kind, schema, name, args, privilege, is_grantable in self.cur.fetchall():
                key = (kind, schema, name, args)
                held.setdefault(key, set()).add(privilege)
                if is_grantable:
                    grantable.setdefault(key, set()).add(privilege)
        return held, grantable

    def _oid(self, grantee: str) -> int:
        if grantee == "PUBLIC":
            return 0
        self.cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [grantee])
        return int(self.cur.fetchone()[0])


def wanted(catalog: _Catalog, role: RuntimeRole) -> _Privileges:
    """Exactly what ``role`` must hold: see the module's docstring."""
    want: _Privileges = {("database", "", catalog.database, ""): {"CONNECT"}}
    if catalog.schema_exists(role.service):
        own = role.service
        want[("schema", "", own, "")] = {"USAGE"}
        guarded = APPEND_ONLY_TABLES | catalog.append_only(own)
        for name, kind in catalog.relations(own):
            if kind == "S":
                want[("sequence", own, name, "")] = {"USAGE"}
            elif kind in ("v", "m"):
                want[("table", own, name, "")] = {"SELECT"}
            elif name in guarded:
                want[("table", own, name, "")] = set(APPEND_ONLY)
            else:
                want[("table", own, name, "")] = set(PLATFORM_TABLES.get(name, READ_WRITE))
        for name, args in catalog.routines(own):
            want[("routine", own, name, args)] = {"EXECUTE"}
    for source in role.sources:
        if source == role.service or not catalog.schema_exists(source):
            continue  # a source that never ran has no store to read yet: the next migrate grants it
        want[("schema", "", source, "")] = {"USAGE"}
        for name, kind in catalog.relations(source):
            if kind != "S" and name in SOURCE_TABLES:
                want[("table", source, name, "")] = set(SOURCE_TABLES[name])
        for name, args in catalog.routines(source):
            if name in SOURCE_FUNCTIONS:
                want[("routine", source, name, args)] = {"EXECUTE"}
    return want


def _ensure_role(cur: Any, catalog: _Catalog, role: RuntimeRole) -> RoleReport:
    report = RoleReport(role.role, role.service, role.sources)
    report.created = _create_if_missing(cur, role.role)
    report.warnings = _warnings(cur, role)
    held, grantable = catalog.held(role.role)
    want = wanted(catalog, role)
    grantee = sql.Identifier(role.role)
    for obj in sorted(set(held) | set(want)):
        extra = held.get(obj, set()) - want.get(obj, set())
        missing = want.get(obj, set()) - held.get(obj, set())
        if extra:
            cur.execute(_statement("REVOKE", extra, obj, "FROM", grantee))
            report.revoked.append(_describe(extra, obj))
        if missing:
            cur.execute(_statement("GRANT", missing, obj, "TO", grantee))
            report.granted.append(_describe(missing, obj))
        passable = grantable.get(obj, set()) & want.get(obj, set())
        if passable:  # may use it, never pass it on
            cur.execute(_statement("REVOKE GRANT OPTION FOR", passable, obj, "FROM", grantee))
            report.revoked.append(f"grant option of {_describe(passable, obj)}")
    return report


def _create_if_missing(cur: Any, role: str) -> bool:
    """Create ``role`` NOLOGIN when it does not exist; True when it was created here."""
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cur.fetchone():
        return False
    cur.execute("SAVEPOINT create_role")
    try:
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except (psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation):
        # Roles belong to the server, not to a database: a migrate of another database made it first.
        cur.execute("ROLLBACK TO SAVEPOINT create_role")
        return False
    except psycopg2.errors.InsufficientPrivilege as error:
        cur.execute("ROLLBACK TO SAVEPOINT create_role")
        cur.execute("SELECT current_user")
        raise RolesError(
            f"role {role!r} does not exist and {cur.fetchone()[0]!r} may not create it ({error.pgerror or error}): "
            "declare it (CloudNativePG: spec.managed.roles, see docs/DATABASE.md) or migrate as a role with CREATEROLE"
        ) from None
    cur.execute("RELEASE SAVEPOINT create_role")
    return True


def _warnings(cur: Any, role: RuntimeRole) -> list[str]:
    """What makes the grants moot and that this module may not change (a role's attributes are its operator's)."""
    found: list[str] = []
    cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role.role])
    superuser, bypass_rls = cur.fetchone()
    if superuser:
        found.append("is a superuser: it may do anything, whatever is granted (make it NOSUPERUSER)")
    elif bypass_rls:
        found.append("has BYPASSRLS (make it NOBYPASSRLS)")
    cur.execute(
        "SELECT n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n "
        "WHERE n.nspname = %s AND pg_has_role(%s, n.nspowner, 'USAGE')",
        [role.service, role.role],
    )
    for schema, owner in cur.fetchall():
        found.append(f"has the rights of {owner!r}, which owns schema {schema!r} (a member of it, or it)")
    cur.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s) AND n.nspname = ANY(%s) "
        "ORDER BY 1 LIMIT 5",
        [role.role, [role.service, *role.sources]],
    )
    owned = [name for (name,) in cur.fetchall()]
    if owned:
        found.append(f"owns {', '.join(owned)}: an owner may alter and drop them (reassign them to the migration role)")
    return found


def _revoke_from_public(cur: Any, catalog: _Catalog, service_schemas: Iterable[str]) -> list[str]:
    """Take from PUBLIC what it holds by default where it matters: see the module's docstring."""
    held, _ = catalog.held("PUBLIC")
    schemas = set(service_schemas)
    revoked: list[str] = []
    for obj, privileges in sorted(held.items()):
        kind, schema, name, _args = obj
        if kind == "database":
            extra = privileges & {"TEMPORARY", "CREATE"}
        elif kind == "schema":
            extra = privileges & {"CREATE"} if name == "public" else privileges if name in schemas else set()
        else:
            extra = privileges if schema in schemas else set()
        if extra:
            cur.execute(_statement("REVOKE", extra, obj, "FROM", sql.SQL("PUBLIC")))
            revoked.append(_describe(extra, obj))
    return revoked


def _target(obj: _Object) -> sql.Composable:
    kind, schema, name, args = obj
    if kind == "database":
        return sql.SQL("DATABASE {}").format(sql.Identifier(name))
    if kind == "schema":
        return sql.SQL("SCHEMA {}").format(sql.Identifier(name))
    if kind == "routine":
        # The identity arguments come from the catalog (pg_get_function_identity_arguments), already SQL.
        return sql.SQL("ROUTINE {}.{}({})").format(sql.Identifier(schema), sql.Identifier(name), sql.SQL(args))
    if kind == "sequence":
        return sql.SQL("SEQUENCE {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
    if kind == "column":
        return sql.SQL("TABLE {}.{}").format(sql.Identifier(schema), sql.Identifier(name.split(".", 1)[0]))
    return sql.SQL("TABLE {}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _statement(
    verb: str, privileges: set[str], obj: _Object, preposition: str, grantee: sql.Composable
) -> sql.Composed:
    if obj[0] == "column":
        column = sql.Identifier(obj[2].split(".", 1)[1])
        listed = sql.SQL(", ").join(sql.SQL("{} ({})").format(sql.SQL(p), column) for p in sorted(privileges))
    else:
        listed = sql.SQL(", ").join(sql.SQL(p) for p in sorted(privileges))
    return sql.SQL("{} {} ON {} {} {}").format(sql.SQL(verb), listed, _target(obj), sql.SQL(preposition), grantee)


def _describe(privileges: set[str], obj: _Object) -> str:
    kind, schema, name, args = obj
    where = name if kind in ("database", "schema") else f"{schema}.{name}" + (f"({args})" if kind == "routine" else "")
    return f"{', '.join(sorted(privileges))} on {kind} {where}"
