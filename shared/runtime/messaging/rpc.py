"""RPC methods that validate what comes in and what goes out, and errors as data.

``@rpc_method(request=Dataclass, response=Dataclass)`` exposes a service
method over nameko RPC. Arguments are passed by name and loaded into the
request dataclass by its marshmallow schema; the result is dumped by the
response's schema and checked. A caller gets:

* ``Unauthorized`` when the call carries no identity assertion this service
  can verify, ``Forbidden`` when none of the caller's roles grants the call
  (``shared.security``), both before the arguments are even looked at,
* ``ValidationFailed`` with per-field messages for bad arguments,
* the domain's own ``NotFound``, ``ConcurrencyConflict``, ``RuleViolation``,
* ``InternalError`` with an error id for anything unexpected (the traceback
  stays in the server's log under that id).

Errors cross the wire as data
-----------------------------
nameko serialises an exception as its class path plus ``args``, stringifying
every argument that is not a string (``3`` arrives as ``"3"``, ``None`` as
``"None"``). Our errors' arguments are JSON values already, so the entrypoint
sends them as one JSON document instead, and the caller's side (registered
below in nameko's exception registry) rebuilds the same type with the same
values.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY
from nameko.exceptions import MalformedRequest, get_module_path, registry, serialize
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from shared.application.commands import Idempotent, as_caller
from shared.application.idempotency import once
from shared.domain import schemas
from shared.errors import ALL_ERRORS, Forbidden, InternalError, OrgWorkError, ValidationFailed
from shared.runtime.messaging.wire import GuardedQueueConsumer, Rejected, count_rejected
from shared.runtime.trust import Trust
from shared.security.assertions import CONTEXT_KEY, AssertionVerifier, Identity
from shared.security.policy import allows

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
REQUEST_ID = "orgwork.request_id"
_WIRE_MARK = "orgwork-error:"


def _to_wire(error: OrgWorkError) -> OrgWorkError:
    """A copy of ``error`` of the same type whose only argument is its JSON form."""
    wire = type(error).__new__(type(error))
    wire.__dict__.update(error.__dict__)
    Exception.__init__(wire, _WIRE_MARK + json.dumps(list(error.args), default=str))
    return wire


def _from_wire(cls: type[OrgWorkError]) -> Callable[..., OrgWorkError]:
    def rebuild(*args: Any) -> OrgWorkError:
        if len(args) == 1 and isinstance(args[0], str) and args[0].startswith(_WIRE_MARK):
            args = tuple(json.loads(args[0][len(_WIRE_MARK) :]))
        return cls(*args)

    return rebuild


def register_remote_errors(*more: type[OrgWorkError]) -> None:
    """Teach nameko's client side to raise our error types again (idempotent).

    ``more``: error types defined above ``shared.errors`` that a caller wants
    back as themselves (the gateway: ``shared.audit.tree.NotYetCovered``);
    any other type arrives as nameko's ``RemoteError``.
    """
    for cls in (*ALL_ERRORS, *more):
        registry[get_module_path(cls)] = _from_wire(cls)


register_remote_errors()


class ValidatedRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, refusing what it cannot answer instead of dying on it.

    A request without a reply address is acknowledged and never run (nameko's
    responder would raise ``KeyError`` in the container, and the message,
    unacknowledged, would kill every restart). A request that is not JSON, too
    large, or not ``{"args": [...], "kwargs": {...}}`` gets a ``MalformedRequest``
    reply. Neither reaches a method.
    """

    queue_consumer = GuardedQueueConsumer()

    def handle_message(self, body: Any, message: Any) -> None:
        reply_to = message.properties.get("reply_to")
        if not isinstance(reply_to, str) or not reply_to:
            count_rejected(self.container.service_name, "rpc", Rejected("no_reply_to", "a request with no reply_to"))
            self.queue_consumer.ack_message(message)
            return
        if not (isinstance(body, dict) and isinstance(body.get("args"), list) and isinstance(body.get("kwargs"), dict)):
            self.refuse(message, Rejected("malformed", 'a request is {"args": [...], "kwargs": {...}}'))
            return
        super().handle_message(body, message)

    def handle_undecodable(self, message: Any, rejected: Rejected) -> None:
        """Called in the consuming thread: answer from a thread of its own."""
        self.container.spawn_managed_thread(functools.partial(self.refuse, message, rejected))

    def refuse(self, message: Any, rejected: Rejected) -> None:
        """Count and log the refusal, answer it when there is a reply address, acknowledge it."""
        count_rejected(self.container.service_name, "rpc", rejected)
        reply_to = message.properties.get("reply_to")
        try:
            if isinstance(reply_to, str) and reply_to:
                config = self.container.config
                publisher = Publisher(config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY))
                publisher.publish(
                    {"result": None, "error": serialize(MalformedRequest(str(rejected)))},
                    serializer="json",
                    exchange=get_rpc_exchange(self.container.config),
                    routing_key=reply_to,
                    correlation_id=message.properties.get("correlation_id"),
                )
        except Exception as error:  # the reply is a courtesy; the refusal stands
            log.warning("could not answer a refused request: %s", error)
        finally:
            self.queue_consumer.ack_message(message)

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as error:  # a reply that cannot be sent must not end the container
            log.error("could not send an RPC reply: %s", error)
            self.queue_consumer.ack_message(message)
            return result, exc_info


class ValidatedRpc(Rpc):
    """nameko's RPC entrypoint, sending the platform's errors as JSON data.

    The worker's context carries the request message's correlation id
    (``REQUEST_ID``): a command without a ``command_id`` of its own is carried
    out once per message, so a redelivery of the same message changes nothing.
    """

    rpc_consumer = ValidatedRpcConsumer()

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().unpack_message_headers(message)
        correlation_id = message.properties.get("correlation_id")
        if isinstance(correlation_id, str) and correlation_id:
            context[REQUEST_ID] = correlation_id[:200]
        return context

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        if exc_info is not None and isinstance(exc_info[1], OrgWorkError):
            exc_info = (exc_info[0], _to_wire(exc_info[1]), exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


class CallerCheck:
    """A worker's caller: verified from the assertion its request carried, then held to the roles table."""

    def __init__(self, verifier: AssertionVerifier, assertion: object) -> None:
        self._verifier = verifier
        self._assertion = assertion

    def authorize(self, method: str, *, query: bool) -> Identity:
        """The verified caller, if one of its roles grants ``method``; ``Unauthorized`` or ``Forbidden`` otherwise."""
        identity = self._verifier.verify(self._assertion)
        service = self._verifier.audience
        if not allows(identity.roles, service, method, query=query):
            raise Forbidden(identity.subject, f"{service}.{method}")
        return identity


class Caller(DependencyProvider):
    """Declare as ``caller = Caller()``: the RPC methods check every call's identity through it."""

    trust = Trust()

    def get_dependency(self, worker_ctx: Any) -> CallerCheck:
        return CallerCheck(self.trust.assertions, worker_ctx.context_data.get(CONTEXT_KEY))


def rpc_method(
    request: type | None = None,
    response: type | None = None,
    many: bool = False,
    prepare: Callable[[Any, Any], Any] | None = None,
) -> Callable[[F], F]:
    """Expose a method over RPC; validate its arguments and its result.

    The method receives the loaded request dataclass (or nothing when there
    is no ``request``) and returns an instance of ``response`` (or ``None``).
    With ``many``, it returns a list of ``response``, which the caller receives
    as ``{"items": [...]}`` (room to add paging without breaking callers).

    The caller is authenticated and authorized first; a command's ``actor``
    (and any other field marked as the caller's) is then set from the
    verified identity, never from the arguments.

    ``prepare(service, request)``, when given, turns the loaded request into
    the one the method receives (feedback opens a sealed identity with it),
    before a repeat of the command is looked for; the repeat is then compared
    by the prepared request, not by the arguments as sent. That is for a
    field sealed afresh on every send (``shared.security.sealed_identity``):
    two sends of one identity differ as ciphertexts, and only what they open
    to says whether they are the same request.
    """
    query = request is None or not issubclass(request, Idempotent)
    if prepare is not None and request is None:
        raise TypeError("prepare needs a request to prepare")

    def decorate(fn: F) -> F:
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            identity = self.caller.authorize(name, query=query)
            if args:
                raise ValidationFailed({"_schema": ["pass arguments by name"]}, f"invalid call to {name}")
            if request is None:
                if kwargs:
                    raise ValidationFailed(
                        {key: ["unknown argument"] for key in kwargs}, f"invalid arguments to {name}"
                    )
                call: Callable[[], Any] = functools.partial(fn, self)
            else:
                loaded = as_caller(
                    schemas.load(request, kwargs, message=f"invalid arguments to {name}", request=True),
                    identity.subject,
                    identity.client,
                )
                call = functools.partial(fn, self, loaded)
            command_id = _command_id(self, loaded) if request is not None else None
            try:
                if prepare is not None:
                    loaded = prepare(self, loaded)
                    call = functools.partial(fn, self, loaded)
                if command_id is not None:
                    # the caller is part of the request: another caller's repeat of an id is refused, never answered
                    sent = kwargs if prepare is None else schemas.dump(loaded)
                    rest = {key: value for key, value in sent.items() if key != "command_id"}
                    rest["(caller)"] = identity.subject
                    return once(self.uow, name, command_id, rest, lambda: _reply(name, call(), response, many))
                return _reply(name, call(), response, many)
            except OrgWorkError as error:
                if isinstance(error, ValidationFailed) and error.message.startswith("invalid result"):
                    return _internal(self, name, error)
                raise
            except Exception as error:
                return _internal(self, name, error)

        wrapper.rpc_contract = RpcContract(request, response, many, query)  # type: ignore[attr-defined]
        return ValidatedRpc.decorator(expected_exceptions=OrgWorkError)(wrapper)  # type: ignore[no-any-return]

    return decorate


@dataclass(frozen=True)
class RpcContract:
    """What an RPC method takes and answers: for contract tests and for documentation."""

    request: type | None
    response: type | None
    many: bool
    query: bool  # changes nothing (no ``Idempotent`` request)


def contract_of(method: Any) -> RpcContract | None:
    """The contract an ``@rpc_method`` declared, or None for any other method."""
    contract = getattr(method, "rpc_contract", None)
    return contract if isinstance(contract, RpcContract) else None


def _command_id(service: Any, request: Any) -> str | None:
    """A command's id: the caller's, else the id of the AMQP message that brought it (a redelivery repeats it)."""
    if not isinstance(request, Idempotent):
        return None
    if request.command_id:
        return request.command_id
    message_id = service.uow.context.get(REQUEST_ID)
    return f"amqp:{message_id}" if message_id else None


def _reply(name: str, result: Any, response: type | None, many: bool) -> Any:
    """The result as JSON values, checked against the response's schema."""
    if response is None:
        return None
    message = f"invalid result from {name}"
    if many:
        if not isinstance(result, list) or not all(isinstance(item, response) for item in result):
            raise TypeError(f"{name} returned {type(result).__name__}, not a list of {response.__name__}")
        return {"items": [schemas.dump(item, message=message) for item in result]}
    if not isinstance(result, response):
        raise TypeError(f"{name} returned {type(result).__name__}, not {response.__name__}")
    return schemas.dump(result, message=message)


def _internal(service: Any, method: str, error: Exception) -> Any:
    error_id = str(uuid.uuid4())
    service_name = getattr(service, "name", "")
    log.error(
        "unexpected error in %s.%s (error id %s)",
        service_name,
        method,
        error_id,
        exc_info=(type(error), error, error.__traceback__),
    )
    raise InternalError(error_id, service_name) from error
