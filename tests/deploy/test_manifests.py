"""k8s/ and docker-compose.yml, checked offline: rendered, kustomized, valid, hardened, complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli import deploy_secrets
from shared.config import REPO_ROOT, load_services_file, service_ports
from shared.runtime.process import broker
from shared.runtime.process.catalog import existing_services, load_service
from tests.deploy.kustomized import (
    CUSTOM_KINDS,
    K8S,
    NEWEST,
    OLDEST,
    OVERLAYS,
    built,
    env_of,
    kustomize,
    named,
    of_kind,
    pod_templates,
    secret_of,
)

COMPOSE = REPO_ROOT / "docker-compose.yml"
OBSERVABILITY = REPO_ROOT / "deploy" / "observability"
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"


def test_the_checked_in_files_are_what_the_renderer_writes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.manifests", "--check"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# -- kustomize ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_with_the_namespace_first(overlay: str) -> None:
    documents = built(overlay)
    assert documents[0]["kind"] == "Namespace" and documents[0]["metadata"]["name"] == "orgwork"
    labels = documents[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {doc["metadata"].get("namespace") for doc in documents[1:]} == {"orgwork"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_sets_every_image(overlay: str) -> None:
    images = {c["image"] for _, pod in pod_templates(built(overlay)) for c in pod["containers"]}
    assert len(images) == 1, images
    image = images.pop()
    assert image != "orgwork" and ":" in image, "a registry or tag of the overlay's, not the bare name"
    assert not image.endswith(":latest")


def _overlay_with_image(tmp_path: Path, tag: str) -> list[dict[str, Any]]:
    overlay = tmp_path / tag
    overlay.mkdir()
    base = os.path.relpath(K8S / "base", overlay)
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [base], "images": [{"name": "orgwork", "newName": "r.example/o", "newTag": tag}]})
    )
    result = kustomize(overlay)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_the_migrate_job_is_named_by_its_image(tmp_path: Path) -> None:
    """A new image is a new Job (a Job's template cannot be changed in place); the same image, the same Job."""
    (tmp_path / "again").mkdir()
    first, second = _overlay_with_image(tmp_path, "1.0.0"), _overlay_with_image(tmp_path, "1.0.1")
    again = _overlay_with_image(tmp_path / "again", "1.0.0")
    names = [of_kind(docs, "Job")[0]["metadata"]["name"] for docs in (first, second, again)]
    assert names[0] != names[1] and names[0] == names[2], names
    assert all(name.startswith("orgwork-migrate-") for name in names)
    job = of_kind(first, "Job")[0]
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "r.example/o:1.0.0"


def test_an_environment_overlay_on_production_pins_the_digest_and_renames_the_job(tmp_path: Path) -> None:
    """The README's way to pin a release: an overlay of one's own on top of k8s/production."""
    digest = "sha256:" + "ab" * 32
    overlay = tmp_path / "environment"
    overlay.mkdir()
    production = built("production")
    image = next(c["image"] for _, pod in pod_templates(production) for c in pod["containers"])
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(K8S / "production", overlay)],
                "images": [
                    {"name": image.rpartition(":")[0], "newName": "registry.internal/orgwork", "digest": digest}
                ],
            }
        )
    )
    result = kustomize(overlay)
    assert result.returncode == 0, result.stderr
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    images = {c["image"] for _, pod in pod_templates(documents) for c in pod["containers"]}
    assert images == {f"registry.internal/orgwork@{digest}"}
    job_names = {of_kind(docs, "Job")[0]["metadata"]["name"] for docs in (documents, production)}
    assert len(job_names) == 2, "another image, another migrate Job"


# -- schema validation ---------------------------------------------------------------------------


def _validate(tmp_path: Path, documents: list[dict[str, Any]], version: str) -> subprocess.CompletedProcess[str]:
    paths = []
    for index, doc in enumerate(documents):
        path = tmp_path / f"{index:03d}-{doc['kind']}.yaml"
        path.write_text(yaml.safe_dump(doc))
        paths.append(str(path))
    return subprocess.run(
        [str(VALIDATE), "--strict", "-k", version, "--quiet", *paths], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_is_valid_in_strict_mode(tmp_path: Path, overlay: str, version: str) -> None:
    documents = built(overlay)
    standard = [doc for doc in documents if doc["kind"] not in CUSTOM_KINDS]
    assert len(standard) > 40
    result = _validate(tmp_path, standard, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Couldn't find schema" not in result.stdout + result.stderr


def test_the_kubernetes_check_catches_a_broken_manifest(tmp_path: Path) -> None:
    deployment = named(built("local"), "Deployment", "cadre")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert _validate(tmp_path, [broken], NEWEST).returncode != 0


# -- hardening ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_meets_pod_security_restricted_with_no_api_token(overlay: str) -> None:
    documents = built(overlay)
    accounts = {doc["metadata"]["name"]: doc for doc in of_kind(documents, "ServiceAccount")}
    for name, pod in pod_templates(documents):
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] >= 10000, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert accounts[pod["serviceAccountName"]]["automountServiceAccountToken"] is False, name
        assert not any("hostPath" in volume for volume in pod.get("volumes", [])), name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_probes_a_budget_and_an_autoscaler(overlay: str) -> None:
    documents = built(overlay)
    budgets = {
        doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for doc in of_kind(documents, "PodDisruptionBudget")
    }
    scaled = {doc["spec"]["scaleTargetRef"]["name"] for doc in of_kind(documents, "HorizontalPodAutoscaler")}
    for deployment in of_kind(documents, "Deployment"):
        name = deployment["metadata"]["name"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["startupProbe"]["httpGet"]["path"] == "/health/live", name
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, "room to wait for the migrate Job"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert name in budgets and name in scaled, name
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def _selected(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(key) == value for key, value in wanted.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_denied_all_but_what_its_policy_allows(overlay: str) -> None:
    documents = built(overlay)
    policies = of_kind(documents, "NetworkPolicy")
    deny = named(documents, "NetworkPolicy", "orgwork-deny-all")
    assert deny["spec"]["ingress"] == [] and deny["spec"]["egress"] == []
    for doc in documents:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert _selected(deny, labels), doc["metadata"]["name"]
        allowing = [p for p in policies if p is not deny and _selected(p, labels)]
        assert len(allowing) == 1, (doc["metadata"]["name"], [p["metadata"]["name"] for p in allowing])
        egress = allowing[0]["spec"]["egress"]
        reached = {tuple(sorted(rule["to"][0]["podSelector"]["matchLabels"].items())) for rule in egress}
        allowed = {
            (("k8s-app", "kube-dns"),),
            (("cnpg.io/cluster", deploy_secrets.DB_CLUSTER),),
            (("app.kubernetes.io/name", deploy_secrets.BROKER_CLUSTER),),
        }
        assert reached <= allowed, (doc["metadata"]["name"], reached)
    gateway = named(documents, "NetworkPolicy", "orgwork-gateway")
    assert gateway["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": "http"}]}], "the gateway takes ingress"
    assert named(documents, "NetworkPolicy", "orgwork-migrate")["spec"]["ingress"] == []


# -- each service ------------------------------------------------------------------------------


def test_every_service_in_services_toml_is_one_of_the_design() -> None:
    sections = [name for name in load_services_file() if name != "gateway"]
    assert sections == ["cadre", "talent", "grassroots", "supervision", "training", "feedback"]


@pytest.mark.parametrize("service", existing_services())
def test_each_service_runs_on_its_ports_as_its_own_database_role_and_broker_user(service: str) -> None:
    documents = built("production")
    ports = service_ports(service, env={})
    pod = named(documents, "Deployment", service)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = env_of(container)
    assert container["args"] == [service]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "health": ports.health,
        "metrics": ports.metrics,
    }
    assert env[f"{service.upper()}_HEALTH_PORT"]["value"] == str(ports.health)
    assert secret_of(env["DB_USER"]) == (deploy_secrets.db_secret(service), "username")
    assert secret_of(env["DB_PASSWORD"]) == (deploy_secrets.db_secret(service), "password")
    assert env["DATABASE_URL"]["value"].startswith("postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST)")
    assert "sslmode=verify-full" in env["DATABASE_URL"]["value"]
    assert secret_of(env["AMQP_USER"]) == (deploy_secrets.amqp_secret(service), "username")
    assert env["PLATFORM_MODE"]["value"] == "production", "a pod without its audit key must not start"
    assert secret_of(env["AUDIT_SIGNING_KEY"]) == (deploy_secrets.AUDIT_SECRET, "signing-key")
    keys = next(v for v in pod["volumes"] if v["name"] == "keys")
    assert keys["secret"]["secretName"] == deploy_secrets.keys_secret(service)
    assert keys["secret"]["defaultMode"] & 0o007 == 0, "keys unreadable to others"
    service_doc = named(documents, "Service", service)
    assert {p["name"]: p["port"] for p in service_doc["spec"]["ports"]} == {
        "health": ports.health,
        "metrics": ports.metrics,
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_services_wait_for_the_migrate_job_instead_of_migrating(overlay: str) -> None:
    documents = built(overlay)
    settings = next(
        doc for doc in of_kind(documents, "ConfigMap") if doc["metadata"]["name"].startswith("orgwork-settings")
    )
    assert settings["data"]["MIGRATE_ON_START"] == "false"
    for deployment in of_kind(documents, "Deployment"):
        refs = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert refs == [{"configMapRef": {"name": settings["metadata"]["name"]}}], "the hashed name: a change rolls"
    job = of_kind(documents, "Job")[0]
    env = env_of(job["spec"]["template"]["spec"]["containers"][0])
    owner, admin = (name for name in deploy_secrets.OPERATOR_MADE if not name.endswith("-ca"))
    assert secret_of(env["DB_USER"])[0] == owner, "only the migrate Job connects as the database's owner"
    assert secret_of(env["AMQP_USER"])[0] == admin, "... and as the broker's administrator"
    for deployment in of_kind(documents, "Deployment"):
        for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
            if "valueFrom" in entry:
                assert secret_of(entry)[0] not in (owner, admin), deployment["metadata"]["name"]


def test_feedback_reads_both_of_its_keys_from_its_secret() -> None:
    env = env_of(named(built("production"), "Deployment", "feedback")["spec"]["template"]["spec"]["containers"][0])
    assert secret_of(env["FEEDBACK_IDENTITY_KEY"]) == (deploy_secrets.FEEDBACK_SECRET, "identity-key")
    assert secret_of(env["FEEDBACK_SOURCE_KEY"]) == (deploy_secrets.FEEDBACK_SECRET, "source-key"), (
        "one key for every replica: the rate limit is not split, nor reset by a restart"
    )


def test_the_gateway_holds_no_database_credentials_and_no_audit_key() -> None:
    env = env_of(named(built("production"), "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0])
    assert env["PLATFORM_MODE"]["value"] == "production"
    assert not {"DB_USER", "DB_PASSWORD", "DATABASE_URL", "AUDIT_SIGNING_KEY"} & set(env)
    assert secret_of(env["AMQP_USER"]) == (deploy_secrets.amqp_secret("gateway"), "username")
    container = named(built("production"), "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert container["lifecycle"]["preStop"], "it serves until its endpoints are gone"


def _secret_references(documents: list[dict[str, Any]]) -> dict[str, set[str]]:
    """``{secret: {keys read}}`` over env, volumes, and the operators' resources ("" for a whole Secret)."""
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                found.setdefault(node["secretKeyRef"]["name"], set()).add(node["secretKeyRef"]["key"])
            if "secretName" in node:
                found.setdefault(node["secretName"], set()).update(i["key"] for i in node.get("items", [{"key": ""}]))
            for field in ("passwordSecret", "importCredentialsSecret"):
                if field in node:
                    found.setdefault(node[field]["name"], set()).add("")
            for ref in node.get("s3Credentials", {}).values():
                found.setdefault(ref["name"], set()).add(ref["key"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for doc in documents:
        walk(doc)
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_the_manifests_read_is_made_by_orgctl_or_by_an_operator(overlay: str) -> None:
    made = {doc["metadata"]["name"]: doc["stringData"] for doc in deploy_secrets.make_secrets(existing_services())}
    assert set(made) == set(deploy_secrets.secret_names(existing_services()))
    references = _secret_references(built(overlay))
    outside = set(deploy_secrets.OPERATOR_MADE) | set(deploy_secrets.EXTERNAL)
    for name, keys in references.items():
        assert name in made or name in outside, f"{name}: made by no one"
        if name in made:
            assert keys - {""} <= set(made[name]), (name, keys - set(made[name]))
    for name in existing_services():
        assert deploy_secrets.db_secret(name) in references and deploy_secrets.amqp_secret(name) in references


# -- the data services -------------------------------------------------------------------------


def test_each_service_has_a_managed_database_role_and_the_owner_migrates() -> None:
    cluster = named(built("production"), "Cluster", deploy_secrets.DB_CLUSTER)["spec"]
    roles = {role["name"]: role for role in cluster["managed"]["roles"]}
    assert set(roles) == {deploy_secrets.db_role(name) for name in existing_services()}
    for name in existing_services():
        role = roles[deploy_secrets.db_role(name)]
        assert role["login"] is True and role["passwordSecret"]["name"] == deploy_secrets.db_secret(name)
        assert not role.get("superuser") and not role.get("createdb") and not role.get("createrole")
    assert cluster["bootstrap"]["initdb"]["owner"] == deploy_secrets.DB_OWNER
    assert cluster["enableSuperuserAccess"] is False
    settings = next(
        d for d in of_kind(built("production"), "ConfigMap") if d["metadata"]["name"].startswith("orgwork-settings")
    )
    assert int(settings["data"]["DB_POOL_SIZE"]) > int(settings["data"]["MAX_WORKERS"]), "a service refuses less"
    per_replica = int(settings["data"]["DB_POOL_SIZE"]) + 3  # docs/DATABASE.md
    assert int(cluster["postgresql"]["parameters"]["max_connections"]) >= 6 * 4 * per_replica + 13
    assert all(role["connectionLimit"] >= 5 * per_replica for role in roles.values())


def test_production_replicates_synchronously_and_backs_up_the_database() -> None:
    documents = built("production")
    cluster = named(documents, "Cluster", deploy_secrets.DB_CLUSTER)["spec"]
    assert cluster["instances"] == 3 and cluster["postgresql"]["synchronous"] == {"method": "any", "number": 1}
    assert cluster["postgresql"]["parameters"]["max_connections"], "the patch keeps the base's parameters"
    store = cluster["backup"]["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://") and store["wal"]["compression"]
    assert store["s3Credentials"]["accessKeyId"]["name"] in deploy_secrets.EXTERNAL
    backup = of_kind(documents, "ScheduledBackup")[0]["spec"]
    assert backup["cluster"]["name"] == deploy_secrets.DB_CLUSTER and len(backup["schedule"].split()) == 6
    assert of_kind(documents, "RabbitmqCluster")[0]["spec"]["replicas"] == 3
    assert named(built("local"), "Cluster", deploy_secrets.DB_CLUSTER)["spec"]["instances"] == 1


def test_the_broker_users_carry_exactly_the_rights_of_the_model() -> None:
    documents = built("production")
    grants = broker.grants([load_service(name) for name in existing_services()])
    permissions = {doc["spec"]["userReference"]["name"]: doc["spec"] for doc in of_kind(documents, "Permission")}
    topics = {
        (doc["spec"]["userReference"]["name"], doc["spec"]["permissions"]["exchange"]): doc["spec"]["permissions"]
        for doc in of_kind(documents, "TopicPermission")
    }
    assert len(permissions) == len(grants) and len(topics) == sum(len(g.topics) for g in grants)
    for grant in grants:
        user = deploy_secrets.broker_user(grant.principal)
        spec = permissions[user]
        assert spec["permissions"] == {"configure": grant.configure, "write": grant.write, "read": grant.read}
        assert spec["vhost"] == "/" and spec["rabbitmqClusterReference"]["name"] == deploy_secrets.BROKER_CLUSTER
        for topic in grant.topics:
            assert topics[(user, topic.exchange)] == {
                "exchange": topic.exchange,
                "write": topic.write,
                "read": topic.read,
            }
        account = named(documents, "User", user)["spec"]
        assert account["importCredentialsSecret"]["name"] == deploy_secrets.amqp_secret(grant.principal)


# -- monitoring ---------------------------------------------------------------------------------


def test_production_scrapes_every_service_and_carries_the_alerts_and_the_dashboard() -> None:
    documents = built("production")
    monitor = named(documents, "PodMonitor", "orgwork")["spec"]
    assert monitor["podMetricsEndpoints"][0]["port"] == "metrics"
    for name in existing_services():
        labels = named(documents, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in monitor["selector"]["matchLabels"].items()), name
    rule = of_kind(documents, "PrometheusRule")[0]
    assert rule["spec"]["groups"] == yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())["groups"]
    dashboard = next(d for d in of_kind(documents, "ConfigMap") if d["metadata"]["name"] == "orgwork-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    import json

    shipped = (OBSERVABILITY / "grafana" / "dashboards" / "orgwork.json").read_text()
    assert '"uid": "orgwork-prometheus"' in shipped, "compose's data source"
    cluster = shipped.replace('"uid": "orgwork-prometheus"', '"uid": "prometheus"')
    assert json.loads(dashboard["data"]["orgwork.json"]) == json.loads(cluster), "kube-prometheus-stack's data source"
    endpoint = monitor["podMetricsEndpoints"][0]
    assert endpoint["honorLabels"] is True
    assert {
        "sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
        "targetLabel": "orgwork_service",
        "action": "replace",
    } in endpoint["relabelings"], "up and process_* need the label the alerts group by"


# -- compose ------------------------------------------------------------------------------------


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
    compose = yaml.safe_load(COMPOSE.read_text())
    compose["services"]["postgres"]["restart_policy"] = "always"  # not a key of the specification
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(compose))
    assert validate_compose(path).returncode != 0


def test_compose_runs_the_whole_platform_with_its_data_kept_and_reachable() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {*existing_services(), "gateway", "postgres", "rabbitmq", "migrate", "prometheus", "grafana"} <= set(
        services
    )
    assert any(p.endswith(":5432") for p in services["postgres"]["ports"])
    assert any(p.endswith(":5672") for p in services["rabbitmq"]["ports"])
    assert services["rabbitmq"]["hostname"] == "rabbitmq", "a fixed node name keeps its data"
    for name in ("postgres", "rabbitmq", "prometheus", "grafana"):
        volume = services[name]["volumes"][-1 if name in ("prometheus", "grafana") else 0].partition(":")[0]
        assert volume in compose["volumes"], name
    for name in ("prometheus", "grafana"):
        for mount in services[name]["volumes"]:
            source = mount.partition(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name} mounts {source}, which does not exist"


@pytest.mark.parametrize("service", existing_services())
def test_each_service_is_composed_on_its_ports_after_the_migration(service: str) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())["services"][service]
    ports = service_ports(service, env={})
    assert compose["command"] == [service]
    assert sorted(compose["ports"]) == sorted([f"{ports.health}:{ports.health}", f"{ports.metrics}:{ports.metrics}"])
    assert f":{ports.health}/health/ready" in " ".join(compose["healthcheck"]["test"])
    assert compose["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["environment"]["MIGRATE_ON_START"] == "false"
