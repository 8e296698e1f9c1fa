"""PostgreSQL and RabbitMQ as their operators run them, and each principal's rights on both.

PostgreSQL is a CloudNativePG ``Cluster``: the database's owner is the
migration role (the migrate Job); each service's runtime role is a managed role
whose password is its Secret (``orgctl deploy secrets``), and whose rights the
migrate Job grants (docs/DATABASE.md). Commits wait for one synchronous standby
in production, since an event once acknowledged must survive the primary.

RabbitMQ is a ``RabbitmqCluster`` from the RabbitMQ Cluster Operator; each
principal's user, permissions and topic permissions are ``User``,
``Permission`` and ``TopicPermission`` resources of its Messaging Topology
Operator, computed by ``shared.runtime.process.broker`` from the services'
subscriptions, the same model ``make run`` loads into a local broker.
"""

from __future__ import annotations

import re
from typing import Any

from deploy.manifests.model import BROKER_CLUSTER, DB_CLUSTER, metadata, services
from shared.cli.deploy_secrets import DB_NAME, DB_OWNER, amqp_secret, broker_user, db_role, db_secret
from shared.runtime.process import broker
from shared.runtime.process.catalog import load_service

POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15.10"
RABBITMQ_IMAGE = "rabbitmq:3.13.7-management"
VHOST = "/"
#: docs/DATABASE.md: 6 services x up to 4 replicas x (DB_POOL_SIZE 12 + 3) = 360, with room for the migrate
#: Job, orgctl, the operator and the reserved slots.
MAX_CONNECTIONS = 400
#: One replica's worst case (DB_POOL_SIZE + 3) times the autoscaler's maximum plus a rolling update's extra pod.
ROLE_CONNECTION_LIMIT = 15 * 5


def database(instances: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": metadata(DB_CLUSTER, "database"),
        "spec": {
            "instances": instances,
            "imageName": POSTGRES_IMAGE,
            "enableSuperuserAccess": False,
            "primaryUpdateStrategy": "unsupervised",
            "postgresql": {
                "parameters": {
                    "max_connections": str(MAX_CONNECTIONS),
                    "log_min_duration_statement": "1000",
                    "idle_in_transaction_session_timeout": "60s",
                }
            },
            "bootstrap": {"initdb": {"database": DB_NAME, "owner": DB_OWNER}},
            "managed": {
                "roles": [
                    {
                        "name": db_role(name),
                        "ensure": "present",
                        "login": True,
                        "inherit": True,
                        "connectionLimit": ROLE_CONNECTION_LIMIT,
                        "passwordSecret": {"name": db_secret(name)},
                        "comment": f"{name}'s runtime role: rights granted by the migrate Job",
                    }
                    for name in services()
                ]
            },
            "storage": {"size": "20Gi"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        },
    }


def message_broker(replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "rabbitmq.com/v1beta1",
        "kind": "RabbitmqCluster",
        "metadata": metadata(BROKER_CLUSTER, "broker"),
        "spec": {
            "replicas": replicas,
            "image": RABBITMQ_IMAGE,
            "persistence": {"storage": "10Gi"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
            "rabbitmq": {"additionalConfig": "log.console.formatter = json\n"},
        },
    }


def _name(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def broker_rights() -> list[dict[str, Any]]:
    """Each principal's user, its permissions on the vhost, and its topic permissions."""
    cluster = {"name": BROKER_CLUSTER}
    documents: list[dict[str, Any]] = []
    for grant in broker.grants([load_service(name) for name in services()]):
        user = broker_user(grant.principal)
        documents.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "User",
                "metadata": metadata(user, "broker-user"),
                "spec": {
                    "rabbitmqClusterReference": cluster,
                    "importCredentialsSecret": {"name": amqp_secret(grant.principal)},
                },
            }
        )
        documents.append(
            {
                "apiVersion": "rabbitmq.com/v1beta1",
                "kind": "Permission",
                "metadata": metadata(user, "broker-user"),
                "spec": {
                    "vhost": VHOST,
                    "userReference": {"name": user},
                    "permissions": {"configure": grant.configure, "write": grant.write, "read": grant.read},
                    "rabbitmqClusterReference": cluster,
                },
            }
        )
        for topic in grant.topics:
            documents.append(
                {
                    "apiVersion": "rabbitmq.com/v1beta1",
                    "kind": "TopicPermission",
                    "metadata": metadata(f"{user}-{_name(topic.exchange)}", "broker-user"),
                    "spec": {
                        "vhost": VHOST,
                        "userReference": {"name": user},
                        "permissions": {"exchange": topic.exchange, "write": topic.write, "read": topic.read},
                        "rabbitmqClusterReference": cluster,
                    },
                }
            )
    return documents


def production_database_patch() -> dict[str, Any]:
    """Three instances, one synchronous standby, base backups and WAL to an object store.

    ``barmanObjectStore`` is CloudNativePG's in-tree backup, current in 1.25 (the
    README's); from 1.26 it is deprecated for the Barman Cloud plugin, which a
    move past 1.30 must adopt. Its metrics: a PodMonitor of ours (``monitoring``).
    """
    from shared.cli.deploy_secrets import DB_BACKUP_SECRET

    credentials = {"name": DB_BACKUP_SECRET}
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": DB_CLUSTER},
        "spec": {
            "instances": 3,
            # A commit waits for one standby (CloudNativePG 1.24+; minSyncReplicas is the older way).
            "postgresql": {"synchronous": {"method": "any", "number": 1}},
            "storage": {"size": "100Gi"},
            "backup": {
                "retentionPolicy": "30d",
                "barmanObjectStore": {
                    "destinationPath": "s3://orgwork-backups/orgwork-db",
                    "s3Credentials": {
                        "accessKeyId": {**credentials, "key": "ACCESS_KEY_ID"},
                        "secretAccessKey": {**credentials, "key": "ACCESS_SECRET_KEY"},
                    },
                    "wal": {"compression": "gzip"},
                    "data": {"compression": "gzip"},
                },
            },
        },
    }


def scheduled_backup() -> dict[str, Any]:
    """A base backup every night at 02:00 (CloudNativePG's schedule has seconds first)."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "ScheduledBackup",
        "metadata": metadata(f"{DB_CLUSTER}-nightly", "database"),
        "spec": {"schedule": "0 0 2 * * *", "backupOwnerReference": "self", "cluster": {"name": DB_CLUSTER}},
    }
