"""What every manifest shares: names, labels, the restricted security context, YAML with a header."""

from __future__ import annotations

from typing import Any

import yaml

from shared.cli.deploy_secrets import BROKER_CLUSTER, DB_CLUSTER, NAMESPACE
from shared.config import ServicePorts, service_ports
from shared.runtime.process.catalog import existing_services

#: The image every workload runs; the overlays set its registry, tag and digest (``images:``).
IMAGE = "orgwork"
#: The services' user and group in the image (deploy/Dockerfile).
UID = 10001
#: Where a pod finds its keys, the database's CA, and where a service appends its signed tree heads.
KEYS_DIR = "/etc/orgwork/keys"
DB_CA_DIR = "/etc/orgwork/db-ca"
HEADS_DIR = "/var/lib/orgwork/audit-heads"
HEADS_CLAIM = "orgwork-audit-heads"
SETTINGS = "orgwork-settings"
#: The migrate Job, and the ConfigMap whose hash names it (``kustomize``).
MIGRATE = "orgwork-migrate"
GATEWAY = "gateway"
GATEWAY_COMMAND = ["python", "-m", "services.gateway"]
PART_OF = {"app.kubernetes.io/part-of": "orgwork"}
#: The pods the operators run, as the network policies find them.
DB_PODS = {"cnpg.io/cluster": DB_CLUSTER}
BROKER_PODS = {"app.kubernetes.io/name": BROKER_CLUSTER}
DB_PORT, AMQP_PORT, AMQPS_PORT = 5432, 5672, 5671

__all__ = ["BROKER_CLUSTER", "DB_CLUSTER", "NAMESPACE"]


def services() -> list[str]:
    return existing_services()


def ports(name: str) -> ServicePorts:
    return service_ports(name, env={})


def labels(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, **PART_OF}


def metadata(name: str, component: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "labels": labels(name, component), **extra}


def pod_security() -> dict[str, Any]:
    """Pod Security "restricted": not root, a fixed uid and group, the runtime's seccomp profile."""
    return {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def database_env(secret: str) -> list[dict[str, Any]]:
    """``DATABASE_URL`` from a role's ``username``/``password`` Secret and the settings' host, verified TLS.

    Kubernetes expands ``$(VAR)`` from variables set before it (the ConfigMap's
    come first, through ``envFrom``), so no URI with a password is kept in any
    Secret, and CloudNativePG's and our Secrets fit as they are.
    """
    return [
        secret_env("DB_USER", secret, "username"),
        secret_env("DB_PASSWORD", secret, "password"),
        env(
            "DATABASE_URL",
            "postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)"
            f"?sslmode=verify-full&sslrootcert={DB_CA_DIR}/ca.crt",
        ),
    ]


def broker_env(secret: str) -> list[dict[str, Any]]:
    """``AMQP_URI`` from a broker user's ``username``/``password`` Secret and the settings' host."""
    return [
        secret_env("AMQP_USER", secret, "username"),
        secret_env("AMQP_PASSWORD", secret, "password"),
        env("AMQP_URI", "$(AMQP_SCHEME)://$(AMQP_USER):$(AMQP_PASSWORD)@$(AMQP_HOST):$(AMQP_PORT)/"),
    ]


def db_ca_volume() -> dict[str, Any]:
    from shared.cli.deploy_secrets import OPERATOR_MADE

    ca_secret = next(name for name in OPERATOR_MADE if name.endswith("-ca"))
    return {"name": "db-ca", "secret": {"secretName": ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]}}


class Literal(str):
    """A block of text dumped as ``|`` in YAML (a dashboard, a comment-worthy config)."""


def _literal(dumper: yaml.SafeDumper, value: Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Literal, _literal)


def dump(documents: list[dict[str, Any]], header: str) -> str:
    """YAML documents under a comment that says where they come from and what they are."""
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.strip().splitlines())
    body = "---\n".join(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=120) for doc in documents)
    return comment + body
