"""The site's pages: each one a public route of the gateway's, called as the public, shown as HTML.

A page never reaches a service another way than the JSON API would: the
gateway's rate limit, argument checks and identity sealing apply to it
(``Gateway.checked`` and ``Gateway.forward``). A form whose fields are
refused comes back with what was typed and each problem beside its field; any
other failure is a page that says what happened in the reader's language,
never a traceback. A receipt code travels in a posted form only, never in a
URL, and is never written to a cookie.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import jinja2
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from services.gateway import problems
from services.gateway.audit import PublicAudit
from services.gateway.problems import Problem
from services.gateway.ratelimit import PUBLIC as PUBLIC_SCOPE
from services.gateway.ratelimit import RateLimits
from services.gateway.routes import Route
from services.gateway.site import forms, i18n, staff
from services.gateway.tokens import BearerTokens
from shared.audit.proofs import HEAD_DOMAIN
from shared.errors import OrgWorkError
from shared.security.assertions import Identity
from shared.security.policy import PUBLIC

log = logging.getLogger(__name__)

#: What a request to the site matched: a page and its path's values, or a redirect to answer as it is.
Matched = tuple[str, Mapping[str, Any]] | Response

HERE = Path(__file__).parent
STATIC = HERE / "static"
#: No inline script or style, nothing from another origin; forms post here only.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CHANNELS = ("mailbox", "hotline", "suggestion_box", "consultation", "notice_comment")
CATEGORIES = (
    "general",
    "consultation",
    "complaint_about_cadre",
    "suggestion_on_training",
    "talent_policy_consultation",
)
TEXT_LIMIT = 4000
RATINGS = ((5, "Very satisfied"), (4, "Satisfied"), (3, "Neither"), (2, "Dissatisfied"), (1, "Very dissatisfied"))


class PublicCalls(Protocol):
    """What a page needs of the gateway: its rate limits and its public routes, checked and forwarded."""

    routes: list[Route]
    limits: RateLimits
    tokens: BearerTokens
    audit: PublicAudit

    def public_route(self, service: str, method: str) -> Route: ...

    def staff_route(self, service: str, method: str) -> Route: ...

    def checked(self, route: Route, data: dict[str, Any], path_values: Mapping[str, str]) -> dict[str, Any]: ...

    def forward(self, route: Route, arguments: Mapping[str, Any], identity: Identity, correlation_id: str) -> Any: ...


class Site:
    """The pages under ``/`` that are not the API's: the notice board, feedback, one's case."""

    def __init__(self, gateway: PublicCalls) -> None:
        self.gateway = gateway
        self.url_map = Map(
            [
                Rule("/", methods=["GET"], endpoint="board"),
                Rule("/archive", methods=["GET"], endpoint="archive"),
                Rule("/feedback", methods=["GET", "POST"], endpoint="feedback"),
                Rule("/case", methods=["GET", "POST"], endpoint="case"),
                Rule("/results", methods=["GET"], endpoint="results"),
                Rule("/statistics", methods=["GET"], endpoint="statistics"),
                Rule("/verify", methods=["GET"], endpoint="verify"),
                Rule("/staff", methods=["GET", "POST"], endpoint="staff"),
                Rule("/staff/sign-in", methods=["GET", "POST"], endpoint="sign_in"),
                Rule("/staff/sign-out", methods=["POST"], endpoint="sign_out"),
                Rule("/language/<code>", methods=["GET"], endpoint="language"),
                Rule("/static/<path:name>", methods=["GET"], endpoint="static"),
            ]
        )
        self.templates = {language: _environment(language) for language in i18n.LANGUAGES}
        #: the stores whose events a page may prove (each has its public audit routes)
        self.services = {route.service for route in gateway.routes if route.method == "audit_proof"}
        self.pages: dict[str, Callable[[Page], Response]] = {
            "board": self.board,
            "archive": self.archive,
            "feedback": self.feedback,
            "case": self.case,
            "results": self.results,
            "statistics": self.statistics,
            "verify": self.verify,
            "staff": staff.queue,
            "sign_in": staff.sign_in,
            "sign_out": staff.sign_out,
            "language": self.language,
            "static": self.static,
        }

    def match(self, request: Request) -> Matched | None:
        """The page ``request`` is for (or where it is redirected), None when it is not the site's."""
        try:
            endpoint, values = self.url_map.bind_to_environ(request.environ).match(method=request.method)
        except RequestRedirect as redirect:
            return Response(status=redirect.code, headers={"Location": redirect.new_url})
        except HTTPException:
            return None
        return str(endpoint), values

    def respond(self, request: Request, correlation_id: str, matched: Matched) -> Response:
        """The page ``match`` found for ``request``: never an exception."""
        if isinstance(matched, Response):
            return matched
        page = Page(self, request, correlation_id)
        endpoint, page.values = matched
        try:
            return self.pages[endpoint](page)
        except NotFound:
            return page.failure(404, "This page does not exist.")
        except HTTPException as error:
            return page.failure(error.code or 400, "This page cannot be served this way.")
        except Problem as problem:
            return page.problem(problem)
        except OrgWorkError as error:
            return page.problem(problems.from_error(error))
        except Exception:
            error_id = str(uuid.uuid4())
            log.exception("unexpected error on page %s %s (error id %s)", request.method, request.path, error_id)
            return page.failure(500, "The service is not available just now. Try again in a few minutes.")

    # -- pages -----------------------------------------------------------------------------

    def board(self, page: Page) -> Response:
        """Every notice open now, with its window and the working days it still has (counted by the service)."""
        notices = page.call("feedback", "open_notices", {})  # every service's, as feedback hears of them
        return page.render("board.html", notices=sorted(notices["items"], key=lambda n: n["closes_at"]))

    def archive(self, page: Page) -> Response:
        """Notices whose window has closed, searched by unit and by the dates they closed between."""
        asked = {key: page.request.args.get(key, "").strip() for key in ("unit", "closed_from", "closed_to")}
        try:
            found = page.call("feedback", "notice_archive", {key: value for key, value in asked.items() if value})
        except Problem as problem:
            if problem.kind is not problems.VALIDATION_FAILED:
                raise
            return page.render("archive.html", status=422, notices=[], asked=asked, errors=_by_field(problem))
        return page.render("archive.html", notices=found["items"], asked=asked, errors={})

    def feedback(self, page: Page) -> Response:
        """The form, and on a good post the receipt, shown once."""
        request = page.request
        if request.method == "GET":
            chosen = {"channel": request.args.get("channel", "mailbox"), "notice_id": request.args.get("notice", "")}
            if chosen["notice_id"]:
                chosen["channel"] = "notice_comment"
            notice = self._open_notice(page, chosen["notice_id"])
            return page.render("feedback.html", typed=chosen, errors={}, command_id=str(uuid.uuid4()), notice=notice)
        page.require_genuine_form()
        typed = {key: request.form.get(key, "").strip() for key in _FEEDBACK_FIELDS}
        data: dict[str, Any] = {
            "channel": typed["channel"],
            "category": typed["category"],
            "text": typed["text"],
            "command_id": typed["command_id"] or None,
        }
        for optional in ("notice_id", "cadre_id"):
            if typed[optional]:
                data[optional] = typed[optional]
        if typed["name"] or typed["contact"]:
            data["identity"] = {"name": typed["name"], "contact": typed["contact"]}
            data["anonymous"] = False
        try:
            receipt = page.call("feedback", "submit", data)
        except (Problem, OrgWorkError) as failure:
            problem = failure if isinstance(failure, Problem) else problems.from_error(failure)
            if problem.kind is not problems.VALIDATION_FAILED:
                raise problem from None
            errors = _by_field(problem)
            notice = self._open_notice(page, typed["notice_id"])
            return page.render(
                "feedback.html", status=422, typed=typed, errors=errors, command_id=typed["command_id"], notice=notice
            )
        return page.render("receipt.html", receipt=receipt)

    def _open_notice(self, page: Page, notice_id: str) -> dict[str, Any] | None:
        """The open notice a comment is about (its title, and the cadres it names), or None."""
        if not notice_id:
            return None
        notices = page.call("feedback", "open_notices", {})["items"]
        return next((n for n in notices if n["notice_id"] == notice_id), None)

    def case(self, page: Page) -> Response:
        """Looking one's case up by its code; a follow-up, or closing it with a rating, from the same page."""
        request = page.request
        if request.method == "GET":
            return page.render("case_lookup.html", errors={})
        page.require_genuine_form()
        code = request.form.get("receipt_code", "").strip()
        action = request.form.get("action", "look_up")
        errors: dict[str, list[str]] = {}
        done, changed = "", {}
        try:
            command = {"receipt_code": code, "command_id": _command(request)}
            if action == "follow_up":
                ack = page.call("feedback", "follow_up", {**command, "text": request.form.get("text", "").strip()})
                done, changed = "Your follow-up is added to the case.", {"status": ack["status"]}
            elif action == "close":
                rating = request.form.get("rating", "")
                comment = request.form.get("comment", "").strip()
                ack = page.call("feedback", "close", {**command, "rating": rating, "comment": comment})
                done, changed = "The case is closed. Thank you for your rating.", {"status": ack["status"]}
                changed["rating"] = int(rating)
            # The case as its read model has it, with what this post changed as the command answered
            # it: the read model follows the record a moment later, and the reader sees their own change now.
            case = {**page.call("feedback", "my_case", {"receipt_code": code}), **changed}
        except (Problem, OrgWorkError) as failure:
            problem = failure if isinstance(failure, Problem) else problems.from_error(failure)
            if problem.kind is problems.VALIDATION_FAILED and action != "look_up":
                errors = _by_field(problem)
                case = page.call("feedback", "my_case", {"receipt_code": code})
            elif problem.kind in (problems.VALIDATION_FAILED, problems.NOT_FOUND):
                # one neutral answer for a code that is malformed, unknown or someone else's
                return page.render("case_lookup.html", status=404, errors={"receipt_code": [_NO_CASE]})
            else:
                raise problem from None
        return page.render("case.html", case=case, code=code, errors=errors, done=done, command_id=str(uuid.uuid4()))

    def results(self, page: Page) -> Response:
        """Closed selections as published: who was appointed, and whose appointment was withheld."""
        unit = page.request.args.get("unit", "").strip()
        found = page.call("cadre", "published_results", {"unit": unit} if unit else {})
        elections = page.call("grassroots", "published_elections", {})["items"]
        affairs = page.call("grassroots", "public_affairs", {})["items"]
        return page.render("results.html", results=found["items"], unit=unit, elections=elections, affairs=affairs)

    def statistics(self, page: Page) -> Response:
        """The open statistics: by month (every channel together) and by channel (the twelve months together)."""
        rows = page.call("feedback", "open_statistics", {})["items"]
        months = [{"month": month[:7], **_totals(group)} for month, group in _grouped(rows, "month")]
        channels = [{"channel": channel, **_totals(group)} for channel, group in _grouped(rows, "channel")]
        return page.render("statistics.html", by_month=months, by_channel=channels)

    def verify(self, page: Page) -> Response:
        """A published notice, result or reply, proven: its event's inclusion proof against a signed tree head.

        The page shows the head and the event the proof names; the reader's
        browser checks the signature and the path itself (``static/verify.js``,
        WebCrypto), and the proof and the standalone verifier are a download away.
        """
        service, event_id = page.request.args.get("service", ""), page.request.args.get("event", "")
        if service not in self.services:
            return page.failure(404, "Nothing was found.")
        bundle = page.call(service, "audit_proof", {}, path={"event_id": event_id})
        event = json.loads(bundle["leaf_input"])
        key = self.gateway.audit.public_key
        return page.render(
            "verify.html",
            service=service,
            bundle=bundle,
            event=event,
            public_key=key.hex() if key else "",
            head_domain=HEAD_DOMAIN,
        )

    def language(self, page: Page) -> Response:
        """Switch the language and go back to the page the reader was on (on this site only)."""
        code = page.values["code"]
        back = page.request.args.get("next", "/")
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        response = Response(status=303, headers={"Location": back})
        if code in i18n.LANGUAGES:
            response.set_cookie(
                i18n.COOKIE, code, max_age=365 * 86400, samesite="Lax", secure=page.request.is_secure, path="/"
            )
        return response

    def static(self, page: Page) -> Response:
        response = send_from_directory(STATIC, page.values["name"], page.request.environ, max_age=3600)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


class Page:
    """One request to the site: the reader's language and CSRF token, and the calls it makes as the public."""

    def __init__(self, site: Site, request: Request, correlation_id: str) -> None:
        self.site = site
        self.request = request
        self.correlation_id = correlation_id
        self.language = i18n.chosen(request.cookies.get(i18n.COOKIE))
        self.token = forms.token_for(request)
        self.values: Mapping[str, Any] = {}

    @property
    def address(self) -> str:
        return self.request.remote_addr or "unknown"

    def call(self, service: str, method: str, data: dict[str, Any], path: Mapping[str, str] | None = None) -> Any:
        """The public route to ``service.method`` with ``data`` (and what its path holds), as the API would call it."""
        route = self.site.gateway.public_route(service, method)
        identity = Identity(PUBLIC, (PUBLIC,), "gateway", client=self.address)
        return self.through(route, data, identity, PUBLIC_SCOPE, path=path)

    def through(
        self,
        route: Route,
        data: dict[str, Any],
        identity: Identity,
        scope: str,
        *,
        path: Mapping[str, str] | None = None,
        granted: bool = True,
    ) -> Any:
        """Call ``route`` as ``identity``: counted against ``scope``'s limit, refused unless ``granted``, checked."""
        gateway = self.site.gateway
        gateway.limits.check(scope, self.address)
        if not granted:
            raise Problem(problems.FORBIDDEN, "None of your roles allows this.")
        return gateway.forward(route, gateway.checked(route, data, path or {}), identity, self.correlation_id)

    def require_genuine_form(self) -> None:
        if not forms.is_genuine(self.request):
            raise Problem(problems.FORBIDDEN, "This form has expired. Go back, reload the page and send it again.")

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        html = (
            self.site.templates[self.language]
            .get_template(template)
            .render(
                language=self.language,
                path=self.request.path,
                csrf_field=forms.FIELD,
                csrf_token=self.token,
                channels=CHANNELS,
                categories=CATEGORIES,
                ratings=RATINGS,
                text_limit=TEXT_LIMIT,
                new_id=lambda: str(uuid.uuid4()),
                **context,
            )
        )
        response = Response(html, status=status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        forms.keep(self.request, response, self.token)
        return response

    def problem(self, problem: Problem) -> Response:
        status = problem.kind.status
        if problem.kind is problems.NOT_YET_COVERED:
            message = "No signed tree head covers this yet. Try again in a minute."
        elif problem.kind in (problems.RULE_VIOLATION, problems.CONFLICT):
            message = problem.detail  # the rule, as the service states it
        elif status == 429:
            message = "Too many requests from your address. Wait a minute and try again."
        elif status == 403:
            message = problem.detail
        elif status == 404:
            message = "Nothing was found."
        elif status >= 500:
            message = "The service is not available just now. Try again in a few minutes."
        else:
            message = "The request could not be carried out."
        response = self.failure(status, message)
        response.headers.update(problem.headers)
        return response

    def failure(self, status: int, message: str) -> Response:
        return self.render("failure.html", status=status, message=message)


_FEEDBACK_FIELDS = ("channel", "category", "text", "name", "contact", "notice_id", "cadre_id", "command_id")
_NO_CASE = "No case matches this code. Check it and try again."


def _environment(language: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    table = i18n.catalog(language)

    def gettext(message: str, **variables: Any) -> str:
        text = table.get(message, message)
        return text % variables if variables else text

    def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
        return gettext(singular if n == 1 else plural, n=n, **variables)

    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.filters["when"] = _when
    return environment


def _when(value: str) -> str:
    """An ISO timestamp as a reader's date and minute (UTC+8, the organisation's time)."""
    moment = dt.datetime.fromisoformat(value).astimezone(dt.timezone(dt.timedelta(hours=8)))
    return moment.strftime("%Y-%m-%d %H:%M")


def _grouped(rows: list[dict[str, Any]], key: str) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(row)
    return sorted(groups.items())


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts added up, and the rates of the sums (not an average of rates)."""
    total = {key: sum(int(r[key]) for r in rows) for key in _COUNTS}
    rating_sum = sum(float(r["average_rating"]) * int(r["ratings"]) for r in rows if r["average_rating"] is not None)
    return {
        **total,
        "on_time_reply_rate": total["replied_on_time"] / total["replied"] if total["replied"] else None,
        "on_time_resolution_rate": total["resolved_on_time"] / total["resolved"] if total["resolved"] else None,
        "average_rating": rating_sum / total["ratings"] if total["ratings"] else None,
    }


_COUNTS = ("received", "replied", "replied_on_time", "resolved", "resolved_on_time", "ratings")


def _by_field(problem: Problem) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in problem.extra.get("errors", []):
        found.setdefault(error["field"].split(".")[-1], []).append(error["detail"])
    return found


def _command(request: Request) -> str:
    sent = request.form.get("command_id", "")
    try:
        return str(uuid.UUID(sent))
    except ValueError:
        return str(uuid.uuid4())
