"""What every service runs on, so that the six services are thin and alike.

- ``service.ServiceBase``: the base class of every service, with the standard
  dependencies (storage, relay, projector, operations) and RPC methods.
- ``rpc.rpc_method``: an RPC entrypoint that validates arguments and results.
- ``inbound.handles``: take another service's event once in effect, in stream order.
- ``relay.OutboxRelay``: publish the service's own events from its store.
- ``projections``: read models, checkpointed with their rows, rebuildable.
- ``operations``: health and metrics servers; ``metrics``: the one registry.
- ``launcher``: run one service; ``platform``: run or migrate them all.

Import ``shared.runtime.bootstrap`` and call ``green()`` before anything else
in a process that runs services.
"""
