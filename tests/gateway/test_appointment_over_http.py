"""The appointment under public watch, through the gateway over HTTP, with bearer tokens.

The same story ``make demo`` tells (``services.scenarios``): the department
runs two selections with a token of its roles, a member of the public objects
to one nominee through the public endpoint (no account), the supervision
office substantiates the complaint with a token of its own, and the notice
period passes. One nominee is withheld, the other appointed, and the public
sees both on the board of published results; the appointee is enrolled in
induction by training and appears in talent's pool with the post. The public
then follows its case by receipt code, in the body and never in the URL.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.gateway.client import GatewayClient, GatewayError
from services.scenarios import appointment_under_public_watch, through_gateway
from shared.audit.checkpoints import CheckpointBook
from shared.config import Settings
from shared.db.clock import advance_clock
from shared.db.database import Database, fetch_one
from shared.security.keys import KeyRing
from tests.gateway.conftest import token
from tests.support.platform import wait_until
from tests.support.probes import platform_now

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def story(live_gateway: str, database: Database, platform_settings: Settings) -> dict[str, Any]:
    run, correlation_id = uuid.uuid4().hex[:6], str(uuid.uuid4())
    people = through_gateway(
        live_gateway, KeyRing(os.environ["SECURITY_KEYS_DIR"]), platform_settings.gateway, correlation_id
    )
    outcome = appointment_under_public_watch(
        people, lambda delta: advance_clock(database, delta), run, lambda: platform_now(database)
    )
    return {"run": run, "outcome": outcome, "correlation_id": correlation_id}


def test_one_nominee_is_withheld_and_the_other_appointed(story: dict[str, Any]) -> None:
    run, outcome = story["run"], story["outcome"]
    assert outcome.withheld == [f"{run}w-c1"]
    assert outcome.appointed == [f"{run}c-c1"]


def test_the_appointee_is_enrolled_in_induction_by_the_training_service(story: dict[str, Any]) -> None:
    run, outcome = story["run"], story["outcome"]
    assert outcome.inducted == [f"{run}c-c1"], "training placed the appointee in the open induction program"


def test_the_appointee_is_in_the_talent_pool_with_the_post(story: dict[str, Any]) -> None:
    run, outcome = story["run"], story["outcome"]
    assert outcome.pooled == [f"{run}c-c1"], "talent keeps the appointee's party-and-government record with the post"


def test_the_record_names_the_token_holders_and_the_public(story: dict[str, Any], database: Database) -> None:
    """The actor of every event is the verified caller: the token's subject, or ``public`` at the public door."""
    run, correlation_id = story["run"], story["correlation_id"]
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT metadata->>'actor' FROM cadre.events WHERE stream_id = %s", [f"selection-{run}w-selection"]
        )
        cadre_actors = {row[0] for row in cur.fetchall()}
        cur.execute(
            "SELECT metadata->>'actor', metadata->>'correlation_id' FROM feedback.events "
            "WHERE type = 'SubmissionReceived' AND metadata->>'correlation_id' = %s",
            [correlation_id],
        )
        actor, correlation_id = fetch_one(cur)
        cur.execute(
            "SELECT DISTINCT metadata->>'actor' FROM supervision.events WHERE type = 'JointMeetingHeld' "
            "AND metadata->>'correlation_id' = %s",
            [correlation_id],
        )
        office = {row[0] for row in cur.fetchall()}
    assert "organization-department" in cadre_actors
    assert (actor, correlation_id) == ("public", correlation_id)
    assert office == {"supervision-office"}


def test_the_public_sees_the_published_results(story: dict[str, Any], live_gateway: str) -> None:
    run = story["run"]
    public = GatewayClient(live_gateway)
    wanted = {f"{run}w-selection", f"{run}c-selection"}

    def both_published() -> dict[str, Any] | None:  # the read model follows the store: wait for it
        results = {r["process_id"]: r for r in public.cadre.published_results(limit=500)["items"]}
        return results if wanted <= set(results) else None

    results = wait_until(both_published, what="both results on the public board")
    assert results is not None
    withheld, clean = results[f"{run}w-selection"], results[f"{run}c-selection"]
    assert [o["cadre_id"] for o in withheld["withheld"]] == [f"{run}w-c1"] and withheld["appointed"] == []
    assert [o["cadre_id"] for o in clean["appointed"]] == [f"{run}c-c1"] and clean["withheld"] == []
    assert clean["appointed"][0]["name"] == "Li Ming" and clean["appointed"][0]["post_title"] == "Deputy head"
    only_this_unit = public.request("GET", "/api/v1/public/results", {"unit": "Nowhere township"})
    assert only_this_unit == {"items": []}


def test_the_public_follows_its_case_by_receipt_code(live_gateway: str, story: dict[str, Any]) -> None:
    public = GatewayClient(live_gateway)
    receipt = public.feedback.submit(channel="consultation", category="consultation", text="How are cadres chosen?")
    code = receipt["receipt_code"]
    case = wait_until(lambda: public.feedback.my_case(receipt_code=code), what="the case in the read model")
    assert case["submission_id"] == receipt["submission_id"]
    assert public.feedback.follow_up(receipt_code=code, text="Any news?")["status"] == "open"
    with pytest.raises(GatewayError) as refused:
        public.feedback.close(receipt_code=code, rating=9)
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.problem["errors"]] == ["rating"]
    with pytest.raises(GatewayError) as unknown:
        public.feedback.my_case(receipt_code="not-a-code-of-anyone-at-all")
    assert unknown.value.status == 404


def test_the_public_reads_the_signed_checkpoints(live_gateway: str, database: Database) -> None:
    checkpoint = CheckpointBook(database, "cadre").take(Ed25519PrivateKey.generate())
    assert checkpoint is not None
    answer = GatewayClient(live_gateway).request("GET", "/api/v1/public/audit/cadre/checkpoints", {"limit": 1})
    (latest,) = answer["items"]
    assert (latest["service"], latest["count"], latest["digest"]) == (
        "cadre",
        checkpoint.count,
        checkpoint.digest.hex(),
    )
    staff = GatewayClient(live_gateway, token("auditor")).feedback.audit_checkpoints()
    assert isinstance(staff["items"], list)
