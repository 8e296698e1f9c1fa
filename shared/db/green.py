"""Keep psycopg2 from blocking the eventlet hub.

psycopg2 talks to PostgreSQL from C; without a wait callback a query blocks the
whole process, every greenthread included: one slow query would stall every
worker and the AMQP heartbeats with them. psycogreen installs the callback that
hands the wait to the eventlet hub instead.
"""

from __future__ import annotations

import psycopg2.extensions


def make_psycopg2_green() -> None:
    """Install the eventlet wait callback (idempotent).

    Call it right after ``eventlet.monkey_patch()``, before the first
    connection: the service launcher and the tests' conftest both do.
    """
    from psycogreen.eventlet import patch_psycopg

    if psycopg2.extensions.get_wait_callback() is None:
        patch_psycopg()


def is_green() -> bool:
    """True when psycopg2 yields to the hub while it waits."""
    return psycopg2.extensions.get_wait_callback() is not None
