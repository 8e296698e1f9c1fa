"""The talent service's use cases: each takes a request and a unit of work.

- ``records``: talent records, kept by the department and by cadre's,
  training's and grassroots' events; evaluations; departures and returns;
- ``programs``: talent programs from launch to notice to incentive;
- ``objections``: supervision's cases on a program's notice, held against the selection;
- ``platforms``: platforms and the catalogue of talent needs.
"""
