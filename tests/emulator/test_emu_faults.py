"""Fault injection through both front doors (in-process transport and a real HTTP server)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator, Fault
from tests.emulator.emu_helpers import MUTATE, error_of, mutation

CONTACT = {"data": {"LastName": "Atreides"}}


@pytest.fixture(autouse=True)
def sync(emu: Emulator) -> dict[str, Any]:
    """A Salesforce contact sync and a consumer on its stream."""
    return emu.create_sync("salesforce", ["salesforce:contact"], id="sf")


def create(client: httpx.Client, n: int = 1, **fields: Any) -> httpx.Response:
    body = mutation("create", "sf", "salesforce:contact", records=[CONTACT] * n, **fields)
    return client.post(MUTATE, json=body)


def test_429_with_retry_after(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(path=MUTATE, status=429, retry_after=2)
    response = create(front_door)
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert error_of(response) == "Error: Too many requests"
    assert emu.records() == []
    assert create(front_door).status_code == 200
    assert len(emu.mutation_requests("create")) == 2


def test_retry_after_alone_means_429(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(retry_after=0.5)
    response = front_door.get("/v1/syncs")
    assert response.status_code == 429 and response.headers["retry-after"] == "0.5"
    assert response.json() == {"summary": "You're requesting too many kittens! Slow down!"}


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "Error: Internal server error"),
        (502, "Error: Bad gateway"),
        (503, "Error: Service unavailable"),
        (504, "Error: Salesforce API timed out"),
    ],
)
def test_server_errors_on_mutations(
    front_door: httpx.Client, emu: Emulator, status: int, message: str
) -> None:
    emu.inject(kind="create", status=status)
    response = create(front_door)
    assert response.status_code == status and error_of(response) == message
    assert emu.records() == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_on_management(front_door: httpx.Client, emu: Emulator, status: int) -> None:
    emu.inject(path="/v1/syncs", method="GET", status=status)
    assert front_door.post("/v1/streams", json={"slug": "x"}).status_code == 200
    response = front_door.get("/v1/syncs")
    assert response.status_code == status and set(response.json()) == {"summary"}


def test_injected_validation_error(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(kind="create", error="Invalid email")
    response = create(front_door)
    assert response.status_code == 400
    assert error_of(response) == "Error: Salesforce validation error: `Invalid email`"
    assert emu.records() == []


def test_latency(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(path="/v1/streams", latency=0.2)
    started = time.monotonic()
    assert front_door.get("/v1/streams").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_drop_before(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(kind="create", drop="before")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        create(front_door)
    assert emu.records() == []
    assert create(front_door).status_code == 200


def test_drop_after(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(kind="create", drop="after")
    with pytest.raises(httpx.RemoteProtocolError):
        create(front_door, 2)
    assert len(emu.records()) == 2


def test_malformed(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(path=MUTATE, malformed=True)
    response = create(front_door)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert len(emu.records()) == 1


def test_drop_records(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(kind="create", drop_records=2)
    response = create(front_door, 3)
    assert response.status_code == 200 and len(response.json()["records"]) == 1
    assert len(emu.records()) == 3


def test_times_and_matching(front_door: httpx.Client, emu: Emulator) -> None:
    fault = emu.inject(kind="delete", status=503, times=2)
    created = create(front_door).json()["records"][0]
    body = mutation("delete", "sf", "salesforce:contact", upstream_ids=[created["upstream_id"]])
    statuses = [front_door.post(MUTATE, json=body).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert (fault.hits, fault.remaining) == (2, 0) and emu.faults == []


def test_500_with_await_is_an_applied_await_timeout(
    front_door: httpx.Client, emu: Emulator
) -> None:
    consumer = emu.create_consumer()["id"]
    emu.inject(kind="create", status=500)
    started = time.monotonic()
    response = create(front_door, await_consumer_ids=[consumer])
    assert response.status_code == 500
    assert error_of(response) == f"Error: Timed out waiting for consumers: {consumer}"
    assert len(emu.records()) == 1 and time.monotonic() - started < 1


def test_clear_faults(front_door: httpx.Client, emu: Emulator) -> None:
    emu.inject(status=500, times=5)
    emu.clear_faults()
    assert front_door.get("/v1/syncs").status_code == 200


def test_invalid_faults() -> None:
    for kwargs in ({"status": 200}, {"times": 0}, {"latency": -1}, {"drop": "sideways"}):
        with pytest.raises(ValueError):
            Fault(**kwargs)


def test_request_log(front_door: httpx.Client, emu: Emulator) -> None:
    create(front_door)
    front_door.get("/v1/records", params={"limit": "5"})
    front_door.get("/_emulator/requests")
    log = emu.requests
    assert [(r.method, r.path) for r in log] == [("POST", MUTATE), ("GET", "/v1/records")]
    assert log[0].json["kind"] == "create" and log[1].query == {"limit": "5"}
    assert emu.mutation_requests("create") == log[:1] and emu.mutation_requests("delete") == []
    emu.clear_requests()
    assert emu.requests == []
