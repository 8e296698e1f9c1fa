"""Who may do what on RabbitMQ: a broker user of its own for each service, the gateway and the operator.

Every principal's rights are computed here, from the service classes and
what they subscribe to (``subscriptions_of``), and nowhere else. RabbitMQ
grants each user, per vhost, three regexes (configure: declare or delete;
write: publish to an exchange, bind a queue; read: consume from a queue, bind
from an exchange), and *topic permissions*: per topic exchange, the routing
keys a user may publish with (write) and bind with (read).

=============  ===============================================================
principal      may
=============  ===============================================================
service ``S``  configure its exchange ``S.events``, its queues ``rpc-S`` and
               ``S.inbox.*``, and ``nameko-rpc``; configure, read and write
               its dead-letter exchange and queue, both ``S.dead-letters``
               (declare, bind and consume them, and name the exchange as its
               inboxes' ``x-dead-letter-exchange``, which RabbitMQ allows
               only with write on it), never another's; publish its events to
               ``S.events`` and, on ``nameko-rpc``, only replies (a uuid as
               routing key), never a request; bind its RPC queue to
               ``nameko-rpc`` only with ``S.*``; bind its inboxes to the
               exchanges of the sources it subscribes to, only with the event
               types it handles. No reply queue: a service calls no one, and
               one that could bind a uuid could read the replies other
               services send to a caller whose reply address it has seen.
``gateway``    publish requests ``<service>.<method>`` to the services that
               exist, and declare, bind (a uuid) and consume its reply queues
               ``rpc.reply-standalone_rpc_proxy-<uuid>``; nothing else
``operator``   the same as the gateway, but only the methods ``orgctl`` calls
=============  ===============================================================

The provisioning identity (the default ``AMQP_URI``, ``make migrate``, the
migrate job) stays the broker's administrator and declares the whole topology
first: a service then finds its sources' exchanges there and only binds to
them (``topology.declare_topology``). nameko declares ``nameko-rpc`` with every
RPC or reply queue, and RabbitMQ asks for configure permission on every
declaration, so each principal may configure that exchange too. Moving a
message past its delivery limit into ``S.dead-letters`` is the broker's own
doing, which no user's permission governs.

``make run`` creates the users on the local broker with ``rabbitmqctl
import_definitions`` (passwords made once, kept in ``.orgwork/broker/``) and
starts each service with its own ``AMQP_URI``. A deployment loads the same
model as RabbitMQ definitions::

    python -m shared.runtime.process.broker definitions --passwords FILE --vhost / > definitions.json
    python -m shared.runtime.process.broker uris --passwords FILE --amqp-uri amqps://rabbitmq:5671/

(``FILE``: ``{principal: password}``, made when missing; keep it secret.)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from shared.config import LOCAL_STATE_DIR, Settings
from shared.runtime.messaging.topology import dead_letter_name

if TYPE_CHECKING:
    from shared.runtime.service import ServiceBase

RPC_EXCHANGE = "nameko-rpc"  # nameko's default ``rpc_exchange``
#: The service name nameko's standalone proxies (``ClusterRpcProxy``) put in their reply queues' names.
STANDALONE = "standalone_rpc_proxy"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
METHOD = "[a-z_][a-z0-9_]*"
GATEWAY, OPERATOR = "gateway", "operator"
#: What ``orgctl`` calls over RPC (``shared/cli/orgctl.py``).
OPERATOR_METHODS = ("dead_letters", "replay_dead_letter", "load_calendar", "calendar_years")
LOCAL_BROKER_DIR = LOCAL_STATE_DIR / "broker"
HASHING = "rabbit_password_hashing_sha256"


@dataclass(frozen=True)
class TopicGrant:
    """Routing keys one may publish with (``write``) and bind with (``read``) on one topic exchange."""

    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class Grant:
    """One principal's permissions on a vhost."""

    principal: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicGrant, ...] = ()


@dataclass(frozen=True)
class BrokerUser:
    principal: str
    name: str
    password: str = field(repr=False)


def _one_of(*patterns: str) -> str:
    return "^(" + "|".join(patterns) + ")$" if patterns else "^$"


def _names(*names: str) -> list[str]:
    return [re.escape(name) for name in names]


# -- the model -----------------------------------------------------------------------------


def service_grant(service: str, subscriptions: Mapping[str, Iterable[str]]) -> Grant:
    """A service's rights, given ``{source: [event types it handles]}``."""
    own_queues = [
        *_names(f"rpc-{service}", dead_letter_name(service)),  # the dead letters' exchange and queue: one name
        re.escape(f"{service}.inbox.") + "[a-z][a-z0-9_]*",
    ]
    sources = sorted(subscriptions)
    return Grant(
        principal=service,
        configure=_one_of(*_names(f"{service}.events", RPC_EXCHANGE), *own_queues),
        write=_one_of(*_names(f"{service}.events", RPC_EXCHANGE), *own_queues),
        read=_one_of(*_names(RPC_EXCHANGE, *(f"{source}.events" for source in sources)), *own_queues),
        topics=(
            TopicGrant(RPC_EXCHANGE, write=_one_of(UUID), read=_one_of(*_names(f"{service}.*"))),
            *(
                TopicGrant(f"{source}.events", write="^$", read=_one_of(*_names(*sorted(set(subscriptions[source])))))
                for source in sources
            ),
        ),
    )


def caller_grant(principal: str, services: Sequence[str], methods: Sequence[str] | None = None) -> Grant:
    """An RPC caller's rights through nameko's standalone proxy: requests to ``services`` (only ``methods``)."""
    reply_queues = re.escape(f"rpc.reply-{STANDALONE}-") + UUID
    method = _one_of(*_names(*methods))[1:-1] if methods else METHOD
    requests = f"^({'|'.join(_names(*services))})\\.{method}$" if services else "^$"
    return Grant(
        principal=principal,
        configure=_one_of(*_names(RPC_EXCHANGE), reply_queues),
        write=_one_of(*_names(RPC_EXCHANGE), reply_queues),
        read=_one_of(*_names(RPC_EXCHANGE), reply_queues),
        topics=(TopicGrant(RPC_EXCHANGE, write=requests, read=_one_of(UUID)),),
    )


def grants(service_classes: Iterable[type[ServiceBase]]) -> list[Grant]:
    """Every principal's rights: each service, the gateway (calls any of them), the operator (``orgctl``)."""
    from shared.runtime.messaging.inbound import subscriptions_of  # nameko's: not for every importer of this module

    classes = list(service_classes)
    names = [cls.name for cls in classes]
    return [
        *(service_grant(cls.name, subscriptions_of(cls)) for cls in classes),
        caller_grant(GATEWAY, names),
        caller_grant(OPERATOR, names, OPERATOR_METHODS),
    ]


# -- users, URIs, definitions ----------------------------------------------------------------


def vhost_of(amqp_uri: str) -> str:
    """The vhost an AMQP URI names (``/`` when none)."""
    return unquote(urlsplit(amqp_uri).path[1:]) or "/"


def user_prefix(vhost: str) -> str:
    """Users are the broker's, not a vhost's: named ``orgwork-*`` on ``/``, after the vhost elsewhere."""
    return "orgwork" if vhost == "/" else vhost


def uri_for(amqp_uri: str, user: BrokerUser) -> str:
    """``amqp_uri`` (host, port, vhost, options) with ``user``'s credentials instead of its own."""
    parts = urlsplit(amqp_uri)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user.name, safe='')}:{quote(user.password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode("utf-8")).digest()).decode("ascii")


def definitions(all_grants: Iterable[Grant], users: Mapping[str, BrokerUser], vhost: str) -> dict[str, Any]:
    """The grants as RabbitMQ definitions (``load_definitions``, ``rabbitmqctl import_definitions``)."""
    listed = [g for g in all_grants if g.principal in users]
    return {
        "users": [
            {
                "name": users[g.principal].name,
                "password_hash": password_hash(users[g.principal].password),
                "hashing_algorithm": HASHING,
                "tags": [],
                "limits": {},
            }
            for g in listed
        ],
        "permissions": [
            {
                "user": users[g.principal].name,
                "vhost": vhost,
                "configure": g.configure,
                "write": g.write,
                "read": g.read,
            }
            for g in listed
        ],
        "topic_permissions": [
            {"user": users[g.principal].name, "vhost": vhost, "exchange": t.exchange, "write": t.write, "read": t.read}
            for g in listed
            for t in g.topics
        ],
    }


def passwords_in(path: Path, principals: Iterable[str]) -> dict[str, str]:
    """``{principal: password}`` kept in ``path`` (0600), with one made for each principal it lacks."""
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [p for p in principals if p not in kept]
    if missing or not path.exists():
        kept.update({p: secrets.token_urlsafe(24) for p in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{path}.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(kept, handle, indent=2, sort_keys=True)
        os.replace(f"{path}.tmp", path)
    return kept


def users_for(prefix: str, passwords: Mapping[str, str]) -> dict[str, BrokerUser]:
    return {p: BrokerUser(p, f"{prefix}-{p}", password) for p, password in passwords.items()}


# -- applying them with rabbitmqctl ----------------------------------------------------------


def rabbitmqctl_available() -> bool:
    return shutil.which("rabbitmqctl") is not None or Path("/usr/sbin/rabbitmqctl").exists()


def _rabbitmqctl(*args: str, stdin: str | None = None) -> str:
    tool = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    done = subprocess.run([tool, "-q", *args], input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {args[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def apply(all_grants: Iterable[Grant], users: Mapping[str, BrokerUser], vhost: str) -> None:
    """Create or update the users and their permissions on ``vhost``, in one ``import_definitions``."""
    _rabbitmqctl("import_definitions", "--format", "json", stdin=json.dumps(definitions(all_grants, users, vhost)))


def delete_users(names: Iterable[str]) -> None:
    """Delete these broker users (those already gone are no matter)."""
    existing = {row["user"] for row in json.loads(_rabbitmqctl("list_users", "--formatter", "json") or "[]")}
    for name in names:
        if name in existing:
            _rabbitmqctl("delete_user", name)


def forget_local(vhost: str, state_dir: Path = LOCAL_BROKER_DIR) -> None:
    """Delete the users a local platform on ``vhost`` made, and their passwords (a test run's sandbox)."""
    prefix = user_prefix(vhost)
    path = state_dir / f"{prefix}.json"
    if path.exists():
        delete_users(user.name for user in users_for(prefix, json.loads(path.read_text())).values())
        path.unlink(missing_ok=True)


def provision_local(
    settings: Settings, service_classes: Iterable[type[ServiceBase]], state_dir: Path = LOCAL_BROKER_DIR
) -> dict[str, str]:
    """Make every principal's user on the local broker (as the admin of ``settings.amqp_uri``); their URIs.

    Passwords are made once and kept in ``state_dir`` (``.orgwork/broker``), one file per vhost.
    """
    vhost = vhost_of(settings.amqp_uri)
    all_grants = grants(service_classes)
    path = state_dir / f"{user_prefix(vhost)}.json"
    users = users_for(user_prefix(vhost), passwords_in(path, [g.principal for g in all_grants]))
    apply(all_grants, users, vhost)
    return {p: uri_for(settings.amqp_uri, users[p]) for p in (g.principal for g in all_grants)}


# -- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from shared.runtime.process.catalog import existing_services, load_service

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["grants", "definitions", "uris"])
    parser.add_argument("--passwords", type=Path, help="JSON {principal: password}; made when missing (keep it secret)")
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--prefix", help="user names are <prefix>-<principal> (default: orgwork on /, else the vhost)")
    parser.add_argument("--amqp-uri", default=Settings.from_env().amqp_uri, help="host, port and vhost for `uris`")
    args = parser.parse_args(argv)
    all_grants = grants(load_service(name) for name in existing_services())
    if args.command == "grants":
        json.dump([g.__dict__ | {"topics": [t.__dict__ for t in g.topics]} for g in all_grants], sys.stdout, indent=2)
        print()
        return 0
    if args.passwords is None:
        parser.error(f"{args.command} needs --passwords FILE")
    vhost = vhost_of(args.amqp_uri) if args.command == "uris" else args.vhost
    users = users_for(
        args.prefix or user_prefix(vhost), passwords_in(args.passwords, [g.principal for g in all_grants])
    )
    if args.command == "definitions":
        json.dump(definitions(all_grants, users, vhost), sys.stdout, indent=2)
    else:
        json.dump({p: uri_for(args.amqp_uri, u) for p, u in users.items()}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
