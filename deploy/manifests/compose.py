"""``docker-compose.yml``: the whole platform on one host, for a demo or a laptop.

PostgreSQL and RabbitMQ with volumes and published ports (so that ``make
demo`` and ``orgctl`` on the host reach them), the one-shot migration, every
service and the gateway, Prometheus scraping every service with the alert
rules loaded, and Grafana with the dashboard, all from the files under
``deploy/observability/`` that the cluster uses too. It runs in development
mode (PLATFORM_MODE), like ``make run``: everything connects as the
databases' and the broker's administrators, and the services sign their tree
heads with the local audit key (``.orgwork/keys/audit.key``: run ``make run``
or ``orgctl keys init`` first).
"""

from __future__ import annotations

from typing import Any

import yaml

from deploy.manifests.data_services import RABBITMQ_IMAGE
from deploy.manifests.model import GATEWAY, GATEWAY_COMMAND, HEADS_DIR, ports, services
from shared.config import load_services_file

POSTGRES_IMAGE = "postgres:15.10"
PROMETHEUS_IMAGE = "prom/prometheus:v2.55.1"
GRAFANA_IMAGE = "grafana/grafana:11.3.1"
#: Where compose mounts the local audit key (``.orgwork/keys/audit.key``) as ``AUDIT_SIGNING_KEY_FILE``.
AUDIT_KEY = "/run/secrets/audit-signing-key"
ADMIN = "orgwork"
DATABASE_URL = f"postgresql://postgres:{ADMIN}@postgres:5432/orgwork"
AMQP_URI = f"amqp://{ADMIN}:{ADMIN}@rabbitmq:5672/"
OBSERVABILITY = "./deploy/observability"

HEADER = """\
The platform in containers: PostgreSQL, RabbitMQ, a one-shot migration, every
service, the gateway, Prometheus and Grafana. Rendered by `python -m
deploy.manifests` (make manifests) from deploy/manifests/compose.py: edit that.
`docker compose up --build` needs a Docker engine; the test suite checks this
file offline against the compose specification. Before the first start, make
the local keys (`orgctl keys init`) and let the containers' user read the audit
key (`setfacl -m u:10001:r .orgwork/keys/audit.key`). Then, from the host:
  make demo (AMQP_URI=amqp://orgwork:orgwork@localhost:5672/
             DATABASE_URL=postgresql://postgres:orgwork@localhost:5432/orgwork)
  the gateway on :8080, Prometheus on :9090, Grafana on :3000 (admin / $GRAFANA_ADMIN_PASSWORD)."""


def _platform(command: dict[str, Any]) -> dict[str, Any]:
    """What every container of the platform's image shares."""
    return {
        "image": "orgwork:latest",
        "build": {"context": ".", "dockerfile": "deploy/Dockerfile"},
        **command,
        "depends_on": {
            "postgres": {"condition": "service_healthy"},
            "rabbitmq": {"condition": "service_healthy"},
        },
    }


def _environment(**extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": DATABASE_URL,
        "AMQP_URI": AMQP_URI,
        "LOG_FORMAT": "json",
        # A local platform: the offset clock, which `make demo` moves forward.
        "CLOCK": "offset",
        **extra,
    }


def _after_migrate(service: dict[str, Any]) -> dict[str, Any]:
    service["depends_on"]["migrate"] = {"condition": "service_completed_successfully"}
    service["restart"] = "unless-stopped"
    return service


def _service(name: str) -> dict[str, Any]:
    health, metrics = ports(name).health, ports(name).metrics
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{health}/health/ready', timeout=3)"
    return _after_migrate(
        {
            **_platform({"command": [name]}),
            "environment": _environment(
                **{
                    f"{name.upper()}_HEALTH_PORT": str(health),
                    f"{name.upper()}_METRICS_PORT": str(metrics),
                    "MIGRATE_ON_START": "false",
                    "AUDIT_SIGNING_KEY_FILE": AUDIT_KEY,
                    "AUDIT_PUBLIC_KEY": "${AUDIT_PUBLIC_KEY:-}",
                    "AUDIT_HEAD_SINK": HEADS_DIR,
                }
            ),
            "secrets": ["audit-signing-key"],
            "volumes": [f"audit-heads:{HEADS_DIR}"],
            "ports": [f"{health}:{health}", f"{metrics}:{metrics}"],
            "stop_grace_period": "45s",
            "healthcheck": {
                "test": ["CMD", "python", "-c", probe],
                "interval": "10s",
                "timeout": "5s",
                "retries": 6,
                "start_period": "60s",
            },
        }
    )


def _gateway(http: int) -> dict[str, Any]:
    return _after_migrate(
        {
            **_platform({"entrypoint": GATEWAY_COMMAND}),
            "environment": _environment(GATEWAY_HTTP_PORT=str(http)),
            "ports": [f"{http}:{http}"],
            "stop_grace_period": "30s",
        }
    )


def compose() -> dict[str, Any]:
    names = services()
    gateway = load_services_file().get(GATEWAY)
    document: dict[str, Any] = {
        "name": "orgwork",
        "services": {
            "postgres": {
                "image": POSTGRES_IMAGE,
                "environment": {"POSTGRES_PASSWORD": ADMIN, "POSTGRES_DB": "orgwork"},
                "volumes": ["pgdata:/var/lib/postgresql/data"],
                "ports": ["${POSTGRES_PORT:-5432}:5432"],
                "healthcheck": {
                    "test": ["CMD-SHELL", "pg_isready -U postgres -d orgwork"],
                    "interval": "5s",
                    "timeout": "3s",
                    "retries": 20,
                },
            },
            "rabbitmq": {
                "image": RABBITMQ_IMAGE,
                # A fixed host name: the node's name (rabbit@rabbitmq), and so its data, survives a new container.
                "hostname": "rabbitmq",
                # RabbitMQ lets guest in from its own host only.
                "environment": {"RABBITMQ_DEFAULT_USER": ADMIN, "RABBITMQ_DEFAULT_PASS": ADMIN},
                "volumes": ["rabbitmq-data:/var/lib/rabbitmq"],
                "ports": ["${AMQP_PORT:-5672}:5672", "${RABBITMQ_MANAGEMENT_PORT:-15672}:15672"],
                "healthcheck": {
                    "test": ["CMD", "rabbitmq-diagnostics", "-q", "ping"],
                    "interval": "10s",
                    "timeout": "5s",
                    "retries": 20,
                },
            },
            "migrate": {
                **_platform(
                    {"entrypoint": ["python", "-m", "shared.runtime.process.platform"], "command": ["migrate"]}
                ),
                "environment": _environment(),
                "restart": "no",
            },
            **{name: _service(name) for name in names},
        },
    }
    if gateway is not None:
        document["services"][GATEWAY] = _gateway(int(gateway["http_port"]))
    document["services"]["prometheus"] = {
        "image": PROMETHEUS_IMAGE,
        "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "volumes": [
            f"{OBSERVABILITY}/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
            f"{OBSERVABILITY}/alerts.yml:/etc/prometheus/alerts.yml:ro",
            "prometheus-data:/prometheus",
        ],
        "ports": ["${PROMETHEUS_PORT:-9090}:9090"],
        "depends_on": list(names),
    }
    document["services"]["grafana"] = {
        "image": GRAFANA_IMAGE,
        "environment": {
            "GF_SECURITY_ADMIN_PASSWORD": "${GRAFANA_ADMIN_PASSWORD:-orgwork}",
            "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH": "/var/lib/grafana/dashboards/orgwork.json",
        },
        "volumes": [
            f"{OBSERVABILITY}/grafana/provisioning:/etc/grafana/provisioning:ro",
            f"{OBSERVABILITY}/grafana/dashboards:/var/lib/grafana/dashboards:ro",
            "grafana-data:/var/lib/grafana",
        ],
        "ports": ["${GRAFANA_PORT:-3000}:3000"],
        "depends_on": ["prometheus"],
    }
    document["volumes"] = {
        "pgdata": {},
        "rabbitmq-data": {},
        # Every service's signed tree heads (<service>.heads.jsonl), outside the database; the image
        # makes its mount point the services' user's, so a fresh volume is writable.
        "audit-heads": {},
        "prometheus-data": {},
        "grafana-data": {},
    }
    document["secrets"] = {"audit-signing-key": {"file": "${AUDIT_SIGNING_KEY_PATH:-./.orgwork/keys/audit.key}"}}
    return document


def render() -> str:
    comment = "".join(f"# {line}".rstrip() + "\n" for line in HEADER.splitlines())
    return comment + yaml.safe_dump(compose(), sort_keys=False, width=120)
