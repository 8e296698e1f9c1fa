"""The cadre service's use cases: each takes a request and a unit of work.

No nameko and no database here: the entrypoint calls these with the
PostgreSQL unit of work, the unit tests with the in-memory one.

- ``selection``: a selection process, step by step, and what supervision's outcomes do to it;
- ``records``: cadre records, and the training credits training reports;
- ``appraisal``: appraisal cycles, whose grades reach the records.
"""
