"""Keeping a service's read models up to date, in greenthreads of its own.

``Projector`` runs one ``ProjectionRunner`` per projection the service lists,
each following the store and applying what is new (see
``shared.projections.runner``); on an error it backs off and tries again.
"""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

from shared.domain import EventRegistry
from shared.projections.runner import ProjectionRunner
from shared.runtime.observability import metrics
from shared.runtime.resources import ServiceDatabase, settings_of

log = logging.getLogger(__name__)


class Projector(DependencyProvider):
    """Keeps the service's projections up to date; declare as ``projector = Projector()``."""

    pool = ServiceDatabase()

    def setup(self) -> None:
        service_cls = self.container.service_cls
        self.settings = settings_of(self.container)
        self.service = self.container.service_name
        registry: EventRegistry = getattr(service_cls, "events", None) or EventRegistry()
        self.runners = {
            cls.name: ProjectionRunner(
                self.pool.database,
                self.service,
                cls(),
                registry,
                on_applied=metrics.PROJECTION_APPLIED.labels(self.service, cls.name).inc,
                attempts=self.settings.handler_attempts,
            )
            for cls in getattr(service_cls, "projections", ())
        }
        self._stopping = False
        self._threads: list[Any] = []

    def start(self) -> None:
        self._threads = [eventlet.spawn(self._follow, runner) for runner in self.runners.values()]

    def stop(self) -> None:
        self._stopping = True
        for thread in self._threads:
            with eventlet.Timeout(10, False):
                thread.wait()
            thread.kill()

    def kill(self) -> None:
        self._stopping = True
        for thread in self._threads:
            thread.kill()

    def get_dependency(self, worker_ctx: Any) -> Projector:
        return self

    def _follow(self, runner: ProjectionRunner) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                if runner.run_batch() == 0:
                    eventlet.sleep(self.settings.relay_idle_wait)
                backoff = 0.5
            except Exception as error:
                metrics.ERRORS.labels(self.service, type(error).__name__).inc()
                log.warning("projection %s failed: %s; retrying in %.1fs", runner.projection.name, error, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
