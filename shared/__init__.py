"""The platform library every service imports.

- ``shared.eventstore``: the append-only event store (one schema per service).
- ``shared.domain``: aggregates, event schemas, repositories, snapshots.
- ``shared.db``: the green PostgreSQL pool and the migrations.
- ``shared.runtime``: what a nameko service runs on (RPC, relay, inbox, projections,
  health, metrics, the launcher).
- ``shared.errors``: the errors every caller can catch by type.
"""

import warnings as _warnings

# nameko 2 runs on eventlet, which warns at import that it is in maintenance
# mode; every entry point of the platform imports it, so say it once here.
_warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
