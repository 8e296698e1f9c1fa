"""What every service runs on, so that the six services are thin and alike.

The container core, which nameko assembles for each service:

- ``service.ServiceBase``: the base class of every service's entrypoint, with the
  standard dependencies and operations;
- ``resources``: what a container shares (settings, pool, clock);
- ``storage``: each worker's unit of work; ``projector``: read models kept up to date;
- ``periodic``: timers whose interval is a setting; ``operations``: health and metrics.

And its wings: ``messaging/`` (RPC, events in and out), ``process/`` (starting
services and the platform), ``observability/`` (metrics, logs).

Import ``shared.runtime.process.bootstrap`` and call ``green()`` before anything
else in a process that runs services.
"""
