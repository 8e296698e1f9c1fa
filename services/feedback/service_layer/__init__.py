"""The feedback service's use cases: each takes a request and a unit of work.

No nameko and no database here: the entrypoint calls these with the
PostgreSQL unit of work, the unit tests with the in-memory one.
"""
