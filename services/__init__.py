"""The platform's services, one package each, laid out the same way:

services/<name>/
  domain/        the aggregates and their events: plain Python, no I/O
  messages.py    RPC requests and replies (dataclasses, validated)
  projections.py read models, and migrations/ for their tables
  inbound.py     other services' events this one handles, and their payloads
  service.py     the nameko service: thin RPC methods and handlers
"""
