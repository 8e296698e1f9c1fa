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
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.problems import FORBIDDEN, Problem
from services.gateway.ratelimit import STAFF as STAFF_SCOPE
from services.gateway.tokens import Bearer
from shared.security.assertions import Identity
from shared.security.policy import allows

COOKIE = "orgwork_staff"
PATH = "/staff"
#: What the queue offers, each only to a bearer one of whose roles grants it.
ACTIONS = ("reply", "resolve")


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
    """Open feedback, the most pressing deadline first, with the time left and breaches marked."""
    bearer = signed_in(page)
    if bearer is None:
        return Response(status=303, headers={"Location": f"{PATH}/sign-in"})
    done = ""
    if page.request.method == "POST":
        page.require_genuine_form()
        done = _act(page, bearer)
    rows = call_as(page, bearer, "feedback", "submissions", {"status": "open"})["items"]
    now = dt.datetime.now(dt.UTC)
    work = sorted((_pending(row, now) for row in rows), key=lambda item: item["due"])
    offered = {action for action in ACTIONS if allows(bearer.roles, "feedback", action, query=False)}
    return page.render("staff_queue.html", bearer=bearer, work=work, offered=offered, done=done)


def call_as(page: Any, bearer: Bearer, service: str, method: str, data: dict[str, Any]) -> Any:
    """The staff route to ``service.method``, called as ``bearer`` (the gateway checks the roles first)."""
    gateway = page.site.gateway
    address = page.request.remote_addr or "unknown"
    gateway.limits.check(STAFF_SCOPE, address)
    route = gateway.staff_route(service, method)
    if not allows(bearer.roles, service, method, query=route.contract.query):
        raise Problem(FORBIDDEN, "None of your roles allows this.")
    arguments = gateway.checked(route, data, {})
    identity = Identity(bearer.subject, bearer.roles, "gateway", client=address)
    return gateway.forward(route, arguments, identity, page.correlation_id)


def _act(page: Any, bearer: Bearer) -> str:
    form = page.request.form
    action = form.get("action", "")
    if action not in ACTIONS:
        return ""
    data = {"submission_id": form.get("submission_id", ""), "text": form.get("text", "").strip()}
    call_as(page, bearer, "feedback", action, {**data, "command_id": form.get("command_id") or None})
    return "Your reply is sent." if action == "reply" else "The case is resolved."


def _pending(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A row with the deadline that matters now (the first reply until there is one, then the resolution)."""
    waiting = "first_reply" if not row["replied"] else "resolution"
    due = dt.datetime.fromisoformat(row[f"{waiting}_due"])
    hours = int((due - now).total_seconds() // 3600)
    late = hours < 0 or waiting in row["breaches"]
    return {**row, "waiting": waiting, "due": due.isoformat(), "hours_left": hours, "late": late}
