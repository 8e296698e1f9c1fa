"""What one service container shares among its extensions: its settings, its pool, its clock.

nameko keeps one instance of a ``SharedExtension`` per container, however many
extensions declare it, so a service has one pool of connections and one clock.
Settings travel in the container's config (``SETTINGS_KEY``), put there by the
launcher or by a test; a container started without them reads the environment.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider, SharedExtension

from shared.config import Settings
from shared.db.clock import make_clock
from shared.db.database import Database
from shared.domain.calendar import Clock

SETTINGS_KEY = "ORGWORK_SETTINGS"


def settings_of(container: Any) -> Settings:
    """The platform settings a container was started with (read from the environment once, if none)."""
    settings = container.config.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        settings = container.config[SETTINGS_KEY] = Settings.from_env()
    return settings


class ServiceDatabase(SharedExtension):
    """The service's pool of connections (one per container), made on first use."""

    _database: Database | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            settings = settings_of(self.container)
            service = self.container.service_name
            if settings.db_pool_size <= settings.max_workers:
                raise ValueError(
                    f"DB_POOL_SIZE ({settings.db_pool_size}) must be greater than MAX_WORKERS "
                    f"({settings.max_workers}): a worker may hold two connections at once"
                )
            self._database = Database(
                settings.database_url, size=settings.db_pool_size, application_name=service, search_path=service
            )
        return self._database

    def stop(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    def kill(self) -> None:
        self.stop()


class ServiceClock(SharedExtension):
    """The service's clock (``Settings.clock``): events are recorded at its time."""

    pool = ServiceDatabase()
    _clock: Clock | None = None

    @property
    def clock(self) -> Clock:
        # Made on first use, not in start(): nameko starts extensions in
        # parallel, and a worker (a queued RPC call, a timer) may come first.
        if self._clock is None:
            settings = settings_of(self.container)
            self._clock = make_clock(settings.clock, settings.timezone, self.pool.database)
        return self._clock


class Config(DependencyProvider):
    """Declare as ``settings = Config()``: workers read the container's ``Settings``."""

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return settings_of(self.container)
