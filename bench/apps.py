"""The services the benchmark runs: ours (on the platform) and plain nameko ones.

``bench_source`` keeps counters (an aggregate with one event type) and answers
an RPC command; ``bench_sink`` handles its events once in effect (the inbox row
is its only effect). ``plain_source`` and ``plain_sink`` do the same with bare
nameko: an ``EventDispatcher``, an ``event_handler`` and an RPC echo;
``plain_http`` is a bare ``@http`` entrypoint (the gateway's baseline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from marshmallow import validate
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from shared.application import Author
from shared.application.commands import FROM_CALLER
from shared.domain import Aggregate, DomainEvent, EventRegistry, applies, command
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.service import ServiceBase
from shared.security.policy import grant

grant("bench_client", "bench_source.*", "bench_sink.*")


@dataclass(frozen=True)
class Incremented(DomainEvent):
    by: int


@dataclass
class CounterState:
    total: int = 0


class Counter(Aggregate):
    category = "counter"
    State = CounterState
    snapshot_every = 10
    state: CounterState

    @command
    def increment(self, by: int) -> None:
        self.require(by > 0, "counter.positive", "a counter only goes up")
        self.record(Incremented(by))

    @applies(Incremented)
    def _incremented(self, event: Incremented) -> None:
        self.state.total += event.by


registry = EventRegistry([Incremented])


@dataclass(frozen=True)
class Increment:
    counter_id: str = field(metadata={"validate": validate.Regexp(r"^[a-z0-9-]{1,64}$")})
    by: int = field(metadata={"validate": validate.Range(min=1, max=1000)})
    actor: str = field(default="", metadata=FROM_CALLER)


@dataclass(frozen=True)
class CounterView:
    counter_id: str
    version: int
    total: int


class BenchSource(ServiceBase):
    name = "bench_source"
    events = registry
    aggregates = (Counter,)

    @rpc_method(request=Increment, response=CounterView)
    def increment(self, request: Increment) -> CounterView:
        """Validate, load the aggregate, append its event, reply."""
        with self.uow.transaction():
            counter = self.uow.load_or_new(Counter, request.counter_id)
            counter.increment(request.by)
            # the request's own story, as before: no lookup of the stream's first event
            self.uow.save(counter, Author(request.actor), correlation_id=self.uow.correlation_id)
        return CounterView(counter.id, counter.version, counter.state.total)


class BenchSink(ServiceBase):
    name = "bench_sink"

    @handles("bench_source", "Incremented")
    def on_incremented(self, event: dict, record: RecordedEvent) -> None:
        """Nothing but the inbox row: the cost of taking an event once in effect."""


class PlainSource:
    name = "plain_source"
    dispatch = EventDispatcher()

    @rpc
    def dispatch_many(self, count: int) -> int:
        for n in range(count):
            self.dispatch("Incremented", {"counter_id": f"c{n % 1000}", "by": 1})
        return count

    @rpc
    def echo(self, value: object) -> object:
        return value


class PlainSink:
    name = "plain_sink"
    received = 0

    @event_handler("plain_source", "Incremented")
    def on_incremented(self, payload: dict) -> None:
        type(self).received += 1

    @rpc
    def received_count(self) -> int:
        return type(self).received


class PlainHttp:
    """nameko's bare ``@http`` entrypoint answering a small JSON body: P9's baseline for the gateway."""

    name = "plain_http"

    @http("GET", "/hello")
    def hello(self, request: Request) -> Response:
        return Response(json.dumps({"hello": "world", "items": []}), mimetype="application/json")
