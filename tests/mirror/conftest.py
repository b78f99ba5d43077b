"""Every mirror test runs on both engines: a SQLite file, and a real PostgreSQL server.

One PostgreSQL server (``tests/pgserver.py``) starts for the session, at the first test that
needs it, and stops at the end; each test gets a fresh database on it. With ``CI=true`` a
server that cannot start FAILS the tests that need it; elsewhere they skip, saying why.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.mirror import Mirror
from tests.conftest import SYNCS, TOKEN
from tests.pgserver import PostgresServer, start_for_tests

CONSUMER = "mirror-consumer"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started at first use, stopped at the end)."""
    server = start_for_tests()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mirror.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"mirror_test_{next(_numbers)}")


@pytest.fixture
def client(emulator: Emulator) -> Iterator[sequin_orm.Client]:
    """A client on the emulator (in-process transport)."""
    with sequin_orm.Client(
        TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport()
    ) as in_process:
        yield in_process


@pytest.fixture
def consumer_id(emulator: Emulator) -> str:
    """An HTTP consumer of Salesforce contacts on the emulator."""
    emulator.create_consumer(
        id=CONSUMER, ack_wait_ms=60_000, filters={"collection_id": "salesforce:contact"}
    )
    return CONSUMER


@pytest.fixture
def mirror(database_url: str, client: sequin_orm.Client, consumer_id: str) -> Iterator[Mirror]:
    """A mirror on a fresh database, fed by ``consumer_id`` through ``client``."""
    built = Mirror(database_url, consumer_id=consumer_id, client=client)
    yield built
    built.close()
