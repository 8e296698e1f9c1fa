"""Calling the platform through the gateway over HTTP, as any outside client would.

``GatewayClient(url, token).cadre.create_selection(**arguments)`` posts the
arguments to the staff route with the bearer token; a client without a token
reaches only the public routes, and ``GatewayClient(url).feedback.submit(...)``
posts to the public one that serves that method (an argument the route takes
in its path, such as ``event_id``, goes there). Replies are the JSON the
gateway answered; a failure raises ``GatewayError`` with the problem document.
The demo and the tests use it; it needs nothing but the standard library.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from services.gateway.routes import PREFIX, PUBLIC_ROUTES, PublicRoute, audit_routes
from shared.config import SERVICE_NAMES


class GatewayError(Exception):
    """The gateway answered with a problem (RFC 9457)."""

    def __init__(self, status: int, problem: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem
        self.headers = headers


class GatewayClient:
    """``client.<service>.<method>(**arguments)``, over HTTP."""

    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0, correlation_id: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.correlation_id = correlation_id
        self.public: dict[tuple[str, str], PublicRoute] = {
            (r.service, r.method): r for r in (*PUBLIC_ROUTES, *audit_routes(SERVICE_NAMES))
        }

    def __getattr__(self, service: str) -> _Service:
        if service.startswith("_"):
            raise AttributeError(service)
        return _Service(self, service)

    def call(self, service: str, method: str, arguments: dict[str, Any]) -> Any:
        """The staff route with a token; without one, the public route serving ``service.method``."""
        if self.token is not None:
            return self.request("POST", f"{PREFIX}/{service}/{method}", arguments)
        route = self.public.get((service, method))
        if route is None:
            raise GatewayError(401, {"title": "no token", "detail": f"{service}.{method} is not public"}, {})
        rest, path = dict(arguments), route.path
        for argument in route.path_arguments:
            path = path.replace(f"{{{argument.name}}}", urllib.parse.quote(str(rest.pop(argument.name)), safe=""))
        return self.request(route.verb, PREFIX + path, rest)

    def request(self, verb: str, path: str, arguments: dict[str, Any] | None = None) -> Any:
        """One request; the JSON reply, or ``GatewayError``."""
        url, data = self.base_url + path, None
        headers = {"Accept": "application/json"}
        if verb == "GET" and arguments:
            url += "?" + urllib.parse.urlencode(arguments)
        elif verb != "GET":
            data = json.dumps(arguments or {}).encode()
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.correlation_id is not None:
            headers["X-Correlation-Id"] = self.correlation_id
        request = urllib.request.Request(url, data=data, headers=headers, method=verb)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw or b"{}")
            except ValueError:
                problem = {"detail": raw[:200].decode(errors="replace")}
            raise GatewayError(error.code, problem, dict(error.headers.items())) from None
        return json.loads(raw) if raw else None


class _Service:
    def __init__(self, client: GatewayClient, service: str) -> None:
        self._client = client
        self._service = service

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(**arguments: Any) -> Any:
            return self._client.call(self._service, method, arguments)

        return call
