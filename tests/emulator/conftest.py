"""Fixtures for the emulator's own tests: plain httpx against in-process and served emulators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import AUTH, MUTATE, TOKEN, MutationFn, in_process, mutation


@pytest.fixture
def emu() -> Emulator:
    """An empty emulator."""
    return Emulator(TOKEN)


@pytest.fixture
def demo() -> Emulator:
    """An emulator with the demo seed."""
    return Emulator(TOKEN, seed="demo")


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    """A client of ``emu`` over the in-process transport."""
    with in_process(emu) as c:
        yield c


@pytest.fixture
def demo_client(demo: Emulator) -> Iterator[httpx.Client]:
    """A client of ``demo`` over the in-process transport."""
    with in_process(demo) as c:
        yield c


@pytest.fixture(params=["transport", "server"])
def front_door(request: pytest.FixtureRequest, emu: Emulator) -> Iterator[httpx.Client]:
    """A client of ``emu`` through each front door (in-process transport, real HTTP server)."""
    if request.param == "transport":
        with in_process(emu) as c:
            yield c
        return
    with emu.serve() as url, httpx.Client(base_url=url, headers=AUTH, timeout=5) as c:
        yield c


@pytest.fixture
def sf_sync(emu: Emulator) -> dict[str, Any]:
    """A Salesforce sync on ``emu`` with the usual collections."""
    return emu.create_sync(
        "salesforce",
        ["salesforce:contact", "salesforce:account", "salesforce:lead", "salesforce:task"],
        id="sf-sync",
    )


@pytest.fixture
def mutate(client: httpx.Client) -> MutationFn:
    """``mutate(kind, sync_id, collection_id, **fields)`` posts one mutation."""

    def run(kind: str, sync_id: str, collection_id: str, **fields: Any) -> httpx.Response:
        return client.post(MUTATE, json=mutation(kind, sync_id, collection_id, **fields))

    return run
