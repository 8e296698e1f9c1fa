"""Errors as data: every failure the gateway answers is an RFC 9457 problem document.

A caller gets ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and ``instance`` (the request's id), and what it needs
to act: the fields at fault (``errors``, for a validation failure), the rule
broken, when to try again (``Retry-After``), the error id to quote. The
platform's errors (``shared.errors``) arrive from the services as the same
types they were raised as; ``from_error`` is the one place that turns each
into its status. Nothing else about a failure, and never a traceback, leaves.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from shared.errors import (
    ConcurrencyConflict,
    DuplicateEventId,
    Forbidden,
    InternalError,
    NotFound,
    OrgWorkError,
    RateLimited,
    RuleViolation,
    Unauthorized,
    ValidationFailed,
)

MEDIA_TYPE = "application/problem+json"
REALM = "orgwork"


@dataclass(frozen=True)
class Kind:
    """One type of problem: its status, its name in the ``type`` URI, its title."""

    status: int
    slug: str
    title: str

    @property
    def type_uri(self) -> str:
        """A URI reference to where the docs describe it (relative: it resolves against the gateway)."""
        return f"/docs#problem-{self.slug}"


BAD_REQUEST = Kind(400, "malformed-request", "The request is not well-formed")
UNAUTHORIZED = Kind(401, "unauthorized", "No valid bearer token")
FORBIDDEN = Kind(403, "forbidden", "None of your roles grants this call")
NOT_FOUND = Kind(404, "not-found", "Not found")
METHOD_NOT_ALLOWED = Kind(405, "method-not-allowed", "Method not allowed")
CONFLICT = Kind(409, "conflict", "Someone changed it first")
RULE_VIOLATION = Kind(409, "rule-violation", "A rule forbids this now")
NOT_YET_COVERED = Kind(409, "not-yet-covered", "No signed tree head covers it yet")
TOO_LARGE = Kind(413, "payload-too-large", "The request body is too large")
UNSUPPORTED_MEDIA_TYPE = Kind(415, "unsupported-media-type", "The request body must be JSON")
VALIDATION_FAILED = Kind(422, "validation-failed", "The request's fields are not valid")
RATE_LIMITED = Kind(429, "rate-limited", "Too many requests")
INTERNAL = Kind(500, "internal-error", "Internal error")
UNAVAILABLE = Kind(503, "service-unavailable", "The service is not available")
TIMEOUT = Kind(504, "gateway-timeout", "The service did not answer in time")

#: Every kind, for the docs and the OpenAPI document.
KINDS: tuple[Kind, ...] = (
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    RULE_VIOLATION,
    NOT_YET_COVERED,
    TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    RATE_LIMITED,
    INTERNAL,
    UNAVAILABLE,
    TIMEOUT,
)


@dataclass(eq=False)
class Problem(Exception):
    """A failure to answer as a problem document; raise it anywhere in a request."""

    kind: Kind
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind.status} {self.kind.title}: {self.detail}"

    def document(self, instance: str) -> dict[str, Any]:
        return {
            "type": self.kind.type_uri,
            "title": self.kind.title,
            "status": self.kind.status,
            "detail": self.detail,
            "instance": instance,
            **self.extra,
        }

    def response(self, instance: str) -> Response:
        body = json.dumps(self.document(instance), default=str)  # ASCII: a lone surrogate echoed back stays JSON
        return Response(body, status=self.kind.status, mimetype=MEDIA_TYPE, headers=self.headers)


def unauthorized(description: str, *, token_given: bool = True) -> Problem:
    """401 with the ``WWW-Authenticate`` challenge of RFC 6750 (``invalid_token`` when a token was shown)."""
    challenge = f'Bearer realm="{REALM}"'
    if token_given:
        safe = description.replace("\\", "").replace('"', "'")
        challenge += f', error="invalid_token", error_description="{safe}"'
    return Problem(UNAUTHORIZED, description, headers={"WWW-Authenticate": challenge})


def field_errors(errors: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """marshmallow's nested messages as a flat list, each naming its field and its JSON pointer."""
    for key, problem in errors.items():
        path = prefix if key == "_schema" else (*prefix, str(key))
        if isinstance(problem, Mapping):
            yield from field_errors(problem, path)
            continue
        for message in problem if isinstance(problem, list | tuple) else [problem]:
            if isinstance(message, Mapping):
                yield from field_errors(message, path)
                continue
            yield {
                "field": ".".join(path) or "(body)",
                "pointer": "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path),
                "detail": str(message),
            }


def validation_failed(errors: Mapping[str, Any], detail: str = "the request's fields are not valid") -> Problem:
    return Problem(VALIDATION_FAILED, detail, {"errors": list(field_errors(errors))})


def not_yet_covered(detail: str, head_seconds: float) -> Problem:
    """409 for an event the store's next signed head will cover: ``Retry-After`` is the time between heads."""
    retry_after = max(1, math.ceil(head_seconds))
    return Problem(
        NOT_YET_COVERED,
        f"{detail} (retry after the next signed tree head, in about {retry_after} s)",
        {"retry_after": retry_after},
        {"Retry-After": str(retry_after)},
    )


def from_error(error: OrgWorkError) -> Problem:
    """The problem a platform error is answered with."""
    if isinstance(error, ValidationFailed):
        return validation_failed(error.errors, error.message)
    if isinstance(error, Unauthorized):
        return unauthorized(error.problem)
    if isinstance(error, Forbidden):
        return Problem(FORBIDDEN, str(error), {"action": error.action})
    if isinstance(error, NotFound):
        return Problem(NOT_FOUND, str(error), {"kind": error.kind, "key": error.key})
    if isinstance(error, RuleViolation):
        return Problem(RULE_VIOLATION, error.message, {"rule": error.rule})
    if isinstance(error, ConcurrencyConflict | DuplicateEventId):
        return Problem(CONFLICT, str(error))
    if isinstance(error, RateLimited):
        retry_after = max(1, math.ceil(error.retry_after_seconds))
        return Problem(
            RATE_LIMITED,
            str(error),
            {"retry_after": retry_after, "limit": error.limit, "window_seconds": error.window_seconds},
            {"Retry-After": str(retry_after)},
        )
    if isinstance(error, InternalError):
        return Problem(INTERNAL, str(error), {"error_id": error.error_id})
    return Problem(INTERNAL, "an unexpected error")
