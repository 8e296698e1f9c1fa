"""PostgreSQL access shared by every service: a green-safe pool and migrations."""

from shared.db.database import Database, ensure_database
from shared.db.green import make_psycopg2_green

__all__ = ["Database", "ensure_database", "make_psycopg2_green"]
