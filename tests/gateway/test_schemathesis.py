"""Schemathesis against the live gateway's own ``/openapi.json``: every operation, a bounded number
of generated requests each (deterministic), with a token holding every role. No request may get a
5xx, and every response must conform to what the document declares (status, content type, headers,
body). The counts are printed: operations, examples, failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.security.policy import ROLES
from tests.gateway.conftest import bearer

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 8
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    without_invalid_input: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.operations} operations, {self.examples} examples, "
            f"{len(self.failures)} failures (statuses {statuses}; "
            f"{self.without_invalid_input} operations take nothing that could be invalid)"
        )


def fuzz(operation: Any, base_url: str, headers: dict[str, str], tally: Tally, mode: GenerationMode) -> None:
    """Up to ``MAX_EXAMPLES`` cases of one operation (valid ones, or ``NEGATIVE``: invalid), each called and checked."""

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        tally.examples += 1
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
        except Exception as error:  # a request that could not even be answered counts as a failure
            tally.failures.append(f"{operation.label}: no answer: {error}")
            return
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as error:
            tally.failures.append(f"{operation.label} -> {response.status_code}: {str(error)[:600]}")

    try:
        run()
    except Unsatisfiable:  # an operation that takes nothing has nothing to make invalid
        tally.without_invalid_input += 1


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_its_document(
    live_gateway: str, mode: GenerationMode, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_gateway}/openapi.json")
    headers = bearer(*ROLES, subject="staff:schemathesis", minutes=120)
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid operation raises here, failing the test
        tally.operations += 1
        fuzz(operation, live_gateway, headers, tally, mode)
    with capsys.disabled():
        print(f"\n{mode.value}: {tally.summary()}")
        for failure in tally.failures[:20]:
            print("  " + failure)
    assert tally.operations >= 60
    assert tally.examples >= tally.operations
    assert not any(status >= 500 for status in tally.statuses), tally.summary()
    assert tally.failures == [], tally.summary()
