"""The appointment under public watch, through the gateway over HTTP, with bearer tokens.

The same story ``make demo`` tells (``services.scenarios``): the department
runs two selections with a token of its roles, a member of the public objects
to one nominee through the public endpoint (no account), the supervision
office substantiates the complaint with a token of its own, and the notice
period passes. One nominee is withheld, the other appointed, and the public
sees both on the board of published results; the appointee is enrolled in
induction by training and appears in talent's pool with the post. The public
then follows its case by receipt code, in the body and never in the URL, and a
citizen proves a notice with the verifier the gateway serves, against a
signed tree head saved earlier (``docs/VERIFYING.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.gateway.client import GatewayClient, GatewayError
from services.scenarios import appointment_under_public_watch, through_gateway
from services.scenarios.appointment import run_selection
from shared.audit import proofs
from shared.audit.heads import trusted_public_key
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


AUDIT = "/api/v1/public/audit"


def proof_once_covered(
    public: GatewayClient, event_id: str, since: int | None = None, service: str = "cadre"
) -> dict[str, Any] | None:
    """The proof, once a signed head covers the event; until then the gateway answers 409 with ``Retry-After``."""
    try:
        arguments = {"event_id": event_id, **({"since": since} if since is not None else {})}
        answer: dict[str, Any] = getattr(public, service).audit_proof(**arguments)
    except GatewayError as error:
        if error.status != 409 or not error.headers.get("Retry-After"):
            pytest.fail(f"asked too early, the gateway must answer 409 with Retry-After: {error}")
        return None
    return answer


def verify(verifier: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The downloaded verifier, run as a citizen runs it: ``python3 -I`` (nothing of the project importable)."""
    return subprocess.run(
        [sys.executable, "-I", str(verifier), *args], capture_output=True, text=True, timeout=60, check=False
    )


def save(directory: Path, name: str, document: Any) -> str:
    target = directory / name
    target.write_text(json.dumps(document))
    return str(target)


def test_a_citizen_proves_a_notice_with_the_downloaded_verifier_against_a_head_saved_earlier(
    story: dict[str, Any], live_gateway: str, database: Database, platform_settings: Settings, tmp_path: Path
) -> None:
    """Save a head; a notice opens later; its proof, fetched over HTTP, extends the saved head.

    The citizen's key comes from the sandbox's key directory (their
    independent channel); the gateway must serve the same one.
    """
    public = GatewayClient(live_gateway)
    key = trusted_public_key(platform_settings)
    assert key is not None
    assert public.request("GET", f"{AUDIT}/public-key")["public_key"] == key.hex()
    heads = wait_until(lambda: public.cadre.audit_heads(limit=1)["items"], what="a signed head of cadre", timeout=30)
    saved_head = save(tmp_path, "saved-head.json", heads[-1])
    saved_size = heads[-1]["tree_size"]

    notices: list[dict[str, Any]] = []

    def read_the_board(view: dict[str, Any]) -> None:
        def board() -> list[dict[str, Any]]:
            return [n for n in public.cadre.open_notices()["items"] if n["process_id"] == view["process_id"]]

        notices.extend(wait_until(board, what="the notice on the public board"))

    department = through_gateway(
        live_gateway, KeyRing(os.environ["SECURITY_KEYS_DIR"]), platform_settings.gateway, str(uuid.uuid4())
    )
    tag = f"{story['run']}v"
    run_selection(department.cadre, lambda delta: advance_clock(database, delta), tag, during_notice=read_the_board)
    (notice,) = notices

    bundle = wait_until(
        lambda: proof_once_covered(public, notice["event_id"], since=saved_size),
        what="a signed head covering the notice",
        timeout=30,
    )
    assert bundle is not None
    assert bundle["head"]["tree_size"] > saved_size and bundle["consistency"]["from_size"] == saved_size

    with urllib.request.urlopen(f"{live_gateway}{AUDIT}/verifier.py", timeout=30) as response:
        assert response.headers.get_content_type() == "text/x-python"
        verifier = tmp_path / "verifier.py"
        verifier.write_bytes(response.read())

    proof = save(tmp_path, "proof.json", bundle)
    proven = verify(verifier, "inclusion", proof, "--saved-head", saved_head, "--public-key", key.hex())
    assert proven.returncode == 0, proven.stderr
    assert f"PROVEN: event {notice['event_id']} (PublicNoticeOpened, selection-{tag}-selection" in proven.stdout
    assert notice["notice_id"] in proven.stdout

    forged = {**bundle, "leaf_input": bundle["leaf_input"].replace(notice["notice_id"], "another-notice")}
    refused = verify(verifier, "inclusion", save(tmp_path, "forged.json", forged), "--public-key", key.hex())
    assert refused.returncode == 1 and "NOT PROVEN" in refused.stderr
    refused = verify(verifier, "inclusion", proof, "--saved-head", saved_head, "--public-key", "00" * 32)
    assert refused.returncode == 1, "a head is only as good as the key it is checked with"

    step = public.cadre.audit_consistency(old_size=saved_size, new_size=bundle["head"]["tree_size"])
    new_head = save(tmp_path, "new-head.json", step["new"])
    grown = verify(
        verifier, "consistency", saved_head, new_head, save(tmp_path, "step.json", step), "--public-key", key.hex()
    )
    assert grown.returncode == 0, grown.stderr
    assert GatewayClient(live_gateway, token("auditor")).cadre.audit_heads(limit=1)["items"], "staff read them too"


def test_a_published_result_names_the_events_that_closed_it_and_decided_each_nominee(
    story: dict[str, Any], live_gateway: str, platform_settings: Settings
) -> None:
    """Each event id a published result names is in cadre's signed log, and is the event that says so."""
    public, run = GatewayClient(live_gateway), story["run"]
    key = trusted_public_key(platform_settings)
    assert key is not None
    result = wait_until(
        lambda: next(
            (r for r in public.cadre.published_results(limit=500)["items"] if r["process_id"] == f"{run}c-selection"),
            None,
        ),
        what="the clean selection's result",
    )
    assert result is not None

    def proven(event_id: str) -> dict[str, Any]:
        bundle = wait_until(lambda: proof_once_covered(public, event_id), what="a head covering it", timeout=30)
        assert bundle is not None and key is not None
        return proofs.check_inclusion_bundle(bundle, key)

    closed = proven(result["event_id"])
    assert closed["type"] == "SelectionClosed" and closed["data"]["appointed"] == [f"{run}c-c1"]
    (appointed,) = result["appointed"]
    decided = proven(appointed["event_id"])
    assert decided["type"] == "CandidateAppointed" and decided["data"]["cadre_id"] == f"{run}c-c1"
