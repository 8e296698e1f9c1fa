"""`make bench`: the platform measured against raw PostgreSQL, plain nameko and the
eventsourcing library, in the same run (see docs/BENCHMARKS.md)."""
