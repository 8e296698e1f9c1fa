"""Drive one full selection through RPC: ``python -m services.cadre.walkthrough``.

Against a running platform (``make run``), whose clock is the offset clock:
the walkthrough moves it forward to let the assessment preview and the
pre-appointment notice pass. Every run uses fresh ids, so it can run again on
the same database. Prints each step; exits 0 when the nominee is appointed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from collections.abc import Callable
from typing import Any

from shared.config import Settings
from shared.db.database import Database
from shared.runtime.client import rpc_client
from shared.runtime.clock import advance_clock

ACTOR = "organization-department"


def say(step: str, detail: str = "") -> None:
    print(f"  {step:<34} {detail}", flush=True)


def register_cadres(cadre: Any, tag: str, names: list[str], unit: str) -> list[str]:
    ids = []
    for n, name in enumerate(names):
        cadre_id = f"{tag}-c{n + 1}"
        cadre.register_cadre(actor=ACTOR, cadre_id=cadre_id, name=name, unit=unit, post_category="township")
        ids.append(cadre_id)
    return ids


def run_selection(
    cadre: Any,
    move_clock: Callable[[dt.timedelta], object],
    tag: str,
    unit: str = "Qingshan township",
    during_notice: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One selection for one post, from announcement to close; returns the closing view."""
    names = ["Li Ming", "Wang Fang", "Zhang Wei"]
    candidates = register_cadres(cadre, tag, names, unit)
    say("cadres registered", ", ".join(candidates))
    view = cadre.create_selection(
        actor=ACTOR,
        reason="a vacancy: deputy head of township",
        process_id=f"{tag}-selection",
        title=f"Deputy head of {unit}",
        unit=unit,
        kind="public_selection",
        posts=[{"post_id": f"{tag}-post", "title": "Deputy head"}],
    )
    process_id = view["process_id"]
    say("selection announced", f"{process_id} ({view['phase']})")
    cadre.open_registration(actor=ACTOR, process_id=process_id)
    for cadre_id in candidates:
        cadre.register_candidate(actor=ACTOR, process_id=process_id, cadre_id=cadre_id)
    say("candidates registered", f"{len(candidates)}")
    cadre.open_recommendation(actor=ACTOR, process_id=process_id)
    for n, choice in enumerate([candidates[0]] * 5 + [candidates[1]] * 3 + [candidates[2]] * 2):
        cadre.cast_recommendation(actor=ACTOR, process_id=process_id, voter_id=f"{tag}-voter{n}", cadre_ids=[choice])
    say("democratic recommendation", "10 ballots")
    view = cadre.draw_shortlist(actor=ACTOR, process_id=process_id, cadre_ids=candidates[:2])
    say("shortlist drawn", f"{candidates[:2]} for 1 post ({view['phase']})")
    view = cadre.publish_assessment_preview(actor=ACTOR, process_id=process_id, working_days=3)
    say("assessment preview published", "the public may comment for 3 working days")
    move_clock(dt.timedelta(days=5))
    say("clock moved", "+5 days: the preview window has passed")
    cadre.start_assessment(
        actor=ACTOR,
        process_id=process_id,
        criteria=[
            {"name": "integrity", "weight": "40"},
            {"name": "ability", "weight": "30"},
            {"name": "performance", "weight": "30"},
        ],
    )
    for cadre_id, scores in zip(candidates[:2], ([92, 88, 90], [85, 80, 78]), strict=True):
        view = cadre.assess_candidate(
            actor=ACTOR,
            process_id=process_id,
            cadre_id=cadre_id,
            qualitative="excellent" if scores[0] > 90 else "competent",
            scores=dict(zip(["integrity", "ability", "performance"], map(str, scores), strict=True)),
        )
    totals = {c["cadre_id"]: c["weighted_total"] for c in view["candidates"] if c["weighted_total"]}
    say("differential assessment", ", ".join(f"{k}: {v}" for k, v in totals.items()))
    members = [f"{tag}-member{n}" for n in range(9)]
    cadre.convene_committee(actor=ACTOR, process_id=process_id, members=members, present=members[:7])
    for n, member in enumerate(members[:7]):
        cadre.cast_committee_vote(
            actor=ACTOR, process_id=process_id, member_id=member, cadre_id=candidates[0], approve=n < 6
        )
        cadre.cast_committee_vote(
            actor=ACTOR, process_id=process_id, member_id=member, cadre_id=candidates[1], approve=n < 2
        )
    view = cadre.conclude_committee_vote(actor=ACTOR, process_id=process_id)
    nominee = next(c for c in view["candidates"] if c["nominated_post"])
    say("committee vote", f"{nominee['cadre_id']} approved by {nominee['approvals']} of 9 members")
    view = cadre.open_public_notice(actor=ACTOR, process_id=process_id, working_days=5)
    say("pre-appointment public notice", f"open until {view['notice_closes_at']}")
    if during_notice is not None:
        during_notice(view)
    move_clock(dt.timedelta(days=8))
    say("clock moved", "+8 days: the notice period has passed")
    view = cadre.close_selection(actor=ACTOR, process_id=process_id)
    for candidate in view["candidates"]:
        if candidate["result"]:
            say(f"  {candidate['cadre_id']}", candidate["result"])
    return view


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    database = Database(settings.database_url, size=1, application_name="walkthrough")
    tag = f"w{uuid.uuid4().hex[:6]}"
    print(f"A selection through RPC (run {tag}):")
    try:
        with rpc_client(timeout=args.timeout, actor=ACTOR) as rpc:
            view = run_selection(rpc.cadre, lambda delta: advance_clock(database, delta), tag)
    finally:
        database.close()
    appointed = [c["cadre_id"] for c in view["candidates"] if c["result"] == "appointed"]
    print(f"closed: {appointed} appointed" if appointed else "closed: nobody appointed")
    return 0 if appointed == [f"{tag}-c1"] else 1


if __name__ == "__main__":
    sys.exit(main())
