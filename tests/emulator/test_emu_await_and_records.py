"""Awaiting consumers on mutations, and paging the records stream."""

from __future__ import annotations

import base64
import threading
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import MutationFn, error_of, in_process


@pytest.fixture
def sync(emu: Emulator) -> dict[str, Any]:
    """A Salesforce sync for contacts and accounts."""
    return emu.create_sync("salesforce", ["salesforce:contact", "salesforce:account"], id="sf")


def contacts(n: int) -> list[dict[str, Any]]:
    return [{"data": {"LastName": f"L{i}"}} for i in range(n)]


class Acker:
    """A worker thread that reads a consumer and acks everything it gets."""

    def __init__(self, emu: Emulator, consumer_id: str) -> None:
        self.seen: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._client = in_process(emu)
        self._path = f"/v1/http-consumers/{consumer_id}"
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Acker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._client.post(f"{self._path}/next", json={"batch_size": 10, "wait_for": 50})
            messages = batch.json()["data"]
            self.seen += [(m["record"]["id"], m["record"]["updated_idx"]) for m in messages]
            if messages:
                tokens = [m["ack_token"] for m in messages]
                self._client.post(f"{self._path}/ack", json={"ack_tokens": tokens})


@pytest.fixture
def consumer(emu: Emulator, sync: dict[str, Any]) -> str:
    """A consumer of the sync's stream (deliver policy ``new``)."""
    return str(emu.create_consumer(sync["stream_id"], deliver_policy="new")["id"])


def test_await_succeeds_once_acked(emu: Emulator, mutate: MutationFn, consumer: str) -> None:
    with Acker(emu, consumer) as acker:
        response = mutate(
            "create",
            "sf",
            "salesforce:contact",
            records=contacts(3),
            await_consumer_ids=[consumer],
            await_consumers_timeout=5000,
        )
        assert response.status_code == 200
        records = response.json()["records"]
        assert {(r["id"], r["updated_idx"]) for r in records} <= set(acker.seen)
        update = [{"upstream_id": records[0]["upstream_id"], "data": {"Title": "x"}}]
        updated = mutate(
            "update", "sf", "salesforce:contact", records=update, await_consumer_ids=[consumer]
        )
        assert updated.status_code == 200
        new_version = updated.json()["records"][0]
        assert (new_version["id"], new_version["updated_idx"]) in acker.seen


def test_await_timeout_is_500_and_applied(emu: Emulator, mutate: MutationFn, consumer: str) -> None:
    response = mutate(
        "create",
        "sf",
        "salesforce:contact",
        records=contacts(1),
        await_consumer_ids=[consumer],
        await_consumers_timeout=100,
    )
    assert response.status_code == 500
    assert error_of(response) == f"Error: Timed out waiting for consumers: {consumer}"
    assert len(emu.records()) == 1


def test_await_unknown_consumer_is_400(emu: Emulator, mutate: MutationFn, sync: Any) -> None:
    response = mutate(
        "create", "sf", "salesforce:contact", records=contacts(1), await_consumer_ids=["nope"]
    )
    assert response.status_code == 400 and error_of(response) == "Error: Consumer not found: nope"
    assert emu.records() == []


def test_await_ignores_consumers_that_do_not_match(emu: Emulator, mutate: MutationFn) -> None:
    emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    cid = emu.create_consumer(filters={"collection_id": "salesforce:account"})["id"]
    response = mutate(
        "create",
        "sf",
        "salesforce:contact",
        records=contacts(1),
        await_consumer_ids=[cid],
        await_consumers_timeout=5000,
    )
    assert response.status_code == 200


def test_records_paging(client: httpx.Client, emu: Emulator, mutate: MutationFn, sync: Any) -> None:
    created = mutate("create", "sf", "salesforce:contact", records=contacts(5)).json()["records"]
    first = client.get("/v1/records", params={"limit": 2}).json()
    assert set(first) == {"records", "cursor"}
    assert [r["id"] for r in first["records"]] == [r["id"] for r in created[:2]]
    assert base64.urlsafe_b64decode(first["cursor"]).decode() == str(created[1]["updated_idx"])
    rest = client.get("/v1/records", params={"after_cursor": first["cursor"]}).json()
    assert [r["id"] for r in rest["records"]] == [r["id"] for r in created[2:]]
    caught_up = client.get("/v1/records", params={"after_cursor": rest["cursor"]}).json()
    assert caught_up == {"records": [], "cursor": rest["cursor"]}
    assert client.get("/v1/records").json()["records"] == emu.records()
    moved = mutate("delete", "sf", "salesforce:contact", upstream_ids=[created[0]["upstream_id"]])
    after = client.get("/v1/records", params={"after_cursor": rest["cursor"]}).json()["records"]
    assert after == moved.json()["records"] and after[0]["deleted"] is True
    assert len(client.get("/v1/records").json()["records"]) == 5


def test_records_filters_and_limits(client: httpx.Client, emu: Emulator, sync: Any) -> None:
    emu.create_sync("stripe", ["stripe:customer"], id="st")
    emu.create_record("sf", "salesforce:contact", {"LastName": "A"})
    emu.create_record("sf", "salesforce:account", {"Name": "B"})
    emu.create_record("st", "stripe:customer", {"email": "c@d.ef"})
    count = lambda **q: len(client.get("/v1/records", params=q).json()["records"])  # noqa: E731
    assert count() == 3
    assert count(sync_id="sf") == 2 and count(provider="stripe") == 1
    assert (
        count(collection_id="salesforce:account") == 1 and count(collection="stripe:customer") == 1
    )
    assert count(limit=5000) == 3
    empty = client.get("/v1/records", params={"sync_id": "none"}).json()
    assert empty == {"records": [], "cursor": None}
    for params in ({"limit": 0}, {"limit": "x"}, {"after_cursor": "!!!"}):
        assert client.get("/v1/records", params=params).status_code == 422
