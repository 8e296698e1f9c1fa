"""The platform's services, one package each, laid out the same way (docs/ARCHITECTURE.md):

services/<name>/
  domain/          aggregates and their events: plain Python, no I/O
  messages.py      RPC requests: commands (actor, reason) and queries, validated
  views.py         what commands answer, and the mappers from aggregates
  inbound.py       other services' events this one handles, as it reads them
  service_layer/   use cases: fn(request, uow) -> view; no nameko, no psycopg2
  read_models/     projections, each with the queries that read it
  entrypoint.py    the nameko service: one line per RPC method, handler, timer
  migrations/      the read models' tables
"""
