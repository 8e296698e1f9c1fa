"""The errors every service raises and every caller can catch by type.

They are plain Python (no nameko, no psycopg2) so that the domain can raise them.
Each keeps its constructor arguments in ``args`` in the same order as the
constructor takes them, and those arguments are JSON values: that is what lets
the RPC layer send them across the wire as data and raise the *same type* again
in the caller (see ``shared.runtime.messaging.rpc``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class OrgWorkError(Exception):
    """Base of the platform's own errors: a caller can act on each of them."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description, for logs, HTTP answers and the CLI."""
        return {"error": type(self).__name__, "message": str(self)}


class ValidationFailed(OrgWorkError):
    """Input did not validate. ``errors`` maps each field to its problems."""

    def __init__(self, errors: Mapping[str, Any], message: str = "invalid input") -> None:
        super().__init__(dict(errors), message)
        self.errors: dict[str, Any] = dict(errors)
        self.message = message

    def __str__(self) -> str:
        details = "; ".join(f"{field}: {_flatten(problem)}" for field, problem in self.errors.items())
        return f"{self.message}: {details}" if details else self.message

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "fields": self.errors}


class NotFound(OrgWorkError):
    """The thing asked for does not exist (yet)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(kind, key)
        self.kind = kind
        self.key = key

    def __str__(self) -> str:
        return f"{self.kind} {self.key!r} not found"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "kind": self.kind, "key": self.key}


class ConcurrencyConflict(OrgWorkError):
    """Someone else appended to the stream first: reload and try again."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(stream_id, expected, actual)
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual

    def __str__(self) -> str:
        return (
            f"concurrency conflict on stream {self.stream_id!r}: "
            f"expected version {self.expected}, actual version {self.actual}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "stream_id": self.stream_id,
            "expected": self.expected,
            "actual": self.actual,
        }


class DuplicateEventId(OrgWorkError):
    """An event id that is already stored, with other content.

    Re-appending the *same* events is fine (that is how a caller recovers from a
    lost reply); reusing an id for something else is a bug in the caller.
    """

    def __init__(self, event_id: str, stream_id: str) -> None:
        super().__init__(event_id, stream_id)
        self.event_id = event_id
        self.stream_id = stream_id

    def __str__(self) -> str:
        return (
            f"event id {self.event_id} is already stored with different content "
            f"(appending to stream {self.stream_id!r})"
        )


class RuleViolation(OrgWorkError):
    """A command broke a domain rule; ``state`` says what the aggregate is in."""

    def __init__(self, rule: str, message: str, state: Mapping[str, Any] | None = None) -> None:
        super().__init__(rule, message, dict(state or {}))
        self.rule = rule
        self.message = message
        self.state: dict[str, Any] = dict(state or {})

    def __str__(self) -> str:
        return f"{self.message} [rule: {self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "rule": self.rule, "state": self.state}


class RateLimited(OrgWorkError):
    """Too many requests from one source in a window; try again after a while."""

    def __init__(self, scope: str, limit: int, window_seconds: int, retry_after_seconds: int) -> None:
        super().__init__(scope, limit, window_seconds, retry_after_seconds)
        self.scope = scope
        self.limit = limit
        self.window_seconds = window_seconds
        self.retry_after_seconds = retry_after_seconds

    def __str__(self) -> str:
        return (
            f"rate limit reached for {self.scope}: at most {self.limit} per {self.window_seconds} s; "
            f"try again in {self.retry_after_seconds} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "scope": self.scope,
            "limit": self.limit,
            "retry_after_seconds": self.retry_after_seconds,
        }


class Unauthorized(OrgWorkError):
    """The call carried no identity this service can verify (none, expired, forged, or for another service)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem

    def __str__(self) -> str:
        return f"unauthorized: {self.problem}"


class Forbidden(OrgWorkError):
    """The caller is known, but none of its roles may make this call."""

    def __init__(self, subject: str, action: str) -> None:
        super().__init__(subject, action)
        self.subject = subject
        self.action = action

    def __str__(self) -> str:
        return f"forbidden: {self.subject} may not call {self.action}"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "action": self.action}


class InternalError(OrgWorkError):
    """Something unexpected failed on the server.

    The caller gets an error id to quote; the details are in the server's log
    under that id, never in the reply.
    """

    def __init__(self, error_id: str, service: str = "") -> None:
        super().__init__(error_id, service)
        self.error_id = error_id
        self.service = service

    def __str__(self) -> str:
        where = f" in {self.service}" if self.service else ""
        return f"internal error{where}; quote error id {self.error_id}"


ALL_ERRORS: tuple[type[OrgWorkError], ...] = (
    ValidationFailed,
    NotFound,
    ConcurrencyConflict,
    DuplicateEventId,
    RuleViolation,
    RateLimited,
    Unauthorized,
    Forbidden,
    InternalError,
)


def _flatten(problem: Any) -> str:
    if isinstance(problem, (list, tuple)):
        return ", ".join(_flatten(p) for p in problem)
    if isinstance(problem, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in problem.items())
    return str(problem)
