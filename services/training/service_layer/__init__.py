"""The training service's use cases: each takes a request and a unit of work.

No nameko and no database here: the entrypoint calls these with the
PostgreSQL unit of work, the unit tests with the in-memory one. Where a use
case asks a read model (open programs, who is due), the question is a
parameter with the read model's query as its default, so a unit test can answer it.

- ``programs``: planned, scheduled, published (placing who awaits one), run, closed (crediting who completed);
- ``enrolments``: enrolled, self-selected, attendance and assessments, withdrawal, automatic placement;
- ``credits``: a completion credited to the learner's ledger, under the year's online share;
- ``learners``: ledgers from cadre's registrations and appointments and grassroots' designations; plans;
- ``requirements``: the department's yearly requirements, and the deadline check;
- ``suggestions``: the public's suggestions, received from feedback and answered.
"""
