"""Where the services are: ``services/<name>/entrypoint.py`` defines each one."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import SERVICE_NAMES

if TYPE_CHECKING:
    from shared.runtime.service import ServiceBase

ENTRYPOINT_MODULE = "entrypoint"


def _service_base() -> type[ServiceBase]:
    from shared.runtime.service import ServiceBase

    return ServiceBase


def services_directory() -> Path | None:
    """The folder of the ``services`` package, wherever it was imported from (a checkout or site-packages).

    Found without importing it, so that listing the services runs none of their code.
    """
    spec = importlib.util.find_spec("services")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(locations[0]) if locations else None


def existing_services() -> list[str]:
    """The services of the design that exist in this checkout or installed copy, in design order."""
    folder = services_directory()
    if folder is None:
        return []
    return [name for name in SERVICE_NAMES if (folder / name / f"{ENTRYPOINT_MODULE}.py").is_file()]


def load_service(target: str) -> type[ServiceBase]:
    """A service class from a name (``cadre``) or a path (``package.module:Class``)."""
    base = _service_base()
    if ":" in target:
        module_name, _, attribute = target.partition(":")
        cls = getattr(importlib.import_module(module_name), attribute)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise SystemExit(f"{target} is not a ServiceBase subclass")
        return cls
    if target not in SERVICE_NAMES:
        raise SystemExit(f"unknown service {target!r}; the services are {', '.join(SERVICE_NAMES)}")
    module = importlib.import_module(f"services.{target}.{ENTRYPOINT_MODULE}")
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls is not base and getattr(cls, "name", None) == target
    ]
    if len(found) != 1:
        raise SystemExit(
            f"services/{target}/{ENTRYPOINT_MODULE}.py must define one ServiceBase subclass named {target!r}"
        )
    return found[0]
