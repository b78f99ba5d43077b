"""Shared fixtures: the emulator, clients on it (in-process and over loopback HTTP).

Every test starts without a default client or a current session.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpcore  # noqa: F401  (see below)
import pytest

import sequin_orm
from sequin_orm.client import reset_default_client
from sequin_orm.emulator import Emulator

# httpx imports httpcore at its first connection, and pytester unloads every module imported
# during a test that uses it: a test that opened the first connection there would leave httpx
# mapping the exceptions of an httpcore that is gone (a later test would see
# httpcore.ConnectError where httpx.ConnectError belongs). Imported here, before any test runs.

TOKEN = "test-token-3f9a"
SYNCS = {"salesforce": "sync-sf", "stripe": "sync-st", "hubspot": "sync-hs"}
COLLECTIONS = {
    "salesforce": ["salesforce:contact", "salesforce:account", "salesforce:task"],
    "stripe": ["stripe:customer"],
    "hubspot": ["hubspot:contact"],
}


@pytest.fixture(autouse=True)
def _no_default_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SEQUIN_API_TOKEN", "SEQUIN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_default_client()
    yield
    reset_default_client()


@pytest.fixture
def emulator() -> Emulator:
    """An emulator with one sync per main provider (ids in ``SYNCS``)."""
    emu = Emulator(token=TOKEN)
    for provider, sync_id in SYNCS.items():
        emu.create_sync(provider, COLLECTIONS[provider], id=sync_id)
    return emu


@pytest.fixture(params=["in-process", "loopback-http"])
def client(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[sequin_orm.Client]:
    """A client on the emulator: through its transport, and through a real HTTP server."""
    if request.param == "in-process":
        with sequin_orm.Client(
            TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport()
        ) as in_process:
            yield in_process
        return
    with emulator.serve() as url, sequin_orm.Client(TOKEN, url, syncs=SYNCS) as over_http:
        yield over_http
