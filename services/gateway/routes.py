"""The route table: every HTTP operation the gateway serves, and the RPC method behind it.

It is the one place routes are written. The dispatcher matches requests
against it and the OpenAPI document is generated from it, so neither can
name an operation the other does not know. Staff routes are discovered: one
``POST /api/v1/{service}/{method}`` for every ``@rpc_method`` of every
service that exists, with the request and reply types its contract declares
(``contract_of``). Public routes are listed here by hand, because which of a
service's methods the public reaches without an account, and at which
address, is a decision, not a discovery; each must be one the roles table
grants to the public. A public route may take arguments in its path
(``{event_id}``), each with the pattern the gateway holds it to, and a check
of its own across arguments. The few documents the gateway answers itself,
with no service behind them (the audit verifier and key), are listed here too.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.domain.schemas import schema_for
from shared.runtime.messaging.rpc import RpcContract, contract_of
from shared.runtime.process.catalog import existing_services, load_service
from shared.security.policy import PUBLIC, ROLES, allows

PREFIX = "/api/v1"
_PATH_ARGUMENT = re.compile(r"\{([a-z_]+)\}")

#: An event id as the stores give it: a UUID in lower case. The verifier compares the id a proof
#: names with the one in the proven event, so a proof is only asked for in this, the stored, form.
EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

#: A check of a route's arguments once each is valid on its own: ``{field: [messages]}`` at fault.
ArgumentCheck = Callable[[Mapping[str, Any]], dict[str, list[str]]]


@dataclass(frozen=True)
class PathArgument:
    """An argument that is part of the path: the gateway holds it to ``pattern`` before the request schema.

    ``meaning`` completes "must be ...", in the 422 that refuses a value and in the docs.
    """

    name: str
    pattern: str
    meaning: str


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
    path_arguments: tuple[PathArgument, ...] = ()
    check: ArgumentCheck | None = field(default=None, compare=False)

    @property
    def operation_id(self) -> str:
        return f"{'public' if self.public else 'staff'}.{self.service}.{self.method}"

    @property
    def takes_body(self) -> bool:
        return self.verb == "POST"

    @property
    def takes_query(self) -> bool:
        """A GET whose request has fields beyond those its path gives."""
        request = self.contract.request
        return self.verb == "GET" and request is not None and bool(set(_field_names(request)) - self.path_names)

    @property
    def path_names(self) -> set[str]:
        return {argument.name for argument in self.path_arguments}

    @property
    def rule(self) -> str:
        """The path as werkzeug matches it: ``{event_id}`` becomes ``<event_id>``."""
        return _PATH_ARGUMENT.sub(r"<\1>", self.path)

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
    path_arguments: tuple[PathArgument, ...] = ()
    check: ArgumentCheck | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        named = set(_PATH_ARGUMENT.findall(self.path))
        if named != {argument.name for argument in self.path_arguments}:
            raise ValueError(f"{self.path}: the path names {sorted(named)}, the route declares others")


@dataclass(frozen=True)
class DocumentRoute:
    """A public ``GET`` the gateway answers itself, from what it was started with: no service is called.

    ``endpoint`` names the document (the app serves it); ``schema`` is the
    JSON Schema of the reply, for the OpenAPI document.
    """

    path: str
    endpoint: str
    summary: str
    description: str
    media_type: str
    schema: Mapping[str, Any] = field(compare=False)


#: What the public reaches without an account. A receipt code travels in the body, never in a URL.
PUBLIC_ROUTES: tuple[PublicRoute, ...] = (
    PublicRoute("POST", "/public/feedback", "feedback", "submit", "Submit feedback, a question or a complaint"),
    PublicRoute("POST", "/public/feedback/case", "feedback", "my_case", "Look up one's case by its receipt code"),
    PublicRoute("POST", "/public/feedback/follow-up", "feedback", "follow_up", "Add to one's case by its receipt code"),
    PublicRoute("POST", "/public/feedback/close", "feedback", "close", "Close one's case by its receipt code, rated"),
    PublicRoute("GET", "/public/feedback/notices", "feedback", "open_notices", "Notices open for comment"),
    PublicRoute(
        "GET", "/public/feedback/notices/archive", "feedback", "notice_archive", "Closed notices, by unit and date"
    ),
    PublicRoute("GET", "/public/feedback/statistics", "feedback", "open_statistics", "Feedback by month and channel"),
    PublicRoute("GET", "/public/notices", "cadre", "open_notices", "The board of open notices"),
    PublicRoute("GET", "/public/elections", "grassroots", "published_elections", "Approved branch elections, counted"),
    PublicRoute("GET", "/public/affairs", "grassroots", "public_affairs", "What branches published to the public"),
    PublicRoute(
        "GET",
        "/public/results",
        "cadre",
        "published_results",
        "Published results of closed selections, and of those an open case postponed",
    ),
)


def _sizes_in_order(arguments: Mapping[str, Any]) -> dict[str, list[str]]:
    """A consistency proof runs from an older head to a newer one (or the same)."""
    if int(arguments["old_size"]) > int(arguments["new_size"]):
        return {"old_size": ["must not be larger than new_size: the proof runs from the older head to the newer"]}
    return {}


EVENT_ID = PathArgument(
    "event_id", EVENT_ID_PATTERN, "a stored event's id, as a public read names it: a UUID in lower case"
)


def audit_routes(services: Iterable[str]) -> list[PublicRoute]:
    """Each store's signed tree heads, an event's inclusion proof, and consistency between two heads.

    Anyone may keep the heads and, with ``verifier.py`` and the key from an
    independent channel, hold the record to them (``docs/VERIFYING.md``).
    """
    routes = []
    for name in services:
        base = f"/public/audit/{name}"
        routes += [
            PublicRoute("GET", f"{base}/heads", name, "audit_heads", f"{name}: signed tree heads"),
            PublicRoute(
                "GET",
                f"{base}/proofs/{{event_id}}",
                name,
                "audit_proof",
                f"{name}: an event's inclusion proof, against a signed tree head",
                (EVENT_ID,),
            ),
            PublicRoute(
                "GET",
                f"{base}/consistency",
                name,
                "audit_consistency",
                f"{name}: proof that the log only grew from one signed tree head to a later one",
                check=_sizes_in_order,
            ),
        ]
    return routes


_PUBLIC_KEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["algorithm", "public_key", "key_id", "note"],
    "properties": {
        "algorithm": {"const": "Ed25519"},
        "public_key": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "The raw public key, hex."},
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the raw key, hex."},
        "verifier_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "note": {"type": "string"},
    },
    "additionalProperties": False,
}

#: What the gateway answers itself: the verifier, byte for byte, and the key heads are signed with.
DOCUMENT_ROUTES: tuple[DocumentRoute, ...] = (
    DocumentRoute(
        f"{PREFIX}/public/audit/verifier.py",
        "verifier",
        "The standalone verifier of proofs and heads (Python, standard library and `cryptography` only)",
        "The platform's own `shared/audit/proofs.py`, byte for byte. Run it with `python3 -I`: "
        "`inclusion PROOF.json --saved-head HEAD.json --public-key HEX` or "
        "`consistency OLD.json NEW.json PROOF.json --public-key HEX`; exit 0 proven, 1 not proven, 2 bad input.",
        "text/x-python",
        {"type": "string"},
    ),
    DocumentRoute(
        f"{PREFIX}/public/audit/public-key",
        "audit_public_key",
        "The Ed25519 key signed tree heads are checked with",
        "As this gateway is configured to trust it. Take the key from an independent channel too (the "
        "department's published notice): a server that rewrote its record could serve a key of its own.",
        "application/json",
        _PUBLIC_KEY_SCHEMA,
    ),
)


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
    for spec in (*PUBLIC_ROUTES, *audit_routes(names)):
        if spec.method not in methods.get(spec.service, {}):
            continue
        contract, doc = methods[spec.service][spec.method]
        if not allows([PUBLIC], spec.service, spec.method, query=contract.query):
            raise ValueError(f"{spec.service}.{spec.method} is routed to the public, but the roles table denies it")
        if contract.request is None and spec.path_arguments:
            raise ValueError(f"{spec.path}: {spec.service}.{spec.method} takes no arguments")
        routes.append(
            Route(
                spec.verb,
                PREFIX + spec.path,
                spec.service,
                spec.method,
                contract,
                True,
                spec.summary,
                doc,
                spec.path_arguments,
                spec.check,
            )
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


def _field_names(request: type) -> list[str]:
    return list(schema_for(request).fields)
