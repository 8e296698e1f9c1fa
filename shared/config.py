"""Configuration: every setting of the platform, read from the environment in one place.

Every process of the platform (services, the CLI, the tests, the benchmarks)
reads its settings here, so that one variable means the same thing everywhere.
No service reads ``os.environ`` but through here, and nothing reads it at
import: a process calls ``Settings.from_env()`` and passes the result on (a
service container gets it in its config, so tests can inject their own). The
tests' and benchmarks' sandboxes read ``SANDBOX_*`` when they make one.

Platform-wide settings are fields of ``Settings`` (variable: the field's name
in capitals). Each service has a section of its own, and so does the audit
trail (variable: ``<SECTION>_<FIELD>``, e.g. ``FEEDBACK_SOURCE_LIMIT``). Ports
live in ``shared/services.toml`` (``SERVICES_FILE``); see ``service_ports``, and
``service_address`` for where another process reaches a service.
"""

from __future__ import annotations

import dataclasses
import os
import ssl
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/orgwork"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
#: ``Settings.inbound_delivery_limit``'s default (``topology`` declares queues with it when not told).
DEFAULT_INBOUND_DELIVERY_LIMIT = 20

#: The directory holding the ``shared`` and ``services`` packages: the checkout when the code runs from one
#: (``make setup`` installs it editable), site-packages in an installed copy (a wheel, the image). Only the
#: checkout's own tools (the tests, the benchmarks, ``deploy.manifests``) may take it for the repository:
#: what runs in production finds what ships with it beside its package (``SERVICES_FILE``).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: True when the code runs from a checkout (its ``pyproject.toml`` beside the packages), not an installed copy.
FROM_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()
#: The services and their ports (``service_ports``): package data, so a wheel and the image carry it too.
SERVICES_FILE = Path(__file__).resolve().parent / "services.toml"
#: The variable naming the local state directory (``local_state_dir``).
LOCAL_STATE_VARIABLE = "LOCAL_STATE_DIR"


def local_state_dir(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """Where a local platform (``make run``) keeps what it makes for itself: keys, broker passwords.

    ``LOCAL_STATE_DIR`` when set (a relative path is taken from ``cwd``); else
    ``.orgwork`` in the checkout, so that ``make run``, the demo and orgctl
    agree wherever they are started; else, in an installed copy, which has no
    checkout and must not write into site-packages, ``.orgwork`` in ``cwd``
    (the current directory).
    """
    env = os.environ if env is None else env
    base = Path.cwd() if cwd is None else cwd
    raw = env.get(LOCAL_STATE_VARIABLE)
    if raw:
        return base / Path(raw).expanduser()
    return (REPO_ROOT if FROM_CHECKOUT else base) / ".orgwork"


#: ``local_state_dir()``, read once when this module is first imported, because other modules take
#: defaults from it: the one setting read at import rather than through ``Settings.from_env``.
LOCAL_STATE_DIR = local_state_dir()
LOCAL_KEYS_DIR = LOCAL_STATE_DIR / "keys"

#: The six services of the platform, in the order the design lists them.
SERVICE_NAMES: tuple[str, ...] = (
    "cadre",
    "talent",
    "grassroots",
    "supervision",
    "training",
    "feedback",
)

T = TypeVar("T")


# -- sections --------------------------------------------------------------------------


@dataclass(frozen=True)
class CadreSettings:
    """``CADRE_*``: the yearly training minimum a selection checks unless it sets its own."""

    min_credit_hours: Decimal = Decimal(0)


@dataclass(frozen=True)
class FeedbackSettings:
    """``FEEDBACK_*``: the public's channels.

    Limits are per hour. A submitter's identity and text are sealed under the
    submitter's own key by the store (``shared.privacy``); ``identity_key``
    (Fernet) only opens the identities recorded before that, sealed with it.
    ``source_key`` keys the HMAC of a source in the rate limits; without it
    each process makes a random one.

    Retention: a submission's personal data (its submitter's identity and
    texts) is erased ``retention_days`` after it was received, once it is no
    longer open; ``retention_by_category`` sets other periods per category
    (``complaint_about_cadre=1825,consultation=365``). Looked for every
    ``retention_check_seconds``.
    """

    deadline_check_seconds: float = 60.0
    source_limit: int = 20
    receipt_limit: int = 10
    identity_key: str = field(default="", repr=False)
    source_key: str = field(default="", repr=False)
    retention_days: int = 1095
    retention_by_category: str = ""
    retention_check_seconds: float = 3600.0

    def __post_init__(self) -> None:
        self.retention_periods()  # refuse a malformed setting when it is read, not at the first sweep
        if self.retention_days < 1:
            raise ValueError(f"FEEDBACK_RETENTION_DAYS={self.retention_days} must be at least 1 day")

    def retention_periods(self) -> dict[str, int]:
        """``retention_by_category`` as ``{category: days}``."""
        periods: dict[str, int] = {}
        for item in (part.strip() for part in self.retention_by_category.split(",")):
            if not item:
                continue
            category, _, days = item.partition("=")
            if not category.strip() or not days.strip().isdigit() or int(days) < 1:
                raise ValueError(f"FEEDBACK_RETENTION_BY_CATEGORY: {item!r} is not 'category=days' with at least 1 day")
            periods[category.strip()] = int(days)
        return periods


@dataclass(frozen=True)
class SupervisionSettings:
    """``SUPERVISION_*``: how often overdue inspection tasks are looked for."""

    overdue_check_seconds: float = 60.0


@dataclass(frozen=True)
class TrainingSettings:
    """``TRAINING_*``: the online share where the department set no requirement, and the deadline check.

    ``online_share``: at most this share of a year's counted hours may be
    online hours (a requirement set for the year and post category sets its own).
    """

    online_share: Decimal = Decimal("0.5")
    deadline_check_seconds: float = 60.0


@dataclass(frozen=True)
class GrassrootsSettings:
    """``GRASSROOTS_*``: how often missed development steps and branch publications are looked for."""

    deadline_check_seconds: float = 60.0


@dataclass(frozen=True)
class TalentSettings:
    """``TALENT_*``: how often needs past their expiry are expired."""

    deadline_check_seconds: float = 60.0


@dataclass(frozen=True)
class AuditSettings:
    """``AUDIT_*``: signed tree heads of every store, and where they are published.

    The signing key is ``signing_key`` (base64 raw Ed25519, from a Secret),
    else the file ``signing_key_file``, else ``audit.key`` in the key
    directory (``SECURITY_KEYS_DIR``; ``make run`` makes one). ``public_key``
    (hex) is the key auditors trust, else ``audit.pub`` in the key directory;
    never a key inside the file being checked. ``head_sink`` is a directory
    outside the database where each service appends its heads
    (``<service>.heads.jsonl``); ``head_seconds`` is how often a head is signed.
    """

    head_seconds: float = 5.0
    signing_key: str = field(default="", repr=False)
    signing_key_file: str = ""
    public_key: str = ""
    head_sink: str = ""


@dataclass(frozen=True)
class SecuritySettings:
    """``SECURITY_*``: keys, and how long an identity assertion lives.

    ``keys_dir`` holds this process's private key (``<name>.key``) and the
    public keys it trusts (``<name>.pub``); see ``shared.security.keys``.
    Without it, a service refuses every call and every live event.
    """

    keys_dir: str = ""
    assertion_lifetime: float = 60.0
    leeway: float = 5.0


@dataclass(frozen=True)
class GatewaySettings:
    """``GATEWAY_*``: the HTTP door (``services.gateway``).

    Bearer tokens are JWTs from an identity provider, checked against its keys
    (``jwks_file``, else ``jwks_url``, else ``<SECURITY_KEYS_DIR>/tokens.jwks.json``,
    the local issuer's), its ``token_issuer`` and ``token_audience``, signed with
    one of ``token_algorithms`` (comma-separated; only the asymmetric ``EdDSA``
    and ``RS256`` are accepted). ``trusted_proxies`` is how many proxies in
    front of the gateway append to ``X-Forwarded-For``: with 0, the header is
    ignored and the peer's address is the client's. Rate limits are per client
    address, in the ``limits`` notation (``60/minute``).
    """

    http_port: int = 0  # 0: the [gateway] http_port of shared/services.toml (``gateway_port``)
    host: str = "0.0.0.0"
    trusted_proxies: int = 0
    jwks_file: str = ""
    jwks_url: str = ""
    token_issuer: str = "orgwork-local"
    token_audience: str = "orgwork-gateway"
    token_algorithms: str = "EdDSA"
    leeway: float = 30.0
    public_rate_limit: str = "60/minute"
    staff_rate_limit: str = "600/minute"
    rpc_timeout: float = 10.0
    rpc_pool_size: int = 8
    max_body_bytes: int = 256 * 1024

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.token_algorithms.split(",") if a.strip())


# -- the settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Process-wide settings, with a section per service.

    ``timezone`` is the organisation's: working days are counted on its dates.
    ``amqp_heartbeat`` is chosen deliberately: handlers are green, so the hub
    answers heartbeats while a handler waits on PostgreSQL; 30 s tolerates a
    busy machine without leaving a dead peer unnoticed for long.
    ``max_message_bytes`` bounds every AMQP message taken in, checked before
    it is parsed (``shared.runtime.messaging.wire``).
    ``platform_mode`` is ``development`` or ``production``: in production a
    service refuses to start without what it must not run without (the audit
    signing key, the head sink).
    ``amqp_ssl_ca_file``, ``amqp_ssl_cert_file`` and ``amqp_ssl_key_file``
    (PEM) make every AMQP connection TLS, verifying the broker against the CA
    and presenting the client certificate; see ``amqp_ssl``.
    ``inbound_delivery_limit`` is how many times the broker may hand an
    inbound event back (its consumer died, lost its connection or gave it back)
    before it dead-letters it into the service's ``dead_letters``; it is an
    argument of the inbound quorum queues (``shared.runtime.messaging.topology``).
    ``migrate_on_start`` (``MIGRATE_ON_START``): a service applies its own
    migrations when it starts (``make run``, the tests). Set false where a
    service runs as its own least-privilege role (docs/DATABASE.md), which may
    not migrate: it waits, up to ``migrate_wait_seconds``, until the migrate
    Job has brought its schema up to its code, and exits non-zero otherwise.
    ``db_role_prefix`` names each service's runtime role (``orgwork_cadre``),
    which ``platform migrate`` creates when missing and grants (``shared.db.roles``).
    """

    database_url: str = DEFAULT_DATABASE_URL
    amqp_uri: str = DEFAULT_AMQP_URI
    db_pool_size: int = 16
    max_workers: int = 10
    migrate_on_start: bool = True
    migrate_wait_seconds: float = 300.0
    db_role_prefix: str = "orgwork_"
    amqp_heartbeat: int = 30
    amqp_ssl_ca_file: str = ""
    amqp_ssl_cert_file: str = ""
    amqp_ssl_key_file: str = ""
    rpc_timeout: float = 10.0
    relay_batch_size: int = 500
    relay_idle_wait: float = 0.02
    relay_lag_ready_seconds: float = 60.0
    relay_lease_seconds: float = 10.0
    inbound_prefetch: int = 64
    inbound_delivery_limit: int = DEFAULT_INBOUND_DELIVERY_LIMIT
    max_message_bytes: int = 1024 * 1024
    handler_attempts: int = 5
    handler_backoff: float = 0.2
    handler_database_wait: float = 20.0
    clock: str = "system"
    timezone: str = "Asia/Shanghai"
    log_format: str = "auto"
    log_level: str = "INFO"
    platform_mode: str = "development"
    cadre: CadreSettings = field(default_factory=CadreSettings)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    supervision: SupervisionSettings = field(default_factory=SupervisionSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    grassroots: GrassrootsSettings = field(default_factory=GrassrootsSettings)
    talent: TalentSettings = field(default_factory=TalentSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; unset variables keep the defaults above."""
        return _load(cls, os.environ if env is None else env, prefix="")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed; a section may be given as a dict of its fields."""
        resolved = {
            name: dataclasses.replace(getattr(self, name), **value) if isinstance(value, dict) else value
            for name, value in changes.items()
        }
        return dataclasses.replace(self, **resolved)

    def amqp_ssl(self) -> dict[str, Any] | None:
        """TLS options for kombu's ``ssl`` (and nameko's ``AMQP_SSL``); None when no TLS file is set.

        The broker's certificate is verified (against ``amqp_ssl_ca_file``, else
        the system's CAs) and its host name checked against the URI's. Unset, the
        URI alone decides, as before: ``amqps://`` is TLS with the system's CAs.
        A fresh dict each time: kombu writes the host name into it.
        """
        if not (self.amqp_ssl_ca_file or self.amqp_ssl_cert_file or self.amqp_ssl_key_file):
            return None
        options: dict[str, Any] = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}
        if self.amqp_ssl_ca_file:
            options["ca_certs"] = self.amqp_ssl_ca_file
        if self.amqp_ssl_cert_file:
            options["certfile"] = self.amqp_ssl_cert_file
        if self.amqp_ssl_key_file:
            options["keyfile"] = self.amqp_ssl_key_file
        return options


def _load(cls: type[T], env: Mapping[str, str], prefix: str) -> T:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            values[f.name] = _load(kind, env, f"{prefix}{f.name}_")  # type: ignore[arg-type]
            continue
        variable = f"{prefix}{f.name}".upper()
        raw = env.get(variable)
        if raw is None or raw == "":
            continue
        values[f.name] = _parse(variable, raw, kind)
    return cls(**values)


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _boolean(raw: str) -> bool:
    """A yes or no, spelt any usual way; anything else is refused rather than taken for true."""
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(raw)
    return value in _TRUE


def _parse(variable: str, raw: str, kind: Any) -> Any:
    if isinstance(kind, types.UnionType):  # ``X | None``
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            return _boolean(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Decimal:
            return Decimal(raw)
        return raw
    except (ValueError, InvalidOperation) as exc:
        raise ValueError(f"environment variable {variable}={raw!r} is not a valid {kind.__name__}") from exc


# -- ports and addresses -----------------------------------------------------------------


@dataclass(frozen=True)
class ServicePorts:
    health: int
    metrics: int


def load_services_file(path: Path = SERVICES_FILE) -> dict[str, dict[str, int]]:
    """The raw contents of ``shared/services.toml`` (``SERVICES_FILE``)."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def service_ports(service: str, env: Mapping[str, str] | None = None, path: Path = SERVICES_FILE) -> ServicePorts:
    """The ports of one service: the file's value unless ``<SERVICE>_<KEY>`` is set."""
    env = os.environ if env is None else env
    table = load_services_file(path).get(service, {})

    def port(key: str) -> int:
        variable = f"{service.upper()}_{key.upper()}"
        raw = env.get(variable)
        if raw:
            return int(raw)
        if key not in table:
            raise KeyError(f"{path}: no {key} for service {service!r} (and {variable} is not set)")
        return int(table[key])

    return ServicePorts(health=port("health_port"), metrics=port("metrics_port"))


def gateway_port(settings: Settings, path: Path = SERVICES_FILE) -> int:
    """The gateway's HTTP port: ``GATEWAY_HTTP_PORT`` when set, else the services file's."""
    if settings.gateway.http_port:
        return settings.gateway.http_port
    return int(load_services_file(path)["gateway"]["http_port"])


#: Where another process reaches a service unless ``<SERVICE>_HOST`` says otherwise: this machine (``make run``).
DEFAULT_SERVICE_HOST = "127.0.0.1"
#: Listening addresses that mean "every interface": a process on the same machine reaches them on loopback.
_EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::", "[::]"})


@dataclass(frozen=True)
class ServiceAddress:
    """Where another process (orgctl, the demo) reaches a service's HTTP port."""

    host: str
    port: int

    def url(self, path: str = "") -> str:
        """``http://host:port`` and ``path``; an IPv6 address in brackets."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}{path}"


def service_address(service: str, env: Mapping[str, str] | None = None, path: Path = SERVICES_FILE) -> ServiceAddress:
    """Where a service's health port (``/health/*``, ``/status``) is reached from another process.

    The host is ``<SERVICE>_HOST`` (``CADRE_HOST=cadre.orgwork.svc``), else
    ``DEFAULT_SERVICE_HOST``: a service listens on every interface, so only the
    one asking needs to know where it runs. The port is ``service_ports``'s.
    """
    env = os.environ if env is None else env
    host = env.get(f"{service.upper()}_HOST") or DEFAULT_SERVICE_HOST
    return ServiceAddress(host, service_ports(service, env, path).health)


def gateway_address(settings: Settings, path: Path = SERVICES_FILE) -> ServiceAddress:
    """Where the gateway's HTTP port (API, docs, health) is reached from another process.

    ``GATEWAY_HOST`` is where the gateway listens; when that is every
    interface (the default, ``0.0.0.0``) another process reaches it at
    ``DEFAULT_SERVICE_HOST``, else at that host. The port is ``gateway_port``'s.
    """
    host = settings.gateway.host.strip()
    return ServiceAddress(DEFAULT_SERVICE_HOST if host in _EVERY_INTERFACE else host, gateway_port(settings, path))
