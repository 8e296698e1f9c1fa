"""The platform's workloads: each service, the gateway, the migrate Job, and what each needs beside it.

Every pod runs as Pod Security "restricted" asks (``model.pod_security``),
under a ServiceAccount of its own with no API token mounted (none of them calls
the Kubernetes API), with requests sized from what a replica uses and a memory
limit; no CPU limit, which would only throttle a worker past its AMQP
heartbeat.

Probes (``shared.runtime.operations``):

``startupProbe``    ``/health/live``, up to ten minutes: the health port opens
                    only once the schema is migrated (the migrate Job) and the
                    queues are declared, so a new pod waits here, not in a
                    restart loop.
``livenessProbe``   ``/health/live``: the process runs. Restarting helps only
                    a wedged process, never a slow database.
``readinessProbe``  ``/health/ready``: this replica has started and is not
                    stopping. Shared dependencies (the database, the broker,
                    the relay's lag) are not in it, so an outage or a backlog
                    never takes every replica out at once nor blocks a drain:
                    they answer on ``/health/dependencies`` and in alerts.
"""

from __future__ import annotations

from typing import Any

from deploy.manifests.model import (
    DB_CA_DIR,
    GATEWAY,
    GATEWAY_COMMAND,
    HEADS_CLAIM,
    HEADS_DIR,
    IMAGE,
    KEYS_DIR,
    MIGRATE,
    SETTINGS,
    broker_env,
    container_security,
    database_env,
    db_ca_volume,
    env,
    labels,
    metadata,
    pod_security,
    ports,
    secret_env,
)
from shared.cli.deploy_secrets import (
    AUDIT_SECRET,
    BROKER_CLUSTER,
    DB_CLUSTER,
    DB_NAME,
    FEEDBACK_SECRET,
    amqp_secret,
    db_secret,
    keys_secret,
)

#: Settings every workload reads (a generated ConfigMap: a change rolls every Deployment).
#: ``DB_*`` and ``AMQP_*`` are the parts of the connection URIs that are not secret.
SETTINGS_ENV = {
    "LOG_FORMAT": "json",
    "CLOCK": "system",
    "AMQP_HEARTBEAT": "30",
    "MAX_WORKERS": "10",
    # docs/DATABASE.md: a replica holds at most DB_POOL_SIZE + 3 connections; the pool must exceed MAX_WORKERS.
    "DB_POOL_SIZE": "12",
    "DB_HOST": f"{DB_CLUSTER}-rw",
    "DB_PORT": "5432",
    "DB_NAME": DB_NAME,
    "AMQP_SCHEME": "amqp",
    "AMQP_HOST": BROKER_CLUSTER,
    "AMQP_PORT": "5672",
    # The migrate Job migrates; a service waits for its schema and never alters it (its role may not).
    "MIGRATE_ON_START": "false",
}

#: Settings a service reads from a Secret of its own: ``{service: [(variable, secret, key)]}``.
OWN_SECRETS = {
    "feedback": [
        ("FEEDBACK_IDENTITY_KEY", FEEDBACK_SECRET, "identity-key"),
        ("FEEDBACK_SOURCE_KEY", FEEDBACK_SECRET, "source-key"),
    ],
}

SERVICE_REPLICAS = (2, 4)
GATEWAY_REPLICAS = (2, 6)
STARTUP_SECONDS = 600


def _http_probe(path: str, port: str, period: int, failures: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "failureThreshold": failures}


def _probes(port: str) -> dict[str, Any]:
    return {
        "startupProbe": _http_probe("/health/live", port, 5, STARTUP_SECONDS // 5),
        "livenessProbe": _http_probe("/health/live", port, 10, 3),
        "readinessProbe": _http_probe("/health/ready", port, 5, 3),
    }


def _keys(principal: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys Secret as a volume (0440: the pod's group only) and its read-only mount."""
    volume = {"name": "keys", "secret": {"secretName": keys_secret(principal), "defaultMode": 0o440}}
    return volume, {"name": "keys", "mountPath": KEYS_DIR, "readOnly": True}


def _pod(name: str, container: dict[str, Any], volumes: list[dict[str, Any]], grace: int) -> dict[str, Any]:
    return {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": grace,
        "securityContext": pod_security(),
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            }
        ],
        "containers": [container],
        "volumes": volumes,
    }


def _deployment(name: str, component: str, pod: dict[str, Any], replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, component),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": labels(name, component)}, "spec": pod},
        },
    }


def _beside(name: str, component: str, service_ports: list[tuple[str, int]], replicas: tuple[int, int]) -> list[dict]:
    """What every Deployment has beside it: its ServiceAccount, Service, disruption budget and autoscaler."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(name, component),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name, component),
            "spec": {
                "selector": {"app.kubernetes.io/name": name},
                "ports": [{"name": p, "port": n, "targetPort": p} for p, n in service_ports],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": metadata(name, component),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": metadata(name, component),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": replicas[0],
                "maxReplicas": replicas[1],
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}},
                    }
                ],
            },
        },
    ]


def service(name: str) -> list[dict[str, Any]]:
    """A service: two replicas or more; RPC requests spread over them, while inbound queues are
    single-active-consumer and one relay publishes at a time (a lease), so a standby takes over in
    order when the active one dies. It signs its store's tree heads with the audit key and appends
    them to the shared claim; in production mode it refuses to start without either."""
    health, metrics = ports(name).health, ports(name).metrics
    keys_volume, keys_mount = _keys(name)
    container = {
        "name": name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [name],
        "envFrom": [{"configMapRef": {"name": SETTINGS}}],
        "env": [
            *database_env(db_secret(name)),
            *broker_env(amqp_secret(name)),
            env("SECURITY_KEYS_DIR", KEYS_DIR),
            env(f"{name.upper()}_HEALTH_PORT", str(health)),
            env(f"{name.upper()}_METRICS_PORT", str(metrics)),
            env("PLATFORM_MODE", "production"),
            secret_env("AUDIT_SIGNING_KEY", AUDIT_SECRET, "signing-key"),
            secret_env("AUDIT_PUBLIC_KEY", AUDIT_SECRET, "public-key"),
            env("AUDIT_HEAD_SINK", HEADS_DIR),
            *(secret_env(variable, secret, key) for variable, secret, key in OWN_SECRETS.get(name, [])),
        ],
        "ports": [{"name": "health", "containerPort": health}, {"name": "metrics", "containerPort": metrics}],
        **_probes("health"),
        "resources": {"requests": {"cpu": "100m", "memory": "192Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [
            keys_mount,
            {"name": "db-ca", "mountPath": DB_CA_DIR, "readOnly": True},
            {"name": "audit-heads", "mountPath": HEADS_DIR},
        ],
    }
    volumes = [
        keys_volume,
        db_ca_volume(),
        {"name": "audit-heads", "persistentVolumeClaim": {"claimName": HEADS_CLAIM}},
    ]
    return [
        _deployment(name, "service", _pod(name, container, volumes, grace=45), SERVICE_REPLICAS[0]),
        *_beside(name, "service", [("health", health), ("metrics", metrics)], SERVICE_REPLICAS),
    ]


def gateway(http_port: int) -> list[dict[str, Any]]:
    """The HTTP door: calls the services over RPC as its own broker user (requests out, its replies
    in), signs identity assertions with its key and seals submitters' identities to feedback's key;
    it holds no database credentials and no audit key."""
    keys_volume, keys_mount = _keys(GATEWAY)
    container = {
        "name": GATEWAY,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": GATEWAY_COMMAND,
        "envFrom": [{"configMapRef": {"name": SETTINGS}}],
        "env": [
            *broker_env(amqp_secret(GATEWAY)),
            env("SECURITY_KEYS_DIR", KEYS_DIR),
            env("PLATFORM_MODE", "production"),
            env("GATEWAY_HTTP_PORT", str(http_port)),
        ],
        "ports": [{"name": "http", "containerPort": http_port}],
        **_probes("http"),
        # Endpoints are removed while the pod terminates, not before: keep serving a moment, so that
        # a request routed to it just before is answered, not refused.
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "384Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [keys_mount],
    }
    return [
        _deployment(GATEWAY, "gateway", _pod(GATEWAY, container, [keys_volume], grace=30), GATEWAY_REPLICAS[0]),
        *_beside(GATEWAY, "gateway", [("http", http_port)], GATEWAY_REPLICAS),
    ]


def migrate_job() -> list[dict[str, Any]]:
    """Applies every schema's migrations, grants each service's role its rights, declares every queue.

    Its name is the hash of the ConfigMap ``orgwork-migrate``, which holds the
    image reference (``kustomize``): a new image is a new Job, which runs while
    the new pods wait in their startup probe for their schema. Safe to run
    again: applied migrations are recorded, and concurrent runs take turns on an
    advisory lock. It alone connects as the database's owner and the broker's
    administrator, both made by the operators.
    """
    from shared.cli.deploy_secrets import OPERATOR_MADE

    owner = next(name for name in OPERATOR_MADE if name.endswith("-app"))
    admin = next(name for name in OPERATOR_MADE if name.endswith("-default-user"))
    container = {
        "name": "migrate",
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "shared.runtime.process.platform", "migrate"],
        "envFrom": [{"configMapRef": {"name": SETTINGS}}, {"configMapRef": {"name": MIGRATE}}],
        "env": [*database_env(owner), *broker_env(admin)],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "db-ca", "mountPath": DB_CA_DIR, "readOnly": True}],
    }
    pod = {
        "serviceAccountName": MIGRATE,
        "automountServiceAccountToken": False,
        "restartPolicy": "OnFailure",
        "securityContext": pod_security(),
        "containers": [container],
        "volumes": [db_ca_volume()],
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(MIGRATE, "migrate"),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata(MIGRATE, "migrate"),
            "spec": {
                "backoffLimit": 6,
                "activeDeadlineSeconds": 1800,
                "ttlSecondsAfterFinished": 7 * 24 * 3600,
                "template": {"metadata": {"labels": labels(MIGRATE, "migrate")}, "spec": pod},
            },
        },
    ]


def heads_claim() -> dict[str, Any]:
    """Where every service appends its signed tree heads, outside the database they vouch for.

    A stand-in for an object store with object lock or a system run by someone
    else (docs/AUDIT.md). Every service's pods append to it, hence
    ReadWriteMany: a storage class that offers it (NFS, CephFS, EFS) and lets
    the pods' group (fsGroup 10001) write.
    """
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(HEADS_CLAIM, "audit"),
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "20Gi"}}},
    }
