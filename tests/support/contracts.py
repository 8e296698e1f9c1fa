"""Checks every service must pass the same way."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from shared.db.database import Database
from shared.errors import ValidationFailed
from shared.runtime.rpc import ValidatedRpc
from tests.support.probes import scalar


def rpc_method_names(service_cls: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(service_cls)
        if any(isinstance(e, ValidatedRpc) for e in getattr(member, "nameko_entrypoints", ()))
    )


def assert_bad_input_is_refused(proxy: Any, method: str, database: Database, schema: str) -> None:
    """An unknown field gets a validation error naming it, and nothing is stored."""
    before = scalar(database, f'SELECT count(*) FROM "{schema}".events')
    with pytest.raises(ValidationFailed) as caught:
        getattr(proxy, method)(bogus_field="x")
    assert "bogus_field" in caught.value.errors
    assert all(messages for messages in caught.value.errors.values())
    assert scalar(database, f'SELECT count(*) FROM "{schema}".events') == before
