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
SECRETS_EXAMPLE = REPO_ROOT / "deploy" / "secrets.example.yaml"
K8S_VERSION = "1.30.0"
KEYS_DIR = "/etc/orgwork/keys"


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def example_secrets() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(SECRETS_EXAMPLE.read_text()) if doc]


def services_file(tmp_path: Path, gateway: dict[str, int] | None) -> Path:
    """``services.toml`` as it is, with this ``[gateway]`` section (or none)."""
    tables = {name: table for name, table in load_services_file().items() if name != "gateway"}
    if gateway is not None:
        tables["gateway"] = gateway
    path = tmp_path / "services.toml"
    path.write_text("".join(f"[{n}]\n" + "".join(f"{k} = {v}\n" for k, v in t.items()) for n, t in tables.items()))
    return path


def renderer() -> Any:
    sys.path.insert(0, str(REPO_ROOT / "deploy"))
    import render  # deploy/render.py

    return render


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


@pytest.mark.parametrize("document", example_secrets(), ids=lambda d: d["metadata"]["name"])
def test_the_example_secrets_are_valid_and_hold_placeholders_only(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    assert document["kind"] == "Secret" and "data" not in document
    for key, value in document["stringData"].items():
        assert "REPLACE" in value, f"{document['metadata']['name']}.{key} is not a placeholder"
    assert not any(path.name == SECRETS_EXAMPLE.name for path in K8S.iterdir()), "never applied with k8s/"


def test_the_kubernetes_check_catches_a_broken_manifest() -> None:
    deployment = next(d for _, d in k8s_documents() if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_every_service_in_services_toml_is_one_of_the_design() -> None:
    sections = [name for name in load_services_file() if name != "gateway"]  # the gateway is no service
    assert sections == ["cadre", "talent", "grassroots", "supervision", "training", "feedback"]


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


def secret_ref(env: list[dict[str, Any]], variable: str) -> tuple[str, str] | None:
    entry = next((e for e in env if e["name"] == variable), None)
    if entry is None or "valueFrom" not in entry:
        return None
    ref = entry["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


def assert_own_identity(pod: dict[str, Any], name: str) -> None:
    """The pod connects as ``name``'s own broker user and holds ``name``'s keys, and no one else's credentials."""
    container = pod["spec"]["containers"][0]
    env = container["env"]
    assert secret_ref(env, "AMQP_URI") == (f"orgwork-{name}-amqp", "uri")
    assert {"name": "SECURITY_KEYS_DIR", "value": KEYS_DIR} in env
    assert all(ref.get("secretRef", {}).get("name") != "orgwork-connections" for ref in container.get("envFrom", [])), (
        "the administrator's AMQP_URI stays out of the services' pods"
    )
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == KEYS_DIR)
    assert mount["readOnly"] is True
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == f"orgwork-{name}-keys"
    assert volume["secret"]["defaultMode"] & 0o007 == 0, "keys unreadable to others"
    assert pod["spec"]["securityContext"]["fsGroup"] == pod["spec"]["securityContext"]["runAsUser"]


@pytest.mark.parametrize("service", existing_services())
def test_each_service_connects_as_its_own_broker_user_with_its_own_keys(service: str) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in k8s_documents()}
    pod = docs[("Deployment", service)]["spec"]["template"]
    assert_own_identity(pod, service)
    assert secret_ref(pod["spec"]["containers"][0]["env"], "DATABASE_URL") == ("orgwork-connections", "DATABASE_URL")


def mounted_volume(pod: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The container's mount holding ``path`` (the longest that does), and the pod's volume behind it."""
    mounts = pod["spec"]["containers"][0].get("volumeMounts", [])
    holding = [m for m in mounts if (path.rstrip("/") + "/").startswith(m["mountPath"].rstrip("/") + "/")]
    assert holding, f"{path} is on no mounted volume (the root file system is read-only)"
    mount = max(holding, key=lambda m: len(m["mountPath"]))
    return mount, next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])


@pytest.mark.parametrize("service", existing_services())
def test_each_service_runs_in_production_signing_heads_into_a_mounted_sink(service: str) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in k8s_documents()}
    pod = docs[("Deployment", service)]["spec"]["template"]
    env = pod["spec"]["containers"][0]["env"]
    assert {"name": "PLATFORM_MODE", "value": "production"} in env, "a pod without its audit key must not start"
    assert secret_ref(env, "AUDIT_SIGNING_KEY") == ("orgwork-audit", "signing-key")
    assert secret_ref(env, "AUDIT_PUBLIC_KEY") == ("orgwork-audit", "public-key")
    sink = next(e["value"] for e in env if e["name"] == "AUDIT_HEAD_SINK")
    mount, volume = mounted_volume(pod, sink)
    assert not mount.get("readOnly", False), "the services append to the sink"
    claim = volume["persistentVolumeClaim"]["claimName"]
    assert "ReadWriteMany" in docs[("PersistentVolumeClaim", claim)]["spec"]["accessModes"], "every replica appends"


def test_the_gateway_runs_in_production_without_the_audit_key() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for _, d in k8s_documents()}
    env = docs[("Deployment", "gateway")]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "PLATFORM_MODE", "value": "production"} in env
    assert not {"AUDIT_SIGNING_KEY", "AUDIT_SIGNING_KEY_FILE"} & {e["name"] for e in env}, "it signs no heads"


@pytest.mark.parametrize("service", existing_services())
def test_each_composed_service_signs_with_a_mounted_key_into_a_named_volume(service: str) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    container = compose["services"][service]
    env = container["environment"]
    mount = next(v for v in container["volumes"] if v.endswith(":" + env["AUDIT_HEAD_SINK"]))
    volume = mount.partition(":")[0]
    assert volume in compose["volumes"], "a named volume, kept across restarts"
    key_file = env["AUDIT_SIGNING_KEY_FILE"]
    assert key_file.startswith("/run/secrets/") and key_file.removeprefix("/run/secrets/") in container["secrets"]
    assert compose["secrets"][key_file.removeprefix("/run/secrets/")]["file"].endswith(".orgwork/keys/audit.key}")


def test_the_image_makes_the_head_sink_writable_for_its_user() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    heads_dir = renderer().HEADS_DIR
    assert f"chown 10001:10001 {heads_dir}" in dockerfile and "USER 10001" in dockerfile


def test_only_the_migrate_job_connects_as_the_administrator() -> None:
    job = next(d for _, d in k8s_documents() if d["kind"] == "Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "orgwork-connections"}} in container["envFrom"]


def test_every_secret_a_manifest_reads_is_in_the_example() -> None:
    examples = {d["metadata"]["name"]: set(d["stringData"]) for d in example_secrets()}
    for _, doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in examples[ref["name"]], (doc["metadata"]["name"], ref)
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in examples
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                owner = name.removeprefix("orgwork-").removesuffix("-keys")
                assert f"{owner}.key" in examples[name] and "gateway.pub" in examples[name]


def test_only_feedback_holds_the_key_that_opens_sealed_identities_and_the_gateway_seals_to_it() -> None:
    """The gateway seals a submitter's identity to feedback's public key; only feedback's Secret opens it."""
    examples = {d["metadata"]["name"]: set(d["stringData"]) for d in example_secrets()}
    holders = {name for name, keys in examples.items() if "feedback.hpke.key" in keys}
    assert holders == {"orgwork-feedback-keys"}
    assert "feedback.hpke.pub" in examples["orgwork-gateway-keys"]
    assert "feedback.hpke.key" not in examples["orgwork-gateway-keys"], "the gateway cannot open what it seals"


def test_a_gateway_section_adds_the_gateway_everywhere(tmp_path: Path) -> None:
    render = renderer()
    files = render.rendered(services_file(tmp_path, {"http_port": 8080, "health_port": 8110}))
    documents = [d for d in yaml.safe_load_all(files[K8S / "gateway.yaml"]) if d]
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    docs = {d["kind"]: d for d in documents}
    pod = docs["Deployment"]["spec"]["template"]
    assert_own_identity(pod, "gateway")
    container = pod["spec"]["containers"][0]
    assert secret_ref(container["env"], "DATABASE_URL") is None, "the gateway needs no database"
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8080, "health": 8110}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "health"}
    assert {p["name"]: p["port"] for p in docs["Service"]["spec"]["ports"]} == {"http": 8080, "health": 8110}
    assert "orgwork-gateway-amqp" in files[SECRETS_EXAMPLE] and "orgwork-gateway-keys" in files[SECRETS_EXAMPLE]

    compose_path = tmp_path / "docker-compose.yml"
    compose_path.write_text(files[COMPOSE])
    assert validate_compose(compose_path).returncode == 0
    gateway = yaml.safe_load(files[COMPOSE])["services"]["gateway"]
    assert sorted(gateway["ports"]) == ["8080:8080", "8110:8110"]
    assert gateway["environment"]["GATEWAY_HTTP_PORT"] == "8080"


def test_without_a_gateway_section_there_is_no_gateway(tmp_path: Path) -> None:
    render = renderer()
    files = render.rendered(services_file(tmp_path, None))
    assert K8S / "gateway.yaml" not in files
    assert "gateway" not in yaml.safe_load(files[COMPOSE])["services"]


def test_the_checked_in_files_are_what_the_renderer_writes() -> None:
    for path, text in renderer().rendered().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make manifests`"


def test_the_image_runs_the_launcher_and_carries_the_ports_file() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY requirements.lock" in dockerfile and "COPY deploy/services.toml deploy/services.toml" in dockerfile
    assert '"shared.runtime.process.launcher"' in dockerfile
