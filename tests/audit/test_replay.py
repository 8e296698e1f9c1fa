"""A replay beside the live projection borrows a pooled connection: it must give it back as it found it."""

from __future__ import annotations

from shared.audit.replay import replay_projection
from shared.db.database import Database, fetch_one
from shared.projections import Projection
from tests.support.tickets import registry


class Nothing(Projection):
    name = "nothing"
    tables = ()


def test_a_replay_leaves_its_connection_at_the_server_default_isolation(database: Database, schema: str) -> None:
    replay_projection(database, schema, Nothing(), registry)
    with database.connection() as conn, conn.cursor() as cur:  # the pool gives back the connection just returned
        cur.execute("SHOW transaction_isolation")
        assert fetch_one(cur)[0] == "read committed"
        conn.rollback()
