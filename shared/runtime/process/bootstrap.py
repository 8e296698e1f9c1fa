"""Make a process green before anything else is imported.

``nameko run`` monkey-patches eventlet; so do our launcher and the tests'
conftest, through this one function, so that every process behaves the same.
"""

from __future__ import annotations

import warnings

_done = False


def green() -> None:
    """Monkey-patch eventlet and make psycopg2 yield to the hub (idempotent)."""
    global _done
    if _done:
        return
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from shared.db.green import make_psycopg2_green

    make_psycopg2_green()
    _done = True
