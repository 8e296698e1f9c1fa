"""The append-only event store every service keeps its truth in.

``records`` and ``hashing`` are plain data and functions (the domain may use
them); the PostgreSQL side lives in ``store`` and ``snapshots`` and is imported
from there explicitly, so that importing a record type never pulls in a driver.
"""
