"""The ``sequin_orm`` logger: silent by default (``NullHandler``), on with ``SEQUIN_LOG``; one
line per mutation naming kind, collection and count (no data, no token); ``event_hooks``."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import Session
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce

TOKEN = "tok-log-77cd"


@pytest.fixture
def emu() -> Emulator:
    return Emulator(TOKEN, seed="demo")


@pytest.fixture
def client(emu: Emulator) -> Iterator[sequin_orm.Client]:
    syncs = {"salesforce": emu.seeded["salesforce_sync"]}
    with sequin_orm.Client(TOKEN, "http://127.0.0.1", syncs=syncs, transport=emu.transport()) as c:
        yield c


def test_the_logger_has_a_null_handler() -> None:
    import sequin_orm.http  # noqa: F401  (the module that owns the logger)

    handlers = logging.getLogger("sequin_orm").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_each_mutation_logs_kind_collection_and_count(
    client: sequin_orm.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sequin_orm")
    contacts = [salesforce.Contact(LastName=f"Secret-surname-{i}") for i in range(3)]
    with Session(client):
        for contact in contacts:
            contact.save()
    with Session(client):
        contacts[0].delete()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mutation")]
    assert lines == [
        "mutation create salesforce:contact, 3 records",
        "mutation delete salesforce:contact, 1 record",
    ]
    assert "Secret-surname" not in caplog.text and TOKEN not in caplog.text


def test_run_mutation_logs_too(client: sequin_orm.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sequin_orm")
    client.run_mutation(
        {
            "kind": "create",
            "sync_id": client.default_syncs["salesforce"],
            "collection_id": "salesforce:contact",
            "records": [{"data": {"LastName": "Hidden"}}],
        }
    )
    assert "mutation create salesforce:contact, 1 record" in caplog.text
    assert "Hidden" not in caplog.text


def test_the_caller_can_label_a_mutation(
    client: sequin_orm.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sequin_orm")
    with pytest.raises(sequin_orm.errors.APIError):
        client.requestor.send_mutation_once(b"{}", label="update salesforce:task, 9 records")
    assert "mutation update salesforce:task, 9 records" in caplog.text


@pytest.mark.parametrize("level", ["debug", "info"])
def test_sequin_log_turns_on_a_stderr_handler(level: str) -> None:
    script = (
        "import sequin_orm\n"
        "from sequin_orm.emulator import Emulator\n"
        "emu = Emulator('t', seed='demo')\n"
        "c = sequin_orm.Client('t', 'http://127.0.0.1', transport=emu.transport())\n"
        "c.run_mutation({'kind': 'create', 'sync_id': emu.seeded['salesforce_sync'],"
        " 'collection_id': 'salesforce:contact',"
        " 'records': [{'data': {'LastName': 'A'}}, {'data': {'LastName': 'B'}}]})\n"
    )
    env = {"SEQUIN_LOG": level, "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert "mutation create salesforce:contact, 2 records" in done.stderr
    assert ("-> 200" in done.stderr) == (level == "debug")
    silent = subprocess.run(
        [sys.executable, "-c", script], env={"PATH": ""}, capture_output=True, text=True
    )
    assert silent.stderr == ""


def test_a_bad_sequin_log_value_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUIN_LOG", "loud")
    with pytest.warns(UserWarning, match="SEQUIN_LOG"):
        sequin_orm.Client(TOKEN, "http://127.0.0.1").close()


def test_event_hooks_reach_httpx(emu: Emulator) -> None:
    seen: list[Any] = []

    def on_request(request: httpx.Request) -> None:
        seen.append(("request", request.method, request.url.path))

    def on_response(response: httpx.Response) -> None:
        seen.append(("response", response.status_code))

    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [on_request],
        "response": [on_response],
    }
    with emu.serve() as url, sequin_orm.Client(TOKEN, url, event_hooks=hooks) as client:
        client.streams.list()
    assert seen == [("request", "GET", "/v1/streams"), ("response", 200)]
    default = sequin_orm.configure(
        TOKEN, "http://127.0.0.1", transport=emu.transport(), event_hooks=hooks
    )
    default.streams.list()
    assert len(seen) == 4


def test_the_default_async_client_awaits_sync_and_async_hooks(emu: Emulator) -> None:
    seen: list[str] = []

    def sync_hook(request: httpx.Request) -> None:
        seen.append(f"sync {request.url.path}")

    async def async_hook(response: httpx.Response) -> None:
        seen.append(f"async {response.status_code}")

    hooks = {"request": [sync_hook], "response": [async_hook]}
    sequin_orm.configure(TOKEN, "http://127.0.0.1", transport=emu.transport(), event_hooks=hooks)

    async def list_streams() -> None:
        await sequin_orm.get_async_client().streams.list()

    asyncio.run(list_streams())
    assert seen == ["sync /v1/streams", "async 200"]
