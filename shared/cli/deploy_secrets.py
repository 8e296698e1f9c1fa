"""orgctl deploy secrets: every Secret a Kubernetes deployment reads, made fresh, never committed.

The manifests in ``k8s/`` (rendered by ``deploy/manifests``) name these
Secrets and nothing else holds their values: there is no example file with
keys in the repository. ``orgctl deploy secrets > secrets.yaml`` makes a new
set (new key pairs, new passwords) to apply once, before the first rollout::

    orgctl deploy secrets --out secrets.yaml   # written 0600
    kubectl apply -f secrets.yaml && shred -u secrets.yaml

Run it once per environment: every run makes new keys, and a second set would
not open what the first sealed. The names are the contract between this
module and the manifests (``deploy/manifests`` imports them), so the two
cannot drift apart; the operators make the rest (``OPERATOR_MADE``), and the
object store's credentials come from its provider (``EXTERNAL``).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.audit.heads import new_signing_key, private_key_from_text
from shared.config import SERVICE_NAMES
from shared.security import keys, sealed_identity

NAMESPACE = "orgwork"
#: The CloudNativePG ``Cluster`` and the ``RabbitmqCluster`` the manifests declare.
DB_CLUSTER = "orgwork-db"
BROKER_CLUSTER = "orgwork-rabbitmq"
#: The database the migration role (the database owner) owns; the runtime roles' names.
DB_NAME = "orgwork"
DB_OWNER = "orgwork"
DB_ROLE_PREFIX = "orgwork_"
GATEWAY, OPERATOR = "gateway", "operator"
AUDIT_SECRET = "orgwork-audit"
FEEDBACK_SECRET = "orgwork-feedback"
DB_BACKUP_SECRET = "orgwork-db-backup"

#: Secrets the operators make themselves, which the manifests read.
OPERATOR_MADE = {
    f"{DB_CLUSTER}-app": "CloudNativePG: the database owner's credentials (the migrate Job's role)",
    f"{DB_CLUSTER}-ca": "CloudNativePG: the CA that signs the database's server certificate (ca.crt)",
    f"{BROKER_CLUSTER}-default-user": "RabbitMQ Cluster Operator: the broker's administrator (the migrate Job's user)",
}
#: Secrets from outside the cluster.
EXTERNAL = {
    DB_BACKUP_SECRET: "the object store's credentials for base backups and WAL (ACCESS_KEY_ID, ACCESS_SECRET_KEY)"
}


def db_role(service: str) -> str:
    return f"{DB_ROLE_PREFIX}{service}"


def db_secret(service: str) -> str:
    """The runtime role's credentials (``kubernetes.io/basic-auth``), CloudNativePG's ``passwordSecret`` too."""
    return f"orgwork-db-{service}"


def broker_user(principal: str) -> str:
    """A principal's user on the broker (``shared.runtime.process.broker`` names them so on the vhost ``/``)."""
    return f"orgwork-{principal}"


def amqp_secret(principal: str) -> str:
    """A principal's broker credentials, the RabbitMQ ``User``'s ``importCredentialsSecret``."""
    return f"orgwork-{principal}-amqp"


def keys_secret(principal: str) -> str:
    """A workload's ``SECURITY_KEYS_DIR``: its own private key and every public key."""
    return f"orgwork-{principal}-keys"


def broker_principals(services: Iterable[str]) -> list[str]:
    return [*services, GATEWAY, OPERATOR]


def secret_names(services: Iterable[str]) -> list[str]:
    """Every Secret ``make_secrets`` makes for ``services``."""
    names = list(services)
    return [
        *(db_secret(name) for name in names),
        *(amqp_secret(principal) for principal in broker_principals(names)),
        *(keys_secret(principal) for principal in [*names, GATEWAY, OPERATOR]),
        AUDIT_SECRET,
        *([FEEDBACK_SECRET] if "feedback" in names else []),
    ]


def _secret(name: str, data: dict[str, str], comment: str, kind: str = "Opaque") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "orgwork"},
            "annotations": {"orgwork/purpose": comment},
        },
        "type": kind,
        "stringData": data,
    }


def _password() -> str:
    """URL-safe, so that it goes into a connection URI as it is."""
    return secrets.token_urlsafe(32)


def make_secrets(services: Iterable[str] = SERVICE_NAMES) -> list[dict[str, Any]]:
    """A new set of every Secret the manifests read, but those the operators make."""
    names = list(services)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        keys.generate(directory, [*keys.HOLDERS])
        public = {path.name: path.read_text() for path in sorted(directory.glob("*.pub"))}
        own_public = {n: t for n, t in public.items() if n != sealed_identity.PUBLIC_FILE}

        def key_files(principal: str) -> dict[str, str]:
            files = {f"{principal}.key": (directory / f"{principal}.key").read_text(), **own_public}
            if principal == "feedback":
                files[sealed_identity.PRIVATE_FILE] = (directory / sealed_identity.PRIVATE_FILE).read_text()
            if principal == GATEWAY and "feedback" in names:
                files[sealed_identity.PUBLIC_FILE] = public[sealed_identity.PUBLIC_FILE]
            return files

        made = [
            *(
                _secret(
                    db_secret(name),
                    {"username": db_role(name), "password": _password()},
                    f"{name}'s runtime database role (CloudNativePG managed role)",
                    "kubernetes.io/basic-auth",
                )
                for name in names
            ),
            *(
                _secret(
                    amqp_secret(principal),
                    {"username": broker_user(principal), "password": _password()},
                    f"{principal}'s own broker user (RabbitMQ User resource)",
                )
                for principal in broker_principals(names)
            ),
            *(
                _secret(keys_secret(principal), key_files(principal), f"{principal}'s SECURITY_KEYS_DIR")
                for principal in [*names, GATEWAY, OPERATOR]
            ),
        ]
    signing = new_signing_key()
    public_key = private_key_from_text(signing, "new key").public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    made.append(
        _secret(
            AUDIT_SECRET,
            {"signing-key": signing, "public-key": public_key.hex()},
            "the key every service signs its tree heads with, and the public key auditors trust",
        )
    )
    if "feedback" in names:
        made.append(
            _secret(
                FEEDBACK_SECRET,
                {"identity-key": Fernet.generate_key().decode(), "source-key": _password()},
                "feedback: the key identities are kept under, and the key of the sources' rate-limit HMAC",
            )
        )
    return made


def render(documents: list[dict[str, Any]]) -> str:
    head = "# Made by `orgctl deploy secrets`: real keys and passwords. Apply, then destroy; never commit.\n"
    return head + "".join("---\n" + yaml.safe_dump(doc, sort_keys=False) for doc in documents)


deploy_app = typer.Typer(help="What a Kubernetes deployment needs that the repository does not hold.")


@deploy_app.command("secrets")
def secrets_command(
    out: Annotated[Path | None, typer.Option(help="Write here (mode 0600) instead of standard output.")] = None,
) -> None:
    """Every Secret the manifests in k8s/ read, with new keys and passwords (run once per environment)."""
    text = render(make_secrets())
    if out is None:
        typer.echo(text, nl=False)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    typer.echo(f"{out}: {text.count('kind: Secret')} Secrets, mode 0600", err=True)
