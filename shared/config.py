"""Configuration from environment variables, with defaults that work locally.

Every process of the platform (services, the CLI, the tests, the benchmarks)
reads its settings here, so that one variable means the same thing everywhere.
Ports live in ``deploy/services.toml``; see ``service_ports``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/orgwork"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_FILE = REPO_ROOT / "deploy" / "services.toml"

#: The six services of the platform, in the order the design lists them.
SERVICE_NAMES: tuple[str, ...] = (
    "cadre",
    "talent",
    "grassroots",
    "supervision",
    "training",
    "feedback",
)


@dataclass(frozen=True)
class Settings:
    """Process-wide settings.

    ``timezone`` is the organisation's: working days are counted on its dates.
    ``amqp_heartbeat`` is chosen deliberately: handlers are green, so the hub
    answers heartbeats while a handler waits on PostgreSQL; 30 s tolerates a
    busy machine without leaving a dead peer unnoticed for long.
    """

    database_url: str = DEFAULT_DATABASE_URL
    amqp_uri: str = DEFAULT_AMQP_URI
    db_pool_size: int = 16
    max_workers: int = 10
    amqp_heartbeat: int = 30
    rpc_timeout: float = 10.0
    relay_batch_size: int = 500
    relay_idle_wait: float = 0.02
    relay_lag_ready_seconds: float = 60.0
    inbound_prefetch: int = 64
    handler_attempts: int = 5
    handler_backoff: float = 0.2
    handler_database_wait: float = 20.0
    clock: str = "system"
    timezone: str = "Asia/Shanghai"
    log_format: str = "auto"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings; unset variables keep the defaults above."""
        env = os.environ if env is None else env
        defaults = cls()

        def pick(name: str, default: object) -> object:
            raw = env.get(name.upper())
            if raw is None or raw == "":
                return default
            try:
                if isinstance(default, int):
                    return int(raw)
                if isinstance(default, float):
                    return float(raw)
                return raw
            except ValueError as exc:
                raise ValueError(f"environment variable {name.upper()}={raw!r}: {exc}") from exc

        values = {name: pick(name, getattr(defaults, name)) for name in cls.__dataclass_fields__}
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ServicePorts:
    health: int
    metrics: int


def load_services_file(path: Path = SERVICES_FILE) -> dict[str, dict[str, int]]:
    """The raw contents of ``deploy/services.toml``."""
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
