"""The gateway: the platform's HTTP door, a process of its own (``python -m services.gateway``).

It is not a domain service: it stores nothing and has no domain. It serves
the public's few operations without an account, and every command and query
of every service to staff holding a bearer token; it checks who is calling
and whether the roles table lets them, limits how often a client address may
call, and calls the services over RPC as that caller. Routes, the OpenAPI
document and the ``/docs`` page all come from one route table.

Modules, one job each: ``routes`` (the table), ``tokens`` (bearer tokens),
``ratelimit``, ``body`` (reading a request), ``problems`` (errors as RFC 9457
documents), ``rpc_pool`` (calling the services), ``openapi`` and ``docs``
(describing the table), ``audit`` (the verifier and key it serves itself,
and "not yet covered"), ``health``, ``app`` (the WSGI application),
``client`` (calling the gateway over HTTP, for the demo and the tests).
"""
