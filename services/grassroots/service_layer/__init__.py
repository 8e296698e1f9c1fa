"""The grassroots service's use cases: each takes a request and a unit of work.

No nameko and no database here: the entrypoint calls these with the
PostgreSQL unit of work, the unit tests with the in-memory one.

- ``organisations``: the tree of party organisations and their members;
- ``elections``: branch elections by public nomination and direct election;
- ``development``: a person's way from applicant to full member, with its gates;
- ``objections``: supervision's cases on grassroots' notices, held against the decision they concern;
- ``cultivation``: dual cultivation pairings;
- ``ratings``: the yearly branch rating, and weak branches;
- ``affairs``: branch affairs made public, and the deadline check.
"""
