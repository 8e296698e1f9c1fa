"""``k8s/`` as kustomize: a base, an overlay for kind or minikube, and one for production.

The image is named ``orgwork`` everywhere; each overlay's ``images:`` sets
its registry, tag and (in production) digest. The migrate Job takes its name
from the ConfigMap ``orgwork-migrate``, which holds that same image reference
(``naming.yaml`` tells kustomize both things): the ConfigMap's content hash
changes with the image, so each new image gets a Job of its own, which
``kubectl apply`` creates and runs, where a Job of a fixed name could not be
changed. ``kubectl kustomize`` emits the Namespace first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.manifests import data_services, monitoring, policies, workloads
from deploy.manifests.model import GATEWAY, HEADS_CLAIM, IMAGE, MIGRATE, NAMESPACE, SETTINGS, dump, services
from shared.config import load_services_file

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
#: Where production pulls from: set it (and the digest) per release, e.g.
#: ``kustomize edit set image orgwork=registry.example.org/orgwork/orgwork:0.1.0@sha256:...``.
PRODUCTION_IMAGE = {"name": IMAGE, "newName": "registry.example.org/orgwork/orgwork", "newTag": "0.1.0"}
LOCAL_IMAGE = {"name": IMAGE, "newName": IMAGE, "newTag": "dev"}

NAMING = {
    # The migrate Job's name refers to the ConfigMap orgwork-migrate, so it takes its hashed name ...
    "nameReference": [{"kind": "ConfigMap", "version": "v1", "fieldSpecs": [{"kind": "Job", "path": "metadata/name"}]}],
    # ... and the image transformer writes the image reference into that ConfigMap, before the hash.
    "images": [{"kind": "ConfigMap", "path": "data/RELEASE_IMAGE"}],
}


def _header(what: str) -> str:
    return f"{what}\nRendered by `python -m deploy.manifests` (make manifests): edit deploy/manifests/, not this file."


def _namespace() -> dict[str, Any]:
    """Pod Security "restricted", enforced: a pod that asks for more is refused, not just warned about."""
    level = "restricted"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "app.kubernetes.io/part-of": "orgwork",
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": level,
                "pod-security.kubernetes.io/warn": level,
            },
        },
    }


def _patch(target: dict[str, str], operations: list[dict[str, Any]]) -> dict[str, Any]:
    import yaml

    return {"target": target, "patch": yaml.safe_dump(operations, sort_keys=False)}


def base(root: Path) -> dict[Path, str]:
    gateway = load_services_file().get(GATEWAY)
    files: dict[Path, str] = {
        root / "namespace.yaml": dump([_namespace()], _header('The namespace, Pod Security "restricted".')),
        **{
            root / f"{name}.yaml": dump(workloads.service(name), _header(f"The {name} service.")) for name in services()
        },
        root / "migrate-job.yaml": dump(workloads.migrate_job(), _header("The migrate Job.")),
        root / "audit-heads.yaml": dump([workloads.heads_claim()], _header("The signed tree heads' volume.")),
        root / "network-policies.yaml": dump(policies.policies(), _header("Network policies.")),
        root / "database.yaml": dump([data_services.database()], _header("PostgreSQL (CloudNativePG).")),
        root / "broker.yaml": dump([data_services.message_broker()], _header("RabbitMQ (RabbitMQ Cluster Operator).")),
        root / "broker-users.yaml": dump(
            data_services.broker_rights(),
            _header("Each principal's broker user and rights (Messaging Topology Operator)."),
        ),
        root / "naming.yaml": dump([NAMING], _header("Kustomize: the migrate Job is named by its image's hash.")),
        root / "settings.env": "".join(f"{k}={v}\n" for k, v in workloads.SETTINGS_ENV.items()),
    }
    if gateway is not None:
        files[root / "gateway.yaml"] = dump(workloads.gateway(int(gateway["http_port"])), _header("The HTTP gateway."))
    resources = [path.name for path in files if path.suffix == ".yaml" and path.name != "naming.yaml"]
    resources.remove("namespace.yaml")
    kustomization = {
        **KUSTOMIZATION,
        "namespace": NAMESPACE,
        "resources": ["namespace.yaml", *sorted(resources)],
        "configurations": ["naming.yaml"],
        "configMapGenerator": [
            {"name": SETTINGS, "envs": ["settings.env"]},
            {"name": MIGRATE, "literals": [f"RELEASE_IMAGE={IMAGE}"]},
        ],
        "images": [{"name": IMAGE}],
    }
    files[root / "kustomization.yaml"] = dump(
        [kustomization],
        _header(
            "The platform, whichever cluster: every workload, the data services, the broker's users.\n"
            "Apply an overlay (k8s/local, k8s/production), not this; the Secrets first (orgctl deploy secrets)."
        ),
    )
    return files


def local(root: Path) -> dict[Path, str]:
    """kind or minikube: one replica of everything, the image loaded into the node, one node's volume."""
    kustomization = {
        **KUSTOMIZATION,
        "resources": ["../base"],
        "images": [LOCAL_IMAGE],
        "patches": [
            _patch({"kind": "Deployment"}, [{"op": "replace", "path": "/spec/replicas", "value": 1}]),
            _patch({"kind": "HorizontalPodAutoscaler"}, [{"op": "replace", "path": "/spec/minReplicas", "value": 1}]),
            _patch(
                {"kind": "PersistentVolumeClaim", "name": HEADS_CLAIM},
                [{"op": "replace", "path": "/spec/accessModes", "value": ["ReadWriteOnce"]}],
            ),
        ],
    }
    header = _header(
        "kind or minikube (README: Deploy): `kind load docker-image orgwork:dev`, then\n"
        "`kubectl apply -k k8s/local`. One node, so the heads' volume is ReadWriteOnce."
    )
    return {root / "kustomization.yaml": dump([kustomization], header)}


def production(root: Path) -> dict[Path, str]:
    """Three database instances with backups, three broker nodes, the monitoring."""
    kustomization = {
        **KUSTOMIZATION,
        "namespace": NAMESPACE,
        "resources": ["../base", "backups.yaml", "monitoring.yaml"],
        "images": [PRODUCTION_IMAGE],
        "patches": [
            {"path": "database-patch.yaml"},
            _patch(
                {"group": "rabbitmq.com", "kind": "RabbitmqCluster"},
                [{"op": "replace", "path": "/spec/replicas", "value": 3}],
            ),
        ],
    }
    header = _header(
        "Production (README: Deploy): the operators (CloudNativePG, RabbitMQ Cluster and Messaging\n"
        "Topology, Prometheus) installed, the Secrets applied, then `kubectl apply -k k8s/production`."
    )
    return {
        root / "kustomization.yaml": dump([kustomization], header),
        root / "database-patch.yaml": dump(
            [data_services.production_database_patch()], _header("PostgreSQL in production.")
        ),
        root / "backups.yaml": dump([data_services.scheduled_backup()], _header("Nightly base backups.")),
        root / "monitoring.yaml": dump(
            [
                monitoring.pod_monitor(),
                monitoring.database_pod_monitor(),
                monitoring.prometheus_rule(),
                monitoring.dashboard(),
            ],
            _header("The scrape, the alerts (deploy/observability/alerts.yml) and the dashboard."),
        ),
    }
