"""The library reproduces every request body of the Mutation API docs (../shared/seeds).

Replayed from vcrpy cassettes in ``cassettes/core/`` (matched on method, URI and JSON body;
token scrubbed). The cassettes were recorded from the emulator over real HTTP; re-record with
``pytest --record-mode=rewrite tests/core/test_seed_requests.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sequin_orm
from sequin_orm import Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import AwaitConsumersTimeoutError
from sequin_orm.models import salesforce
from sequin_orm.testing import sequin_vcr_config

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "core"
DOCS_URL = "https://api.sequin.io"
TOKEN = "seed-token-7c1d"
SYNC = "my-sync-id"
PAUL = {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}
DUNCAN = {"FirstName": "Duncan", "LastName": "Idaho", "Email": "duncan@arrakis.org"}
IDS = ["0031U00000Qn2ZVQAZ", "0031U00000Qn2ZVQBA"]


@pytest.fixture
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return sequin_vcr_config(record_as=DOCS_URL)


@pytest.fixture
def seed_client(vcr: Any) -> Iterator[sequin_orm.Client]:
    """Replays need no server; recording runs the emulator with the seeds' ids."""
    if len(vcr.data) > 0:
        with sequin_orm.Client(TOKEN, DOCS_URL, syncs={"salesforce": SYNC}) as replaying:
            yield replaying
        return
    emulator = Emulator(token=TOKEN)
    emulator.create_sync("salesforce", ["salesforce:contact"], id=SYNC)
    emulator.create_consumer(id="my-consumer-id")
    for upstream_id in IDS:
        emulator.create_record(
            SYNC, "salesforce:contact", {"LastName": "X"}, upstream_id=upstream_id
        )
    with emulator.serve() as url, sequin_orm.Client(TOKEN, url) as recording:
        yield recording


def _sent(vcr: Any) -> list[dict[str, Any]]:
    import json

    return [json.loads(r.body) for r in vcr.requests]


def _loaded(upstream_id: str) -> salesforce.Contact:
    return salesforce.Contact.from_record(
        {"upstream_id": upstream_id, "sync_id": SYNC, "data": {"LastName": "X"}}
    )


@pytest.mark.vcr
def test_create_a_single_record(seed_client: sequin_orm.Client, vcr: Any) -> None:
    contact = salesforce.Contact(**PAUL)
    with Session(seed_client, sync_id=SYNC):
        contact.save()
    assert _sent(vcr) == [
        {
            "kind": "create",
            "sync_id": SYNC,
            "collection_id": "salesforce:contact",
            "records": [{"data": PAUL}],
        }
    ]
    assert contact.state is State.PERSISTENT and contact.upstream_id
    assert contact.upstream_id.startswith("003") and len(contact.upstream_id) == 18


@pytest.mark.vcr
def test_create_multiple_records(seed_client: sequin_orm.Client, vcr: Any) -> None:
    paul, duncan = salesforce.Contact(**PAUL), salesforce.Contact(**DUNCAN)
    with Session(seed_client, sync_id=SYNC):
        paul.save()
        duncan.save()
    assert _sent(vcr) == [
        {
            "kind": "create",
            "sync_id": SYNC,
            "collection_id": "salesforce:contact",
            "records": [{"data": PAUL}, {"data": DUNCAN}],
        }
    ]
    assert paul.upstream_id != duncan.upstream_id
    assert (paul.Email, duncan.Email) == (PAUL["Email"], DUNCAN["Email"])


@pytest.mark.vcr
def test_update_sends_the_partial_record(seed_client: sequin_orm.Client, vcr: Any) -> None:
    contact = _loaded(IDS[0])
    with Session(seed_client):
        contact.FirstName, contact.LastName, contact.Email = PAUL.values()
        contact.save()
    assert _sent(vcr) == [
        {
            "kind": "update",
            "sync_id": SYNC,
            "collection_id": "salesforce:contact",
            "records": [{"upstream_id": IDS[0], "data": PAUL}],
        }
    ]
    assert not contact.is_dirty and contact.Email == PAUL["Email"]


@pytest.mark.vcr
def test_delete_a_single_record(seed_client: sequin_orm.Client, vcr: Any) -> None:
    contact = _loaded(IDS[0])
    with Session(seed_client):
        contact.delete()
    assert _sent(vcr) == [
        {
            "kind": "delete",
            "sync_id": SYNC,
            "collection_id": "salesforce:contact",
            "upstream_ids": [IDS[0]],
        }
    ]
    assert contact.deleted is True


@pytest.mark.vcr
def test_delete_multiple_records(seed_client: sequin_orm.Client, vcr: Any) -> None:
    contacts = [_loaded(upstream_id) for upstream_id in IDS]
    with Session(seed_client):
        for contact in contacts:
            contact.delete()
    assert _sent(vcr) == [
        {
            "kind": "delete",
            "sync_id": SYNC,
            "collection_id": "salesforce:contact",
            "upstream_ids": IDS,
        }
    ]
    assert all(c.deleted for c in contacts)


@pytest.mark.vcr
def test_await_consumers_timeout_is_the_documented_500(
    seed_client: sequin_orm.Client, vcr: Any
) -> None:
    contact = salesforce.Contact(**PAUL)
    session = Session(seed_client, sync_id=SYNC)
    session.add(contact, await_consumer_ids=["my-consumer-id"], await_consumers_timeout=50)
    result = session.flush()
    assert _sent(vcr)[0]["await_consumer_ids"] == ["my-consumer-id"]
    assert _sent(vcr)[0]["await_consumers_timeout"] == 50
    error = result.errors[0]
    assert isinstance(error, AwaitConsumersTimeoutError)
    assert error.message == "Error: Timed out waiting for consumers: my-consumer-id"
    assert result.unknown == [contact] and contact.is_unknown  # applied, but never re-sent


def test_cassettes_hold_no_token() -> None:
    text = "".join(p.read_text() for p in CASSETTES.glob("*.yaml"))
    assert "REDACTED" in text and TOKEN not in text
