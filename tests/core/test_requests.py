"""What a caller sends is checked before anything runs: a moment without its offset names no instant.

Requests are loaded with ``RequestSchema`` (over RPC, and at the gateway);
stored events keep the base schema, which the services always write aware.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.supervision.entrypoint import SupervisionService
from services.supervision.messages import AssignTask
from shared.domain import schemas
from shared.errors import ValidationFailed
from tests.support.local import in_memory

TASK = {"kind": "key", "unit": "Qingshan", "goal": "repair the road", "responsible": "Sun"}


def test_a_request_whose_moment_has_no_offset_is_refused_naming_the_field_and_nothing_is_stored() -> None:
    supervision = in_memory(SupervisionService)
    with pytest.raises(ValidationFailed) as refused:
        supervision.service.assign_task(**TASK, deadline="2026-03-20T17:00:00")
    assert refused.value.errors == {"deadline": ["Not a valid aware datetime."]}
    assert supervision.uow.events == []
    view = supervision.service.assign_task(**TASK, deadline="2026-03-20T17:00:00+08:00")
    assert view["deadline"] == "2026-03-20T17:00:00+08:00"


def test_stored_payloads_keep_loading_with_the_base_schema() -> None:
    """Only what callers send is held to it: an event's payload is loaded as before."""
    naive = {**TASK, "deadline": "2026-03-20T17:00:00"}
    assert schemas.load(AssignTask, naive).deadline == dt.datetime(2026, 3, 20, 17, 0)
    with pytest.raises(ValidationFailed):
        schemas.load(AssignTask, naive, request=True)
