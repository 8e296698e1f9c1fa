"""The route table: every HTTP operation the gateway serves, and the RPC method behind it.

It is the one place routes are written. The dispatcher matches requests
against it and the OpenAPI document is generated from it, so neither can
name an operation the other does not know. Staff routes are discovered: one
``POST /api/v1/{service}/{method}`` for every ``@rpc_method`` of every
service that exists, with the request and reply types its contract declares
(``contract_of``). Public routes are listed here by hand, because which of a
service's methods the public reaches without an account, and at which
address, is a decision, not a discovery; each must be one the roles table
grants to the public.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass

from shared.runtime.messaging.rpc import RpcContract, contract_of
from shared.runtime.process.catalog import existing_services, load_service
from shared.security.policy import PUBLIC, ROLES, allows

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Route:
    """One operation: an HTTP method and path, and the RPC method it calls."""

    verb: str
    path: str
    service: str
    method: str
    contract: RpcContract
    public: bool
    summary: str
    description: str = ""

    @property
    def operation_id(self) -> str:
        return f"{'public' if self.public else 'staff'}.{self.service}.{self.method}"

    @property
    def takes_body(self) -> bool:
        return self.verb == "POST"

    @property
    def takes_query(self) -> bool:
        return self.verb == "GET" and self.contract.request is not None

    @property
    def tag(self) -> str:
        return "public" if self.public else self.service


@dataclass(frozen=True)
class PublicRoute:
    verb: str
    path: str
    service: str
    method: str
    summary: str


#: What the public reaches without an account. A receipt code travels in the body, never in a URL.
PUBLIC_ROUTES: tuple[PublicRoute, ...] = (
    PublicRoute("POST", "/public/feedback", "feedback", "submit", "Submit feedback, a question or a complaint"),
    PublicRoute("POST", "/public/feedback/case", "feedback", "my_case", "Look up one's case by its receipt code"),
    PublicRoute("POST", "/public/feedback/follow-up", "feedback", "follow_up", "Add to one's case by its receipt code"),
    PublicRoute("POST", "/public/feedback/close", "feedback", "close", "Close one's case by its receipt code, rated"),
    PublicRoute("GET", "/public/feedback/notices", "feedback", "open_notices", "Notices open for comment"),
    PublicRoute("GET", "/public/notices", "cadre", "open_notices", "The board of open notices"),
    PublicRoute("GET", "/public/results", "cadre", "published_results", "Published results of closed selections"),
)


def checkpoint_routes(services: Iterable[str]) -> list[PublicRoute]:
    """Each store's signed checkpoints, for anyone to keep and verify the record against."""
    return [
        PublicRoute(
            "GET", f"/public/audit/{name}/checkpoints", name, "audit_checkpoints", f"{name}: signed checkpoints"
        )
        for name in services
    ]


def rpc_methods(service_cls: type) -> list[tuple[str, RpcContract, str]]:
    """Each ``@rpc_method`` of a service class: its name, its contract, the first line of its docstring."""
    found = []
    for name, member in inspect.getmembers(service_cls):
        contract = contract_of(member)
        if contract is not None:
            doc = (inspect.getdoc(member) or "").strip().splitlines()
            found.append((name, contract, doc[0] if doc else ""))
    return found


def granted_to(service: str, method: str, query: bool) -> list[str]:
    """The roles that grant ``service.method`` (for the docs; the check itself is ``policy.allows``)."""
    return [role for role in ROLES if allows([role], service, method, query=query)]


def route_table(services: Iterable[str] | None = None) -> list[Route]:
    """The public routes, then one staff route per RPC method of every service that exists."""
    names = list(existing_services() if services is None else services)
    methods = {name: {m: (c, doc) for m, c, doc in rpc_methods(load_service(name))} for name in names}
    routes: list[Route] = []
    for spec in (*PUBLIC_ROUTES, *checkpoint_routes(names)):
        if spec.method not in methods.get(spec.service, {}):
            continue
        contract, doc = methods[spec.service][spec.method]
        if not allows([PUBLIC], spec.service, spec.method, query=contract.query):
            raise ValueError(f"{spec.service}.{spec.method} is routed to the public, but the roles table denies it")
        routes.append(
            Route(spec.verb, PREFIX + spec.path, spec.service, spec.method, contract, True, spec.summary, doc)
        )
    for name in names:
        for method, (contract, doc) in sorted(methods[name].items()):
            kind = "query" if contract.query else "command"
            roles = ", ".join(granted_to(name, method, contract.query)) or "no role"
            routes.append(
                Route(
                    "POST",
                    f"{PREFIX}/{name}/{method}",
                    name,
                    method,
                    contract,
                    False,
                    doc or f"{name}.{method} ({kind})",
                    f"The {kind} `{name}.{method}`; the body holds its arguments. Granted to: {roles}.",
                )
            )
    return routes
