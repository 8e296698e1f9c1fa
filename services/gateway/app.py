"""The gateway's WSGI application: from an HTTP request to one RPC call and back.

Each request, in this order: find its route (the route table); count it
against its client's rate limit; establish who is calling (the public, or
the bearer of a verified token) and check that one of their roles grants the
call (deny by default; the service checks again); read and check its
arguments (the body, or the query string of a public read, and what its
path holds, such as an event id, held to the route's pattern); call the
service as that caller, with the request's correlation id and a timeout (a
submitter's identity sealed to feedback first, never forwarded in clear:
``sealing``); answer the reply as JSON, or any failure as a problem
document. The audit verifier and key are answered here, with no service
behind them (``audit``). ``/openapi.json`` and ``/docs`` describe the same
route table; ``/health/live``, ``/health/ready`` and ``/health/dependencies``
answer probes, unthrottled (what each means: ``health``).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from services.gateway import body, docs, problems
from services.gateway.audit import PublicAudit
from services.gateway.health import BrokerProbe
from services.gateway.openapi import openapi_document
from services.gateway.problems import Problem
from services.gateway.ratelimit import PUBLIC as PUBLIC_SCOPE
from services.gateway.ratelimit import STAFF as STAFF_SCOPE
from services.gateway.ratelimit import RateLimits
from services.gateway.routes import DOCUMENT_ROUTES, Route, route_table
from services.gateway.rpc_pool import Caller, RpcPool
from services.gateway.sealing import IdentitySealing
from services.gateway.site import Site
from services.gateway.tokens import BearerTokens
from shared.audit.tree import NotYetCovered
from shared.config import Settings
from shared.domain.schemas import request_schema_for
from shared.errors import Forbidden, OrgWorkError
from shared.security import tokens as local_tokens
from shared.security.assertions import AssertionSigner, Identity
from shared.security.keys import KeyRing
from shared.security.policy import PUBLIC, allows

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

DOCS_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class Gateway:
    """The WSGI application over a route table, a token check, rate limits and a way to call the services."""

    def __init__(
        self,
        routes: list[Route],
        tokens: BearerTokens,
        limits: RateLimits,
        caller: Caller,
        *,
        max_body_bytes: int = 256 * 1024,
        broker: Callable[[], str] = lambda: "ok",
        audit: PublicAudit | None = None,
        sealing: IdentitySealing | None = None,
    ) -> None:
        self.routes = routes
        self.tokens = tokens
        self.limits = limits
        self.caller = caller
        self.max_body_bytes = max_body_bytes
        self.broker = broker  # "ok", or why not: the shared dependency /health/dependencies reports
        self.stopping = False  # set when a stop begins: this replica is no longer ready
        self.audit = audit or PublicAudit.without_key()
        self.sealing = sealing or IdentitySealing(None)  # without feedback's key: identities are refused, not sent
        rules = [Rule(route.rule, methods=[route.verb], endpoint=index) for index, route in enumerate(routes)]
        rules += [Rule(document.path, methods=["GET"], endpoint=document.endpoint) for document in DOCUMENT_ROUTES]
        self.documents = {document.endpoint for document in DOCUMENT_ROUTES}
        for path, name in [
            ("/openapi.json", "openapi"),
            ("/docs", "docs"),
            ("/health/live", "live"),
            ("/health/ready", "ready"),
            ("/health/dependencies", "dependencies"),
        ]:
            rules.append(Rule(path, methods=["GET"], endpoint=name))
        self.url_map = Map(rules)
        self.document = openapi_document(routes, DOCUMENT_ROUTES)
        self._document = json.dumps(self.document, ensure_ascii=False).encode()
        self._docs = docs.render(self.document).encode()
        self.site = Site(self)

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The answer to one request: never an exception, never a traceback."""
        request_id = str(uuid.uuid4())
        correlation_id = _correlation_id(request.headers.get("X-Correlation-Id")) or request_id
        page = self.site.match(request)
        if page is not None:  # a page: answered as HTML, failures too
            response = self.site.respond(request, correlation_id, page)
        else:
            response = self.answer(request, correlation_id, request_id)
        response.headers["X-Correlation-Id"] = correlation_id
        response.headers["X-Request-Id"] = request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def answer(self, request: Request, correlation_id: str, request_id: str) -> Response:
        """The API's answer to one request, a failure as a problem document."""
        try:
            response = self.dispatch(request, correlation_id)
        except Problem as problem:
            response = problem.response(f"urn:uuid:{request_id}")
        except OrgWorkError as error:
            response = problems.from_error(error).response(f"urn:uuid:{request_id}")
        except RequestRedirect as redirect:
            response = Response(status=redirect.code, headers={"Location": redirect.new_url})
        except HTTPException as error:
            response = _http_problem(error).response(f"urn:uuid:{request_id}")
        except Exception:
            error_id = str(uuid.uuid4())
            log.exception("unexpected error answering %s %s (error id %s)", request.method, request.path, error_id)
            detail = f"internal error; quote error id {error_id}"
            response = Problem(problems.INTERNAL, detail, {"error_id": error_id}).response(f"urn:uuid:{request_id}")
        return response

    def dispatch(self, request: Request, correlation_id: str) -> Response:
        endpoint, path_values = self.url_map.bind_to_environ(request.environ).match()
        address = request.remote_addr or "unknown"
        if endpoint == "live":
            return _json({"alive": True})
        if endpoint == "ready":
            pool = self.pool_state()
            return _json({"ready": pool == "ok", "rpc_pool": pool}, 200 if pool == "ok" else 503)
        if endpoint == "dependencies":
            broker = self.broker()
            return _json({"healthy": broker == "ok", "broker": broker}, 200 if broker == "ok" else 503)
        if isinstance(endpoint, int):
            return self.call(self.routes[endpoint], request, address, correlation_id, path_values)
        self.limits.check(PUBLIC_SCOPE, address)
        if endpoint in self.documents:
            return self.audit.answer(endpoint)
        if endpoint == "openapi":
            return Response(self._document, mimetype="application/json", headers={"Cache-Control": "no-cache"})
        if endpoint == "docs":
            headers = {"Content-Security-Policy": DOCS_POLICY, "Cache-Control": "no-cache"}
            return Response(self._docs, mimetype="text/html", headers=headers)
        raise AssertionError(f"no answer for endpoint {endpoint!r}")

    def pool_state(self) -> str:
        """``"ok"`` when this replica can take calls: not stopping, its RPC pool there and open; else why not."""
        if self.stopping:
            return "stopping"
        if self.caller is None or getattr(self.caller, "closed", False):
            return "closed"
        return "ok"

    # -- one operation ---------------------------------------------------------------------------

    def call(
        self,
        route: Route,
        request: Request,
        address: str,
        correlation_id: str,
        path_values: Mapping[str, str] | None = None,
    ) -> Response:
        self.limits.check(PUBLIC_SCOPE if route.public else STAFF_SCOPE, address)
        identity = self.identify(route, request, address)
        result = self.forward(route, self.arguments(route, request, path_values or {}), identity, correlation_id)
        if route.contract.response is None:
            return Response(status=204)
        return _json(result)

    def forward(self, route: Route, arguments: Mapping[str, Any], identity: Identity, correlation_id: str) -> Any:
        """Call the route's service with checked ``arguments`` as ``identity`` (an identity sealed first)."""
        try:
            return self.caller.call(
                route.service, route.method, self.sealing.apply(route, arguments), identity, correlation_id
            )
        except NotYetCovered as error:
            raise self.audit.not_yet_covered(error) from None

    def public_route(self, service: str, method: str) -> Route:
        """The public route to ``service.method`` (the site's pages reach the services through these only)."""
        return next(r for r in self.routes if r.public and (r.service, r.method) == (service, method))

    def staff_route(self, service: str, method: str) -> Route:
        """The staff route to ``service.method`` (the work queue's pages call these, as the signed-in bearer)."""
        return next(r for r in self.routes if not r.public and (r.service, r.method) == (service, method))

    def identify(self, route: Route, request: Request, address: str) -> Identity:
        """The public, or the token's bearer if one of their roles grants the call (403 otherwise)."""
        if route.public:
            return Identity(PUBLIC, (PUBLIC,), "gateway", client=address)
        bearer = self.tokens.authenticate(request.headers.get("Authorization"))
        if not allows(bearer.roles, route.service, route.method, query=route.contract.query):
            raise Forbidden(bearer.subject, f"{route.service}.{route.method}")
        return Identity(bearer.subject, bearer.roles, "gateway", client=address)

    def arguments(self, route: Route, request: Request, path_values: Mapping[str, str]) -> dict[str, Any]:
        """The call's arguments, checked against the request's own schema (422 naming each bad field).

        Those in the path are held to their patterns too; the route's own
        check (one argument against another) runs once each is valid.
        """
        data = body.json_object(request, self.max_body_bytes) if route.takes_body else _query_arguments(request)
        return self.checked(route, data, path_values)

    def checked(self, route: Route, data: dict[str, Any], path_values: Mapping[str, str]) -> dict[str, Any]:
        """``data`` as the route's arguments, or a 422 naming each bad field (``arguments``)."""
        request_type = route.contract.request
        if request_type is None:
            if data:
                raise problems.validation_failed({key: ["unknown argument"] for key in data}, "takes no arguments")
            return {}
        in_path: dict[str, list[str]] = {}
        for argument in route.path_arguments:
            if argument.name in data:
                in_path[argument.name] = ["given in the path: not again in the query string"]
            elif not re.fullmatch(argument.pattern, path_values[argument.name]):
                in_path[argument.name] = [f"must be {argument.meaning} ({argument.pattern})"]
            data[argument.name] = path_values[argument.name]
        errors = {**request_schema_for(request_type).validate(data), **in_path}
        if not errors and route.check is not None:
            errors = route.check(data)
        if errors:
            raise problems.validation_failed(errors, f"invalid arguments to {route.service}.{route.method}")
        return data

    # -- assembly ----------------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings, caller: Caller | None = None) -> Gateway:
        """The gateway as ``python -m services.gateway`` runs it (``caller``: the RPC pool unless given)."""
        gateway = settings.gateway
        keys_dir = settings.security.keys_dir
        default_jwks = local_jwks(keys_dir) if keys_dir and not (gateway.jwks_file or gateway.jwks_url) else None
        if caller is None:
            signer = AssertionSigner.from_keys(KeyRing(keys_dir), "gateway", settings.security.assertion_lifetime)
            caller = RpcPool(
                settings.amqp_uri,
                signer,
                size=gateway.rpc_pool_size,
                timeout=gateway.rpc_timeout,
                ssl=settings.amqp_ssl(),
            )
        return cls(
            route_table(),
            BearerTokens.from_settings(gateway, default_jwks),
            RateLimits(gateway.public_rate_limit, gateway.staff_rate_limit),
            caller,
            max_body_bytes=gateway.max_body_bytes,
            broker=BrokerProbe(settings.amqp_uri, ssl=settings.amqp_ssl()),
            audit=PublicAudit.from_settings(settings),
            sealing=IdentitySealing.from_settings(settings),
        )


def wsgi_app(gateway: Gateway, trusted_proxies: int) -> WSGIApplication:
    """The application as served: behind ``trusted_proxies`` proxies, whose ``X-Forwarded-For`` it believes."""
    if trusted_proxies <= 0:
        return gateway
    return ProxyFix(gateway, x_for=trusted_proxies)  # type: ignore[return-value]


def local_jwks(keys_dir: str) -> Path:
    """The local token issuer's JWKS in the key directory, made (or brought up to date) from ``tokens.pub``."""
    return local_tokens.write_jwks(keys_dir)


def _correlation_id(supplied: str | None) -> str | None:
    """A correlation id the client chose (a UUID, to follow its own story through the record), or None."""
    if not supplied or len(supplied) > 64:
        return None
    try:
        return str(uuid.UUID(supplied))
    except ValueError:
        return None


def _query_arguments(request: Request) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for key, values in request.args.lists():
        if len(values) > 1:
            raise Problem(problems.BAD_REQUEST, f"the query parameter {key!r} is given {len(values)} times")
        arguments[key] = values[0]
    return arguments


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status=status, mimetype="application/json")


def _http_problem(error: HTTPException) -> Problem:
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        return Problem(problems.METHOD_NOT_ALLOWED, "this operation takes another method", headers={"Allow": allowed})
    if error.code == 404:
        return Problem(problems.NOT_FOUND, "no operation here; see /docs")
    return Problem(problems.BAD_REQUEST, error.description or "the request cannot be served")
