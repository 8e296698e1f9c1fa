"""Messages between services and their callers: RPC in, events out and in.

- ``rpc``: RPC methods that validate requests and replies, errors as data;
- ``client``: calling the services, always with a timeout;
- ``topology``: the exchanges, queues and bindings events travel on;
- ``relay`` and ``publisher``: a service's events from its store to RabbitMQ;
- ``inbound`` and ``inbox``: other services' events, once in effect, in stream order.
"""
