"""The OpenAPI 3.1 document, generated from the route table and the services' own schemas.

Nothing is described twice: each operation's request and reply are the
marshmallow schemas the services validate with (``schema_for``), turned into
JSON Schema by apispec's ``MarshmallowPlugin``; the routes are the table the
dispatcher serves. Two of the platform's conventions need saying to apispec:
decimals travel as strings (exact), and a nullable enumeration accepts null.
An argument in a path is described by its route (the pattern the gateway
holds it to), the rest of the request by its schema; the documents the
gateway answers itself (the audit verifier and key) by their own routes.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.field_converter import make_type_list
from marshmallow import Schema, fields

from services.gateway import problems
from services.gateway.routes import DocumentRoute, Route
from shared.domain.schemas import DecimalAsString, schema_for

TITLE = "orgwork gateway"
VERSION = "1.0.0"
#: What a decimal looks like on the wire (the services accept any decimal of up to 28 digits).
DECIMAL_PATTERN = r"^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,8})?$"

DESCRIPTION = """\
The HTTP door to the platform. Public operations (`/api/v1/public/...`) need no account:
the gateway calls the services as `public`, with your address for the rate limits. Every
other operation is `POST /api/v1/{service}/{method}` with the method's arguments as a JSON
object, behind an OAuth2 bearer token (a JWT from the identity provider, carrying `sub` and
`roles`); the roles table decides which calls each role may make, at the gateway and again
at the service. Failures are `application/problem+json` (RFC 9457); a validation failure
lists each field at fault in `errors`. Requests are rate limited per client address (429
with `Retry-After`).
"""

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the kind of problem (see /docs)."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "This request's id (`urn:uuid:...`)."},
        "errors": {
            "type": "array",
            "description": "A validation failure: each field at fault.",
            "items": {
                "type": "object",
                "required": ["field", "pointer", "detail"],
                "properties": {
                    "field": {"type": "string"},
                    "pointer": {"type": "string", "description": "A JSON pointer into the request body."},
                    "detail": {"type": "string"},
                },
            },
        },
        "error_id": {"type": "string", "description": "An internal error: quote it; the details are in the log."},
        "retry_after": {"type": "integer", "description": "Rate limited, or not yet covered: seconds to wait."},
        "rule": {"type": "string", "description": "A rule violation: which rule."},
    },
    "additionalProperties": True,
}

#: status -> (description, headers) of the problems each status may carry.
_PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}, "description": "RFC 6750 challenge"}},
    409: {"Retry-After": {"required": False, "schema": {"type": "string"}, "description": "Seconds to wait"}},
    429: {"Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds to wait"}},
    503: {"Retry-After": {"required": False, "schema": {"type": "string"}, "description": "Seconds to wait"}},
}


def _platform_fields(self: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: the platform's field conventions in JSON Schema."""
    if isinstance(field, DecimalAsString):
        nullable = "null" in make_type_list(ret.get("type"))
        bounds = {
            key: ret.pop(key) for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if key in ret
        }
        ret.pop("format", None)
        described = ", ".join(f"{key} {value}" for key, value in bounds.items())
        return {
            "type": ["string", "null"] if nullable else "string",
            "pattern": DECIMAL_PATTERN,
            "description": "A decimal, as a string" + (f" ({described})" if described else "") + ".",
        }
    if isinstance(field, fields.Dict):
        for length, properties in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if length in ret:
                ret[properties] = ret.pop(length)
    if "enum" in ret and field.allow_none and None not in ret["enum"]:
        return {"enum": [*ret["enum"], None]}
    return {}


def _inline_nested(schema: type[Schema]) -> str:
    """apispec's resolver: None (typed away) makes every nested schema inline, with no name to clash."""
    return cast(str, None)


def component_name(cls: type) -> str:
    """A unique name for a request or reply dataclass: its service's, or the platform's."""
    parts = cls.__module__.split(".")
    owner = parts[1] if parts[0] == "services" and len(parts) > 1 else "platform"
    return f"{owner}.{cls.__name__}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class _Builder:
    def __init__(self) -> None:
        self.plugin = MarshmallowPlugin(schema_name_resolver=_inline_nested)
        self.spec = APISpec(
            title=TITLE,
            version=VERSION,
            openapi_version="3.1.0",
            plugins=[self.plugin],
            info={"description": DESCRIPTION},
        )
        assert self.plugin.converter is not None
        self.plugin.converter.add_attribute_function(_platform_fields)
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.components.schema("Problem", PROBLEM_SCHEMA)
        for status in sorted({kind.status for kind in problems.KINDS}):
            titles = "; ".join(k.title for k in problems.KINDS if k.status == status)
            response: dict[str, Any] = {
                "description": titles,
                "content": {problems.MEDIA_TYPE: {"schema": _ref("Problem")}},
            }
            if status in _PROBLEM_HEADERS:
                response["headers"] = _PROBLEM_HEADERS[status]
            self.spec.components.response(str(status), response)
        self.names: dict[type, str] = {}

    def schema(self, cls: type) -> dict[str, str]:
        name = self.names.get(cls)
        if name is None:
            name = self.names[cls] = component_name(cls)
            self.spec.components.schema(name, schema=schema_for(cls))
        return _ref(name)

    def operation(self, route: Route) -> dict[str, Any]:
        contract = route.contract
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag],
            "security": [] if route.public else [{"bearer": []}],
        }
        if route.description:
            operation["description"] = route.description
        statuses = [401, 403, 404, 409, 429, 500, 503, 504]
        if route.takes_body and contract.request is not None:
            operation["requestBody"] = {
                "required": _has_required(contract.request),
                "content": {"application/json": {"schema": self.schema(contract.request)}},
            }
        if route.takes_body:
            statuses += [400, 413, 415, 422]
        parameters: list[dict[str, Any]] = [
            {
                "in": "path",
                "name": a.name,
                "required": True,
                "description": f"Must be {a.meaning}.",
                "schema": _pattern(a.pattern),
            }
            for a in route.path_arguments
        ]
        if route.takes_query and contract.request is not None:
            parameters.append({"in": "query", "schema": _without(schema_for(contract.request), route.path_names)})
        if parameters:
            operation["parameters"] = parameters
            statuses += [400, 422]
        operation["responses"] = {"200": self.reply(route)}
        for status in sorted(statuses):
            operation["responses"][str(status)] = {"$ref": f"#/components/responses/{status}"}
        return operation

    def reply(self, route: Route) -> dict[str, Any]:
        contract = route.contract
        if contract.response is None:
            return {"description": "Done.", "content": {"application/json": {"schema": {"type": "null"}}}}
        schema: dict[str, Any] = self.schema(contract.response)
        if contract.many:
            schema = {
                "type": "object",
                "properties": {"items": {"type": "array", "items": schema}},
                "required": ["items"],
                "additionalProperties": False,
            }
        return {"description": "The reply.", "content": {"application/json": {"schema": schema}}}


def document_operation(route: DocumentRoute) -> dict[str, Any]:
    """A document the gateway answers itself: public, rate limited, no arguments."""
    responses: dict[str, Any] = {
        "200": {"description": route.summary, "content": {route.media_type: {"schema": dict(route.schema)}}}
    }
    for status in (429, 500, 503):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    return {
        "operationId": f"public.gateway.{route.endpoint}",
        "summary": route.summary,
        "description": route.description,
        "tags": ["public"],
        "security": [],
        "responses": responses,
    }


def _pattern(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern}


def _without(schema: Schema, names: set[str]) -> Schema:
    """The request's schema less the fields the path gives (a new instance: the cached one is shared)."""
    if not names:
        return schema
    return type(schema)(exclude=(*schema.exclude, *names))


def _has_required(cls: type) -> bool:
    return any(field.required for field in schema_for(cls).load_fields.values())


def openapi_document(routes: list[Route], documents: tuple[DocumentRoute, ...] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` and of the gateway's own ``documents``, as a JSON-ready dict."""
    builder = _Builder()
    for route in routes:
        builder.spec.path(path=route.path, operations={route.verb.lower(): builder.operation(route)})
    for own in documents:
        builder.spec.path(path=own.path, operations={"get": document_operation(own)})
    tags = sorted(
        {route.tag for route in routes} | ({"public"} if documents else set()), key=lambda tag: (tag != "public", tag)
    )
    document = copy.deepcopy(builder.spec.to_dict())
    document["tags"] = [{"name": tag} for tag in tags]
    _query_parameters_are_never_null(document)
    return document


def _query_parameters_are_never_null(document: dict[str, Any]) -> None:
    """A query string cannot say null: an optional parameter is simply left out."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                types = make_type_list(schema.get("type"))
                if "null" in types:
                    rest = [t for t in types if t != "null"]
                    schema["type"] = rest[0] if len(rest) == 1 else rest
                    if schema.get("default", "") is None:
                        del schema["default"]
