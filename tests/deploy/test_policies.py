"""checkov over both overlays as kustomize renders them: no failure, but for a short list, each with its reason.

checkov runs from ``.tools-venv`` (``make tools``; its pins clash with the
platform's), with ``--skip-download``: nothing leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import REPO_ROOT
from tests.deploy.kustomized import OVERLAYS, built, named

CHECKOV = REPO_ROOT / ".tools-venv" / "bin" / "checkov"

#: What checkov would have otherwise, and why not (docs/DEPLOY.md lists them too).
SKIPPED = {
    "CKV_K8S_11": "CPU limits: a throttled worker misses its AMQP heartbeat and the broker redelivers its message; "
    "requests reserve the CPU, the autoscaler adds replicas",
    "CKV_K8S_15": "imagePullPolicy Always: images are immutable releases pinned by tag and digest in production, "
    "and kind loads the local image into the node, which Always would not find",
    "CKV_K8S_35": "secrets as files: DATABASE_URL and AMQP_URI are composed from a role's username and password by "
    "Kubernetes itself ($(VAR)), the Secrets CloudNativePG and the RabbitMQ operator read; keys are mounted as files",
    "CKV_K8S_43": "image digest: a release sets it with `kustomize edit set image orgwork=...@sha256:...`; the "
    "overlays in the repository cannot know a digest that is not built yet",
}


def checkov(path: Path, skip: bool = True) -> dict[str, Any]:
    assert CHECKOV.is_file(), f"{CHECKOV} is missing: run `make tools`"
    command = [str(CHECKOV), "-f", str(path), "--framework", "kubernetes", "--skip-download", "--quiet", "-o", "json"]
    if skip:
        command += ["--skip-check", ",".join(SKIPPED)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_nothing_in_the_overlay_but_the_documented_skips(tmp_path: Path, overlay: str) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(yaml.safe_dump_all(built(overlay)))
    report = checkov(path)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert report["summary"]["passed"] > 500 and report["summary"]["parsing_errors"] == 0


def test_checkov_fails_a_pod_that_asks_for_more(tmp_path: Path) -> None:
    """The check can fail: the same Deployment, privileged and with the API token mounted."""
    deployment = yaml.safe_load(yaml.safe_dump(named(built("local"), "Deployment", "cadre")))
    pod = deployment["spec"]["template"]["spec"]
    pod["automountServiceAccountToken"] = True
    pod["containers"][0]["securityContext"] = {"privileged": True}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(deployment))
    failed = {c["check_id"] for c in checkov(path)["results"]["failed_checks"]}
    assert {"CKV_K8S_16", "CKV_K8S_20"} <= failed, failed
