"""docker-compose.yml and k8s/, checked offline: valid, complete, and on the right ports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.config import REPO_ROOT, load_services_file, service_ports
from shared.runtime.process.catalog import existing_services

COMPOSE = REPO_ROOT / "docker-compose.yml"
K8S = REPO_ROOT / "k8s"
K8S_VERSION = "1.30.0"


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )


def test_compose_file_follows_the_compose_spec() -> None:
    result = validate_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_check_catches_a_broken_file(tmp_path: Path) -> None:
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["postgres"]["restart_policy"] = "always"  # not a compose key
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert validate_compose(path).returncode != 0


@pytest.mark.parametrize(
    ("path", "document"), k8s_documents(), ids=lambda v: v.name if isinstance(v, Path) else v["kind"]
)
def test_kubernetes_manifests_are_valid(path: Path, document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_the_kubernetes_check_catches_a_broken_manifest() -> None:
    deployment = next(d for _, d in k8s_documents() if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_every_service_in_services_toml_is_one_of_the_design() -> None:
    assert list(load_services_file()) == ["cadre", "talent", "grassroots", "supervision", "training", "feedback"]


@pytest.mark.parametrize("service", existing_services())
def test_each_existing_service_is_composed_on_its_ports(service: str) -> None:
    ports = service_ports(service, env={})
    compose = yaml.safe_load(COMPOSE.read_text())["services"][service]
    assert compose["command"] == [service]
    assert sorted(compose["ports"]) == sorted([f"{ports.health}:{ports.health}", f"{ports.metrics}:{ports.metrics}"])
    env = compose["environment"]
    assert (env[f"{service.upper()}_HEALTH_PORT"], env[f"{service.upper()}_METRICS_PORT"]) == (
        str(ports.health),
        str(ports.metrics),
    )
    assert f":{ports.health}/health/ready" in " ".join(compose["healthcheck"]["test"])
    assert compose["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", existing_services())
def test_each_existing_service_is_deployed_on_its_ports_with_probes(service: str) -> None:
    ports = service_ports(service, env={})
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in k8s_documents()}
    deployment = docs[("Deployment", service)]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["args"] == [service]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "health": ports.health,
        "metrics": ports.metrics,
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports.metrics)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env[f"{service.upper()}_HEALTH_PORT"] == str(ports.health)
    assert pod["spec"]["terminationGracePeriodSeconds"] >= 30, "room for a graceful stop"
    service_doc = docs[("Service", service)]
    assert {p["name"]: p["port"] for p in service_doc["spec"]["ports"]} == {
        "health": ports.health,
        "metrics": ports.metrics,
    }


def test_the_checked_in_files_are_what_the_renderer_writes() -> None:
    sys.path.insert(0, str(REPO_ROOT / "deploy"))
    import render  # deploy/render.py

    for path, text in render.rendered().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make manifests`"


def test_the_image_runs_the_launcher_and_carries_the_ports_file() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY requirements.lock" in dockerfile and "COPY deploy/services.toml deploy/services.toml" in dockerfile
    assert '"shared.runtime.process.launcher"' in dockerfile
