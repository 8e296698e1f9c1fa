"""Public verification through the gateway: what it answers itself (the verifier, the key) and how it
holds the audit routes' arguments, with a clear 4xx naming the field, before any service is asked.

The whole walk (a notice proven with the downloaded verifier against a head saved earlier) is in
``test_appointment_over_http``; here, each door on its own.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from nameko.exceptions import deserialize, serialize
from werkzeug.test import Client, TestResponse

from services.gateway.app import Gateway
from services.gateway.ratelimit import RateLimits
from shared.audit import proofs
from shared.audit.heads import trusted_public_key
from shared.audit.tree import NotYetCovered
from shared.config import Settings
from shared.runtime.messaging.rpc import _to_wire

AUDIT = "/api/v1/public/audit"


def problem(response: TestResponse, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body is not None and body["type"] == f"/docs#problem-{slug}"
    return body


def fields_at_fault(response: TestResponse) -> set[str]:
    return {error["field"] for error in problem(response, 422, "validation-failed")["errors"]}


def test_the_verifier_is_the_platforms_own_file_byte_for_byte(client: Client) -> None:
    response = client.get(f"{AUDIT}/verifier.py")
    assert response.status_code == 200 and response.mimetype == "text/x-python"
    assert response.get_data() == Path(proofs.__file__).read_bytes()


def test_the_public_key_is_the_trusted_one_and_says_where_else_to_get_it(
    client: Client, platform_settings: Settings
) -> None:
    trusted = trusted_public_key(platform_settings)
    assert trusted is not None, "the test sandbox has an audit key"
    answer = client.get(f"{AUDIT}/public-key").json
    assert answer is not None
    assert (answer["algorithm"], answer["public_key"], answer["key_id"]) == (
        "Ed25519",
        trusted.hex(),
        proofs.key_id(trusted),
    )
    assert answer["verifier_sha256"] == hashlib.sha256(Path(proofs.__file__).read_bytes()).hexdigest()
    assert "independent channel" in answer["note"] and "published notice" in answer["note"]


def test_a_gateway_given_no_key_says_so(gateway: Gateway) -> None:
    bare = Client(Gateway(gateway.routes, gateway.tokens, RateLimits("9/minute", "9/minute"), gateway.caller))
    body = problem(bare.get(f"{AUDIT}/public-key"), 503, "service-unavailable")
    assert "published notice" in body["detail"]
    assert bare.get(f"{AUDIT}/verifier.py").status_code == 200


@pytest.mark.parametrize(
    "event_id",
    [
        "not-an-event",
        "0" * 36,  # the length of a UUID, but not one
        str(uuid.uuid4()).upper(),  # the stores name events in lower case, and the verifier compares names
        f"{uuid.uuid4()}x",
    ],
)
def test_an_event_id_that_is_not_one_is_422_naming_it(client: Client, event_id: str) -> None:
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/proofs/{event_id}")) == {"event_id"}


def test_the_query_of_a_proof_is_checked_too(client: Client) -> None:
    event_id = str(uuid.uuid4())
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/proofs/{event_id}?tree_size=0&since=x")) == {
        "tree_size",
        "since",
    }
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/proofs/{event_id}?event_id={event_id}")) == {"event_id"}
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/proofs/{event_id}?colour=red")) == {"colour"}


def test_an_event_not_in_the_store_is_404(client: Client) -> None:
    missing = str(uuid.uuid4())
    body = problem(client.get(f"{AUDIT}/feedback/proofs/{missing}"), 404, "not-found")
    assert (body["kind"], body["key"]) == ("event", missing)


def test_a_consistency_proof_runs_from_the_older_head_to_the_newer(client: Client) -> None:
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/consistency?old_size=9&new_size=3")) == {"old_size"}
    assert fields_at_fault(client.get(f"{AUDIT}/cadre/consistency?old_size=3")) == {"new_size"}
    body = problem(
        client.get(f"{AUDIT}/cadre/consistency?old_size=4611686018427387903&new_size=4611686018427387904"),
        404,
        "not-found",
    )
    assert body["kind"] == "signed tree head of size"


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def call(self, *args: Any) -> Any:
        raise self.error


def test_an_event_no_head_covers_yet_is_409_with_retry_after(gateway: Gateway) -> None:
    not_yet = NotYetCovered("event e is not yet covered by a signed head of cadre; ask again shortly")
    client = Client(Gateway(gateway.routes, gateway.tokens, RateLimits("9/minute", "9/minute"), Failing(not_yet)))
    response = client.get(f"{AUDIT}/cadre/proofs/{uuid.uuid4()}")
    body = problem(response, 409, "not-yet-covered")
    assert response.headers["Retry-After"] == "5" and body["retry_after"] == 5
    assert "retry after the next signed tree head" in body["detail"]


def test_not_yet_covered_crosses_the_wire_as_itself() -> None:
    """The gateway (importing ``services.gateway.audit``) gets the service's ``NotYetCovered`` back, not a RemoteError."""
    sent = NotYetCovered("event e is not yet covered")
    received = deserialize(serialize(_to_wire(sent)))
    assert isinstance(received, NotYetCovered) and str(received) == "event e is not yet covered"
