from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.db.database import Database
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally, Totals
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, Processes, reset_apps, settings_for_tests

LEDGER = "tests.support.apps.ledger.service:Ledger"
TALLY = "tests.support.apps.tally.service:Tally"


@pytest.fixture
def apps(test_env: RunEnvironment, database: Database) -> None:
    """Fresh ledger and tally schemas and queues for each test."""
    reset_apps(database, settings_for_tests(), Ledger, Tally)
    Tally.refuse_unlucky = True
    Totals.refuse_beastly = True


@pytest.fixture
def in_process(apps: None) -> Iterator[InProcess]:
    runners = InProcess()
    yield runners
    runners.stop_all()


@pytest.fixture
def processes(apps: None) -> Iterator[Processes]:
    started = Processes()
    yield started
    started.stop_all()
