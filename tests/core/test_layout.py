"""Every service is laid out the same way: a service layer free of infrastructure, a thin entrypoint.

``make lint`` checks the layers statically (import-linter); these tests check
what a newcomer relies on when adding a service or a use case.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from shared.config import REPO_ROOT
from shared.runtime.process.catalog import existing_services

INFRASTRUCTURE = ("nameko", "psycopg2", "kombu", "amqp", "eventlet")
PURE_PARTS = ("domain", "service_layer", "read_models", "views", "messages")


@pytest.mark.parametrize("service", existing_services())
def test_the_service_layer_and_its_neighbours_import_no_infrastructure(service: str) -> None:
    folder = REPO_ROOT / "services" / service
    modules = sorted(
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for part in PURE_PARTS
        for path in (
            [folder / f"{part}.py"] if (folder / f"{part}.py").exists() else sorted((folder / part).rglob("*.py"))
        )
    )
    assert any(".service_layer." in m for m in modules), f"services/{service}/service_layer/ holds its use cases"
    code = f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; " + (
        f"print(sorted(m for m in {INFRASTRUCTURE!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]", f"{service}: {out.stdout.strip()} imported by {modules}"


@pytest.mark.parametrize("service", existing_services())
def test_every_entrypoint_is_one_line(service: str) -> None:
    """RPC methods, event handlers and timers hand over to the service layer or a read model, and do nothing else."""
    tree = ast.parse((REPO_ROOT / "services" / service / "entrypoint.py").read_text())
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert len(classes) == 1, "one service class per entrypoint module"
    methods = [node for node in classes[0].body if isinstance(node, ast.FunctionDef)]
    assert methods, "the service has entrypoints"
    for method in methods:
        body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert method.decorator_list, f"{service}.{method.name} is an entrypoint"
        assert len(body) == 1, f"{service}.{method.name} has {len(body)} statements: move the work to the service layer"
