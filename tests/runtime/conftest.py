from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.db.database import Database
from shared.runtime.client import rpc_client
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.environment import TestEnvironment
from tests.support.platform import InProcess, Processes, reset_apps, test_settings

LEDGER = "tests.support.apps.ledger.service:Ledger"
TALLY = "tests.support.apps.tally.service:Tally"


@pytest.fixture
def apps(test_env: TestEnvironment, database: Database) -> None:
    """Fresh ledger and tally schemas and queues for each test."""
    reset_apps(database, test_settings(), Ledger, Tally)
    Tally.refuse_unlucky = True


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


@pytest.fixture
def rpc(test_env: TestEnvironment) -> Iterator[Any]:
    with rpc_client(timeout=15) as client:
        yield client
