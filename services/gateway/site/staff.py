"""The staff's work queue: feedback awaiting a first reply or a resolution, by deadline, answered from the page.

A member of staff signs in with a token from the organisation's identity
provider (locally, ``orgctl token issue``): the same bearer token the JSON API
takes, checked the same way (``BearerTokens``), then kept in an HttpOnly,
SameSite=Strict cookie scoped to ``/staff`` for the browser's session. Every
page checks it again; an expired or withdrawn token sends the reader back to
sign in. A call goes through the staff route of the gateway's table, as the
token's bearer, so the roles table decides at the gateway and again at the
service; what none of the bearer's roles grants is not offered on the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.problems import BAD_REQUEST, Problem
from services.gateway.ratelimit import STAFF as STAFF_SCOPE
from services.gateway.tokens import Bearer
from shared.security.assertions import Identity
from shared.security.policy import allows

COOKIE = "orgwork_staff"
PATH = "/staff"


@dataclass(frozen=True)
class Action:
    """What a form on the queue asks of a service: a method, the record it acts on, the fields it sends."""

    service: str
    method: str
    key: str  # the id of the record acted on: submission_id, case_id, task_id
    fields: tuple[str, ...]
    done: str  # what the page says once it is carried out


#: A running selection's phases, in the order a process goes through them.
PHASES = (
    "announced",
    "registration",
    "recommendation",
    "shortlisted",
    "assessment_preview",
    "assessment",
    "committee_vote",
    "nominated",
    "public_notice",
    "postponed",
)

#: Every action the queue offers, each only to a bearer one of whose roles grants its method.
ACTIONS: dict[str, Action] = {
    "reply": Action("feedback", "reply", "submission_id", ("text",), "Your reply is sent."),
    "resolve": Action("feedback", "resolve", "submission_id", ("text",), "The case is resolved."),
    "reject": Action("feedback", "reject", "submission_id", ("reason",), "The submission is not taken up."),
    "transfer": Action("feedback", "transfer", "submission_id", ("to", "note"), "The submission is transferred."),
    "merge": Action("feedback", "merge", "submission_id", ("into",), "The submission is merged."),
    "assign_case": Action("supervision", "assign_case", "case_id", ("investigator",), "The case is assigned."),
    "record_outcome": Action(
        "supervision", "record_outcome", "case_id", ("substantiated", "reasons"), "The outcome is recorded."
    ),
    "report_progress": Action(
        "supervision", "report_progress", "task_id", ("percent", "note"), "The progress is recorded."
    ),
    "complete_task": Action("supervision", "complete_task", "task_id", ("summary",), "The task is completed."),
}


def signed_in(page: Any) -> Bearer | None:
    """The bearer of the session's token, or None (no token, or one that no longer verifies)."""
    token = page.request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        bearer: Bearer = page.site.gateway.tokens.verify(token)
    except Problem:
        return None
    return bearer


def sign_in(page: Any) -> Response:
    request = page.request
    if request.method == "GET":
        return page.render("staff_sign_in.html", errors={})
    page.require_genuine_form()
    token = request.form.get("token", "").strip()
    try:
        page.site.gateway.tokens.verify(token)
    except Problem:
        return page.render("staff_sign_in.html", status=401, errors={"token": ["This token is not valid here."]})
    response = Response(status=303, headers={"Location": PATH})
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure, path=PATH)
    return response


def sign_out(page: Any) -> Response:
    page.require_genuine_form()
    response = Response(status=303, headers={"Location": "/"})
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="Strict", secure=page.request.is_secure)
    return response


def queue(page: Any) -> Response:
    """What waits for the staff: feedback by its next deadline, supervision cases, inspection tasks by deadline."""
    bearer = signed_in(page)
    if bearer is None:
        return Response(status=303, headers={"Location": f"{PATH}/sign-in"})
    done = ""
    if page.request.method == "POST":
        page.require_genuine_form()
        done = _act(page, bearer)
    now = dt.datetime.now(dt.UTC)
    work, cases, tasks = [], [], []
    if _may(bearer, "feedback", "submissions"):
        rows = call_as(page, bearer, "feedback", "submissions", {"status": "open"})["items"]
        work = sorted((_pending(row, now) for row in rows), key=lambda item: item["due"])
    if _may(bearer, "supervision", "cases"):
        cases = call_as(page, bearer, "supervision", "cases", {"status": "open"})["items"]
    if _may(bearer, "supervision", "tasks"):
        rows = call_as(page, bearer, "supervision", "tasks", {"status": "active"})["items"]
        tasks = sorted((_due(row, row["deadline"], now) for row in rows), key=lambda item: item["due"])
    selections: list[tuple[str, list[dict[str, Any]]]] = []
    if _may(bearer, "cadre", "list_selections"):
        running = [s for s in call_as(page, bearer, "cadre", "list_selections", {})["items"] if s["phase"] in PHASES]
        selections = [(phase, [s for s in running if s["phase"] == phase]) for phase in PHASES]
        selections = [(phase, group) for phase, group in selections if group]
    offered = {
        name for name, action in ACTIONS.items() if allows(bearer.roles, action.service, action.method, query=False)
    }
    return page.render(
        "staff_queue.html",
        bearer=bearer,
        work=work,
        cases=cases,
        tasks=tasks,
        selections=selections,
        offered=offered,
        done=done,
    )


def _may(bearer: Bearer, service: str, query: str) -> bool:
    return allows(bearer.roles, service, query, query=True)


def call_as(page: Any, bearer: Bearer, service: str, method: str, data: dict[str, Any]) -> Any:
    """The staff route to ``service.method``, called as ``bearer`` (the gateway checks the roles first)."""
    route = page.site.gateway.staff_route(service, method)
    identity = Identity(bearer.subject, bearer.roles, "gateway", client=page.address)
    granted = allows(bearer.roles, service, method, query=route.contract.query)
    return page.through(route, data, identity, STAFF_SCOPE, granted=granted)


def _act(page: Any, bearer: Bearer) -> str:
    """Carry out the action a form on the queue asked for; what the page then says."""
    form = page.request.form
    action = ACTIONS.get(form.get("action", ""))
    if action is None:
        raise Problem(BAD_REQUEST, "This form asks for nothing the queue does.")
    data: dict[str, Any] = {action.key: form.get(action.key, ""), "command_id": form.get("command_id") or None}
    for name in action.fields:
        value = form.get(name, "").strip()
        if value or name not in _OPTIONAL:
            data[name] = value
    call_as(page, bearer, action.service, action.method, data)
    return action.done


_OPTIONAL = frozenset({"note"})


def _due(row: dict[str, Any], due_at: str, now: dt.datetime) -> dict[str, Any]:
    due = dt.datetime.fromisoformat(due_at)
    hours = int((due - now).total_seconds() // 3600)
    return {**row, "due": due.isoformat(), "hours_left": hours, "late": hours < 0}


def _pending(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A row with the deadline that matters now (the first reply until there is one, then the resolution)."""
    waiting = "first_reply" if not row["replied"] else "resolution"
    item = _due(row, row[f"{waiting}_due"], now)
    return {**item, "waiting": waiting, "late": item["late"] or waiting in row["breaches"]}
