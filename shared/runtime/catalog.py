"""Where the services are: ``services/<name>/service.py`` defines each one."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import REPO_ROOT, SERVICE_NAMES

if TYPE_CHECKING:
    from shared.runtime.service import ServiceBase


def _service_base() -> type["ServiceBase"]:
    from shared.runtime.service import ServiceBase

    return ServiceBase


def existing_services() -> list[str]:
    """The services of the design that exist in this checkout, in design order."""
    return [name for name in SERVICE_NAMES if (REPO_ROOT / "services" / name / "service.py").is_file()]


def load_service(target: str) -> type["ServiceBase"]:
    """A service class from a name (``cadre``) or a path (``package.module:Class``)."""
    if ":" in target:
        module_name, _, attribute = target.partition(":")
        cls = getattr(importlib.import_module(module_name), attribute)
        if not (isinstance(cls, type) and issubclass(cls, _service_base())):
            raise SystemExit(f"{target} is not a ServiceBase subclass")
    else:
        if target not in SERVICE_NAMES:
            raise SystemExit(f"unknown service {target!r}; the services are {', '.join(SERVICE_NAMES)}")
        module = importlib.import_module(f"services.{target}.service")
        base = _service_base()
        found = [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, base) and cls is not base and getattr(cls, "name", None) == target
        ]
        if len(found) != 1:
            raise SystemExit(f"services/{target}/service.py must define one ServiceBase subclass named {target!r}")
        cls = found[0]
    return cls


def service_file(name: str) -> Path:
    return REPO_ROOT / "services" / name / "service.py"
