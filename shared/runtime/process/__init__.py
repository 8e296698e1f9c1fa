"""Processes: starting services, the whole platform, and what they need first.

- ``bootstrap``: make a process green before anything else is imported;
- ``launcher``: run one service; ``platform``: run or migrate them all;
- ``catalog``: where the services are; ``provisioning``: database, schema, queues;
- ``control``: start service processes and wait until they are ready;
- ``preflight``: what a process must have before it starts (production refuses without it);
- ``sandbox``: a database and a vhost of one's own, for tests and benchmarks.
"""
