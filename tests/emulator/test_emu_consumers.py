"""HTTP consumers: management, next/ack/nack, redelivery, limits, filters, policies."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import CONSUMER_KEYS


@pytest.fixture
def sync(emu: Emulator) -> dict[str, Any]:
    """A Salesforce sync for contacts and accounts."""
    return emu.create_sync("salesforce", ["salesforce:contact", "salesforce:account"], id="sf")


def add(emu: Emulator, n: int = 1, collection: str = "salesforce:contact") -> list[str]:
    """Insert ``n`` records; their upstream ids."""
    return [
        emu.create_record("sf", collection, {"LastName": f"L{i}"})["upstream_id"] for i in range(n)
    ]


def next_batch(client: httpx.Client, consumer_id: str, **params: Any) -> dict[str, Any]:
    response = client.post(f"/v1/http-consumers/{consumer_id}/next", json=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"data", "info"}
    assert set(body["info"]) == {"num_pending", "num_ack_pending"}
    return body


def ack(client: httpx.Client, consumer_id: str, tokens: list[str], verb: str = "ack") -> None:
    response = client.post(f"/v1/http-consumers/{consumer_id}/{verb}", json={"ack_tokens": tokens})
    assert response.status_code == 204 and response.content == b""


def upstream_ids(batch: dict[str, Any]) -> list[str]:
    return [m["record"]["upstream_id"] for m in batch["data"]]


def tokens(batch: dict[str, Any]) -> list[str]:
    return [m["ack_token"] for m in batch["data"]]


def test_consumer_management(client: httpx.Client, emu: Emulator, sync: dict[str, Any]) -> None:
    stream_id = sync["stream_id"]
    created = client.post(
        "/v1/http-consumers", json={"stream_id": stream_id, "name": "c1", "metadata": {"team": "a"}}
    )
    assert created.status_code == 200
    consumer = created.json()
    assert set(consumer) == CONSUMER_KEYS
    assert (consumer["deliver_policy"], consumer["ack_wait_ms"]) == ("all", 30000)
    assert (consumer["max_deliver"], consumer["max_ack_pending"]) == (-1, 1000)
    assert consumer["filters"] == {"collection_id": "*", "sync_id": "*", "provider": "*"}
    cid = consumer["id"]
    assert client.get(f"/v1/http-consumers/{cid}").json() == consumer
    other = emu.create_consumer(stream_id, name="c2")
    listed = client.get("/v1/http-consumers").json()["data"]
    assert [c["id"] for c in listed] == [cid, other["id"]]
    by_meta = client.get("/v1/http-consumers", params={"metadata": '{"team": "a"}'}).json()
    assert [c["id"] for c in by_meta["data"]] == [cid]
    patch = {
        "deliver_policy": "new",
        "ack_wait_ms": 500,
        "max_deliver": 3,
        "max_ack_pending": 10,
        "name": "renamed",
        "metadata": {"team": "b"},
    }
    patched = client.patch(f"/v1/http-consumers/{cid}", json=patch).json()
    assert {k: patched[k] for k in patch} == patch
    for field in ("stream_id", "filters"):
        response = client.patch(f"/v1/http-consumers/{cid}", json={field: "x"})
        assert response.status_code == 422 and field in response.json()["validation_errors"]
    assert client.delete(f"/v1/http-consumers/{cid}").json()["id"] == cid
    assert client.get(f"/v1/http-consumers/{cid}").status_code == 404
    assert client.post(f"/v1/http-consumers/{cid}/next").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"stream_id": "nope"},
        {"deliver_policy": "sometimes"},
        {"ack_wait_ms": 0},
        {"max_deliver": 0},
        {"max_ack_pending": "x"},
        {"filters": {"upstream_id": "*"}},
        {"filters": {"provider": 1}},
    ],
)
def test_consumer_validation(client: httpx.Client, sync: dict[str, Any], body: Any) -> None:
    payload = {"stream_id": sync["stream_id"], **body} if body else body
    response = client.post("/v1/http-consumers", json=payload)
    assert response.status_code == 422 and response.json()["summary"] == "Validation failed"


def test_next_and_ack(client: httpx.Client, emu: Emulator, sync: dict[str, Any]) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    ids = add(emu, 3)
    first = next_batch(client, cid, batch_size=2)
    assert upstream_ids(first) == ids[:2] and first["info"]["num_pending"] == 1
    record = first["data"][0]["record"]
    assert record["sync_id"] == "sf" and record["sync"]["id"] == "sf"
    ack(client, cid, tokens(first))
    second = client.get(f"/v1/http-consumers/{cid}/next", params={"batch_size": "5"}).json()
    assert upstream_ids(second) == ids[2:] and second["info"]["num_pending"] == 0
    ack(client, cid, [*tokens(second), "unknown-token"])
    assert next_batch(client, cid)["data"] == []


def test_redelivery_after_ack_wait(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"], ack_wait_ms=50)["id"]
    [uid] = add(emu)
    first = next_batch(client, cid)
    assert upstream_ids(first) == [uid]
    assert next_batch(client, cid)["data"] == []
    time.sleep(0.07)
    again = next_batch(client, cid)
    assert upstream_ids(again) == [uid] and tokens(again) != tokens(first)
    ack(client, cid, tokens(first))  # stale token: ignored
    time.sleep(0.07)
    third = next_batch(client, cid)
    assert upstream_ids(third) == [uid]
    ack(client, cid, tokens(third))
    time.sleep(0.07)
    assert next_batch(client, cid)["data"] == []


def test_late_ack_before_redelivery_counts(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"], ack_wait_ms=50)["id"]
    add(emu)
    first = next_batch(client, cid)
    time.sleep(0.08)
    ack(client, cid, tokens(first))
    assert next_batch(client, cid)["data"] == []


def test_nack_redelivers_at_once(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    [uid] = add(emu)
    first = next_batch(client, cid)
    ack(client, cid, tokens(first), verb="nack")
    assert upstream_ids(next_batch(client, cid)) == [uid]


def test_max_deliver(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"], ack_wait_ms=50, max_deliver=2)["id"]
    add(emu)
    for _ in range(2):
        assert len(next_batch(client, cid)["data"]) == 1
        time.sleep(0.07)
    final = next_batch(client, cid)
    assert final["data"] == [] and final["info"]["num_pending"] == 0


def test_max_ack_pending_pauses_delivery(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"], max_ack_pending=2)["id"]
    ids = add(emu, 3)
    first = next_batch(client, cid, batch_size=10)
    assert upstream_ids(first) == ids[:2]
    paused = next_batch(client, cid, batch_size=10)
    assert paused["data"] == [] and paused["info"]["num_pending"] == 1
    ack(client, cid, tokens(first)[:1])
    assert upstream_ids(next_batch(client, cid, batch_size=10)) == ids[2:]


def test_long_poll_wakes_on_new_records(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    timer = threading.Timer(0.05, add, args=(emu, 2))
    timer.start()
    started = time.monotonic()
    batch = next_batch(client, cid, batch_size=2, wait_for=3000)
    timer.join()
    assert len(batch["data"]) == 2 and time.monotonic() - started < 1.5


def test_long_poll_returns_what_it_has_at_the_deadline(
    client: httpx.Client, emu: Emulator, sync: Any
) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    add(emu)
    started = time.monotonic()
    batch = next_batch(client, cid, batch_size=5, wait_for=100)
    assert len(batch["data"]) == 1 and 0.09 <= time.monotonic() - started < 1


def test_long_poll_sees_redelivery(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"], ack_wait_ms=80)["id"]
    add(emu)
    next_batch(client, cid)
    started = time.monotonic()
    assert len(next_batch(client, cid, wait_for=2000)["data"]) == 1
    assert time.monotonic() - started < 1


def test_next_parameters(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    for params in ({"batch_size": 0}, {"batch_size": "x"}, {"wait_for": -1}):
        response = client.post(f"/v1/http-consumers/{cid}/next", json=params)
        assert response.status_code == 422
    assert (
        client.get(f"/v1/http-consumers/{cid}/next", params={"wait_for": "-5"}).status_code == 422
    )
    bad_ack = client.post(f"/v1/http-consumers/{cid}/ack", json={"ack_tokens": "t"})
    assert bad_ack.status_code == 422


def test_filters(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    contacts = emu.create_consumer(
        sync["stream_id"], filters={"collection_id": "salesforce:contact"}
    )
    wildcard = emu.create_consumer(
        sync["stream_id"], filters={"provider": "sales*", "sync_id": "sf"}
    )
    elsewhere = emu.create_consumer(sync["stream_id"], filters={"sync_id": "other"})
    contact_ids = add(emu, 1)
    account_ids = add(emu, 1, "salesforce:account")
    assert upstream_ids(next_batch(client, contacts["id"], batch_size=10)) == contact_ids
    both = next_batch(client, wildcard["id"], batch_size=10)
    assert upstream_ids(both) == contact_ids + account_ids
    assert next_batch(client, elsewhere["id"], batch_size=10)["data"] == []


def test_consumers_only_see_their_stream(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    other_stream = emu.create_stream("other")["id"]
    cid = emu.create_consumer(other_stream)["id"]
    add(emu)
    assert next_batch(client, cid)["data"] == []


def test_deliver_policies(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    ids = add(emu, 3)
    stream_id = sync["stream_id"]
    every = emu.create_consumer(stream_id, deliver_policy="all")["id"]
    new = emu.create_consumer(stream_id, deliver_policy="new")["id"]
    last = emu.create_consumer(stream_id, deliver_policy="last")["id"]
    assert upstream_ids(next_batch(client, every, batch_size=10)) == ids
    assert upstream_ids(next_batch(client, last, batch_size=10)) == ids[-1:]
    assert next_batch(client, new, batch_size=10)["data"] == []
    later = add(emu)
    assert upstream_ids(next_batch(client, new, batch_size=10)) == later
    client.patch(f"/v1/http-consumers/{new}", json={"deliver_policy": "all"})
    assert upstream_ids(next_batch(client, new, batch_size=10)) == ids + later


def test_queued_versions_are_superseded(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    cid = emu.create_consumer(sync["stream_id"])["id"]
    [uid] = add(emu)
    body = {
        "kind": "update",
        "sync_id": "sf",
        "collection_id": "salesforce:contact",
        "records": [{"upstream_id": uid, "data": {"Title": "Duke"}}],
    }
    assert client.post("/v1/mutations/run", json=body).status_code == 200
    batch = next_batch(client, cid, batch_size=10)
    assert [m["record"]["data"].get("Title") for m in batch["data"]] == ["Duke"]
