"""Every request/response example of the original doc pages (seeds 000-003) and of
shared/sequin-api.md, replayed against the emulator: each gets the documented answer.

Not emulated (no example here): OAuth apps (§4.5), Postgres consumers and targets (§4.9).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import (
    CONSUMER_KEYS,
    MUTATE,
    RECORD_KEYS,
    error_of,
    in_process,
    summary_of,
)

# Seeds 000 and 001: "Create a single record".
CREATE_ONE = """{
  "kind": "create",
  "sync_id": "my-sync-id",
  "collection_id": "salesforce:contact",
  "records": [
    {"data": {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}}
  ]
}"""

# Seed 001: "Create multiple records".
CREATE_MANY = """{
  "kind": "create",
  "sync_id": "my-sync-id",
  "collection_id": "salesforce:contact",
  "records": [
    {"data": {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}},
    {"data": {"FirstName": "Duncan", "LastName": "Idaho", "Email": "duncan@arrakis.org"}}
  ]
}"""

# Seed 000: the update PartialRecord.
UPDATE_ONE = """{
  "kind": "update",
  "sync_id": "my-sync-id",
  "collection_id": "salesforce:contact",
  "records": [
    {"upstream_id": "0031U00000Qn2ZVQAZ",
     "data": {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}}
  ]
}"""

# Seed 002: "Delete a single record" and "Delete multiple records".
DELETE_ONE = """{
  "kind": "delete",
  "sync_id": "my-sync-id",
  "collection_id": "salesforce:contact",
  "upstream_ids": ["0031U00000Qn2ZVQAZ"]
}"""
DELETE_MANY = """{
  "kind": "delete",
  "sync_id": "my-sync-id",
  "collection_id": "salesforce:contact",
  "upstream_ids": ["0031U00000Qn2ZVQAZ", "0031U00000Qn2ZVQBA"]
}"""

# Seed 003: POST /v1/syncs.
CREATE_SYNC = """{
  "provider": "stripe",
  "stream_id": "f0f70b52-5243-489c-879b-a1ae3f02abfd",
  "name": "Choam Corp - Stripe Production",
  "collection_ids": ["stripe:customer", "stripe:invoice"],
  "rate_limit": {"allowed_requests": 100, "interval": 60, "max_concurrent_requests": 0},
  "credential": {
    "properties": {
      "kind": "stripe_oauth2",
      "secret": "sk_live_7eC39HqLyjWDarjtT1zdp7dc",
      "test": true,
      "name": "Choam Corp - Stripe [Test]"
    },
    "oauth_app_id": "8ff58ef0-d376-4ae8-b2e2-9f0206aa65b8",
    "metadata": {"custom_credential_property": 42}
  },
  "metadata": {"custom_property": 42},
  "external_id": "{YOUR_EXTERNAL_ID}"
}"""

# Seed 003's documented response, reduced to its keys.
SYNC_KEYS = {
    "id",
    "provider",
    "stream_id",
    "name",
    "status",
    "org_id",
    "health",
    "collection_ids",
    "rate_limit",
    "credential_id",
    "credential",
    "max_age_days",
    "sync_frequency",
    "initial_backfill_completed_at",
    "metadata",
    "created_at",
    "updated_at",
}
CREDENTIAL_KEYS = {
    "id",
    "provider",
    "properties",
    "oauth_app_id",
    "oauth_app",
    "metadata",
    "created_at",
    "updated_at",
}
DOC_RECORD_KEYS = {
    "sync_id",
    "collection_id",
    "upstream_id",
    "upstream_updated_at",
    "data",
    "deleted",
}


@pytest.fixture
def doc_emu(emu: Emulator) -> Emulator:
    """An emulator holding the docs' ``my-sync-id`` and the contacts the examples delete."""
    emu.create_sync("salesforce", ["salesforce:contact"], id="my-sync-id")
    for upstream_id in ("0031U00000Qn2ZVQAZ", "0031U00000Qn2ZVQBA"):
        emu.create_record(
            "my-sync-id", "salesforce:contact", {"LastName": "X"}, upstream_id=upstream_id
        )
    return emu


def post(client: httpx.Client, raw: str) -> httpx.Response:
    return client.post(MUTATE, content=raw, headers={"content-type": "application/json"})


@pytest.mark.usefixtures("doc_emu")
@pytest.mark.parametrize(
    ("raw", "count", "deleted"),
    [
        (CREATE_ONE, 1, False),
        (CREATE_MANY, 2, False),
        (UPDATE_ONE, 1, False),
        (DELETE_ONE, 1, True),
        (DELETE_MANY, 2, True),
    ],
)
def test_doc_mutations(client: httpx.Client, raw: str, count: int, deleted: bool) -> None:
    response = post(client, raw)
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert len(records) == count
    for record in records:
        assert set(record) >= DOC_RECORD_KEYS
        assert record["sync_id"] == "my-sync-id"
        assert record["collection_id"] == "salesforce:contact"
        assert record["deleted"] is deleted
    sent = json.loads(raw)
    if "upstream_ids" in sent:
        assert [r["upstream_id"] for r in records] == sent["upstream_ids"]
    else:
        assert [r["data"]["Email"] for r in records] == [
            item["data"]["Email"] for item in sent["records"]
        ]


@pytest.mark.usefixtures("doc_emu")
def test_doc_validation_error_shape(client: httpx.Client) -> None:
    body = json.loads(CREATE_ONE)
    body["records"][0]["data"]["Email"] = "paul-at-arrakis"
    response = client.post(MUTATE, json=body)
    assert response.status_code == 400
    assert error_of(response) == "Error: Salesforce validation error: `Invalid email`"


def test_doc_create_sync(emu: Emulator, client: httpx.Client) -> None:
    emu.create_stream("choam", id="f0f70b52-5243-489c-879b-a1ae3f02abfd")
    response = client.post("/v1/syncs", content=CREATE_SYNC)
    assert response.status_code == 200, response.text
    sync: dict[str, Any] = response.json()
    assert set(sync) == SYNC_KEYS | {"external_id"}
    assert sync["provider"] == "stripe" and sync["status"] == "active"
    assert sync["org_id"] == emu.org_id
    assert sync["health"] == {"status": "healthy", "sync_id": sync["id"]}
    assert sync["collection_ids"] == ["stripe:customer", "stripe:invoice"]
    assert sync["rate_limit"] == {
        "allowed_requests": 100,
        "interval": 60,
        "max_concurrent_requests": 0,
    }
    assert sync["external_id"] == "{YOUR_EXTERNAL_ID}"
    assert sync["metadata"] == {"custom_property": 42}
    assert sync["max_age_days"] is None and sync["sync_frequency"] == "continuous"
    credential = sync["credential"]
    assert set(credential) >= CREDENTIAL_KEYS
    assert credential["id"] == sync["credential_id"]
    assert credential["provider"] == "stripe"
    assert credential["properties"] == {
        "kind": "stripe_oauth2",
        "secret": "***********",
        "test": True,
        "name": "Choam Corp - Stripe [Test]",
    }
    assert credential["oauth_app_id"] == "8ff58ef0-d376-4ae8-b2e2-9f0206aa65b8"
    assert credential["metadata"] == {"custom_credential_property": 42}
    for key in ("created_at", "updated_at", "initial_backfill_completed_at"):
        assert len(sync[key]) == len("2023-12-15 01:29:29") and sync[key][10] == " "
    assert "sk_live" not in response.text


# --- the other examples of seeds 000-002 -----------------------------------------------------


def test_doc_await_timeout_is_the_documented_500(emu: Emulator, client: httpx.Client) -> None:
    """Seed 000: "If Sequin times out while waiting for consumers, it will return a 500"."""
    emu.create_sync("salesforce", ["salesforce:contact"], id="my-sync-id")
    consumer_id = emu.create_consumer(id="slow-consumer")["id"]
    body = {**json.loads(CREATE_ONE), "await_consumer_ids": [consumer_id]}
    response = client.post(MUTATE, json={**body, "await_consumers_timeout": 50})
    assert response.status_code == 500
    assert error_of(response) == f"Error: Timed out waiting for consumers: {consumer_id}"
    assert len(emu.records("salesforce:contact")) == 1  # the mutation was applied


@pytest.mark.usefixtures("doc_emu")
def test_doc_upstream_timeout_is_the_documented_504(emu: Emulator, client: httpx.Client) -> None:
    emu.inject(kind="create", status=504)
    response = post(client, CREATE_ONE)
    assert response.status_code == 504
    assert error_of(response) == "Error: Salesforce API timed out"


@pytest.mark.usefixtures("doc_emu")
def test_doc_delete_answers_with_the_records(client: httpx.Client) -> None:
    """Seed 002: a delete answers ``{"records": [...]}`` with each record (its example shows
    ``deleted: false``, a copy of the create page's; the record *is* deleted)."""
    response = post(client, DELETE_ONE)
    assert response.status_code == 200 and set(response.json()) == {"records"}
    (record,) = response.json()["records"]
    assert set(record) >= DOC_RECORD_KEYS and record["deleted"] is True
    again = post(client, DELETE_ONE)  # deleting a deleted record answers the same
    assert again.status_code == 200 and again.json()["records"][0]["deleted"] is True


# --- the examples of shared/sequin-api.md ----------------------------------------------------


def test_api_errors_have_the_documented_bodies(emu: Emulator) -> None:
    """§1: 401 ``{"summary"}``; 422 ``{"summary", "validation_errors"}``."""
    with httpx.Client(transport=emu.transport(), base_url="http://sequin.test") as stranger:
        response = stranger.get("/v1/syncs", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and summary_of(response) == "Your API key is wrong"
    with in_process(emu) as client:
        response = client.post("/v1/streams", json={})
    assert response.status_code == 422 and set(response.json()) == {"summary", "validation_errors"}


def test_streams_example(client: httpx.Client) -> None:
    """§4.6: ``POST /v1/streams`` with ``{"slug": "dev"}``."""
    response = client.post("/v1/streams", json={"slug": "dev"})
    assert response.status_code == 200
    assert set(response.json()) == {"id", "slug", "org_id", "created_at", "updated_at"}
    assert response.json()["slug"] == "dev"


def test_sync_list_filters_and_update_example(emu: Emulator, client: httpx.Client) -> None:
    """§4.1: list filters ``provider``, ``name``, ``metadata``; PATCH's documented fields."""
    emu.create_sync("stripe", ["stripe:customer"], id="s1", metadata={"custom_property": 42})
    emu.create_sync("salesforce", ["salesforce:contact"], id="s2")
    listed = client.get("/v1/syncs", params={"metadata": '{"custom_property":42}'}).json()
    assert [s["id"] for s in listed["data"]] == ["s1"]
    assert [s["id"] for s in client.get("/v1/syncs?provider=salesforce").json()["data"]] == ["s2"]
    patch = {
        "name": "Renamed",
        "collection_ids": ["stripe:customer", "stripe:invoice"],
        "rate_limit": {"allowed_requests": 100, "interval": 60, "max_concurrent_requests": 0},
        "status": "disabled",
        "max_age_days": 30,
        "sync_frequency": "4h",
        "metadata": {"custom_property": 43},
    }
    response = client.patch("/v1/syncs/s1", json=patch)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in patch} == patch
    assert client.patch("/v1/syncs/s1", json={"provider": "hubspot"}).status_code == 422


def test_credentials_examples(client: httpx.Client) -> None:
    """§4.4: an idempotent import, the list filters, PATCH of name and metadata."""
    body = {"name": "Stripe", "properties": {"kind": "stripe_key", "secret": "sk_test_x"}}
    first, second = (client.post("/v1/credentials", json=body).json() for _ in range(2))
    assert first["id"] == second["id"] and first["properties"]["secret"] == "***********"
    listed = client.get("/v1/credentials", params={"provider": "stripe", "kind": "stripe_key"})
    assert [c["id"] for c in listed.json()["data"]] == [first["id"]]
    patched = client.patch(f"/v1/credentials/{first['id']}", json={"metadata": {"team": "a"}})
    assert patched.json()["metadata"] == {"team": "a"}


def test_consumer_overview_example_and_the_1h_policy(emu: Emulator, client: httpx.Client) -> None:
    """§4.7: the overview's ``name`` and ``filters`` (with ``resource_id``), every documented
    ``deliver_policy`` (``1h`` included) and setting."""
    emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    stream_id = emu.create_stream("second")["id"]
    for policy in ("all", "new", "last", "1h"):
        body = {
            "stream_id": stream_id,
            "name": f"contacts-{policy}",
            "deliver_policy": policy,
            "ack_wait_ms": 30000,
            "max_deliver": -1,
            "max_ack_pending": 1000,
            "metadata": {"team": "growth"},
            "filters": {"collection_id": "salesforce:contact", "resource_id": "*"},
        }
        response = client.post("/v1/http-consumers", json=body)
        assert response.status_code == 200, response.text
        consumer = response.json()
        assert set(consumer) == CONSUMER_KEYS and consumer["deliver_policy"] == policy
        fetched = client.get(f"/v1/http-consumers/{consumer['id']}").json()
        assert fetched == consumer


def test_consume_examples(emu: Emulator, client: httpx.Client) -> None:
    """§4.7: ``next`` by POST body and by GET query, its ``info``, ack 204 and nack."""
    sync = emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    consumer_id = emu.create_consumer(sync["stream_id"], id="c1")["id"]
    for name in ("Paul", "Duncan", "Gurney"):
        emu.create_record("sf", "salesforce:contact", {"LastName": name})
    posted = client.post(
        f"/v1/http-consumers/{consumer_id}/next", json={"batch_size": 2, "wait_for": 0}
    ).json()
    assert [set(m) for m in posted["data"]] == [{"ack_token", "record"}] * 2
    assert set(posted["data"][0]["record"]) >= RECORD_KEYS
    assert posted["info"] == {"num_pending": 1, "num_ack_pending": 2}
    got = client.get(f"/v1/http-consumers/{consumer_id}/next?batch_size=10").json()
    assert len(got["data"]) == 1 and got["info"] == {"num_pending": 0, "num_ack_pending": 3}
    tokens = [m["ack_token"] for m in posted["data"]]
    acked = client.post(f"/v1/http-consumers/{consumer_id}/ack", json={"ack_tokens": tokens})
    assert acked.status_code == 204 and acked.content == b""
    nack_body = {"ack_tokens": [got["data"][0]["ack_token"]]}
    nacked = client.post(f"/v1/http-consumers/{consumer_id}/nack", json=nack_body)
    assert nacked.status_code == 204 and nacked.content == b""


def test_event_consumers_get_event_messages(emu: Emulator, client: httpx.Client) -> None:
    """§4.7: event consumers get ``{"ack_token", "event"}``; one event per change, in the
    shape of ``GET /v1/events`` items (§4.10)."""
    sync = emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    consumer_id = emu.create_consumer(sync["stream_id"], id="events", kind="event")["id"]
    created = client.post(MUTATE, json={**json.loads(CREATE_ONE), "sync_id": "sf"}).json()
    upstream_id = created["records"][0]["upstream_id"]
    update = {"upstream_id": upstream_id, "data": {"FirstName": "Usul"}}
    body = {"kind": "update", "sync_id": "sf", "collection_id": "salesforce:contact"}
    client.post(MUTATE, json={**body, "records": [update]})
    delete = {"kind": "delete", "sync_id": "sf", "collection_id": "salesforce:contact"}
    client.post(MUTATE, json={**delete, "upstream_ids": [upstream_id]})
    batch = client.post(f"/v1/http-consumers/{consumer_id}/next", json={"batch_size": 5}).json()
    assert [set(m) for m in batch["data"]] == [{"ack_token", "event"}] * 3
    events = [m["event"] for m in batch["data"]]
    assert [e["event"] for e in events] == ["created", "updated", "deleted"]
    assert set(events[0]) == {
        "sync_id",
        "collection_id",
        "upstream_id",
        "upstream_updated_at",
        "data",
        "event",
        "event_id",
        "event_inserted_at",
    }
    assert events[1]["data"]["FirstName"] == "Usul"
    listed = client.get("/v1/events", params={"collection_id": "salesforce:contact"}).json()
    assert [e["event_id"] for e in listed["events"]] == [e["event_id"] for e in events]


def test_records_examples(emu: Emulator, client: httpx.Client) -> None:
    """§4.10: ``GET /v1/records`` filters (``collection`` names the collection too),
    ``{"records", "cursor"}``, ``after_cursor``; a ``limit`` above 1000 returns 1000."""
    emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    emu.create_sync("stripe", ["stripe:customer"], id="st")
    for i in range(3):
        emu.create_record("sf", "salesforce:contact", {"LastName": f"L{i}"})
        emu.create_record("st", "stripe:customer", {"email": f"c{i}@choam.org"})
    page = client.get("/v1/records", params={"collection_id": "salesforce:contact", "limit": 2})
    assert set(page.json()) == {"records", "cursor"} and len(page.json()["records"]) == 2
    assert set(page.json()["records"][0]) >= RECORD_KEYS
    rest = client.get(
        "/v1/records",
        params={"collection": "salesforce:contact", "after_cursor": page.json()["cursor"]},
    ).json()["records"]
    assert [r["collection_id"] for r in rest] == ["salesforce:contact"]
    stripe_only = client.get("/v1/records", params={"provider": "stripe", "sync_id": "st"})
    assert {r["provider"] for r in stripe_only.json()["records"]} == {"stripe"}
    for i in range(1001):
        emu.create_record("sf", "salesforce:contact", {"LastName": f"M{i}"})
    capped = client.get("/v1/records", params={"limit": 5000}).json()["records"]
    assert len(capped) == 1000


def test_collections_examples(emu: Emulator, client: httpx.Client) -> None:
    """§4.8: the list, one collection (``stripe:customer``'s ``balance``), refresh start and
    status."""
    credential_id = emu.create_credential("stripe")["id"]
    listed = client.get(f"/v1/collections/{credential_id}").json()["data"]
    assert {"id", "upstream_id", "name", "links", "fields"} <= set(listed[0])
    assert set(listed[0]["fields"][0]) == {
        "id",
        "name",
        "accessor",
        "type",
        "primary_key",
        "metadata",
    }
    customer = client.get(f"/v1/collections/{credential_id}/stripe:customer").json()
    balance = next(f for f in customer["fields"] if f["accessor"] == "balance")
    assert balance["id"] == "stripe:customer:balance"
    for method, path in (("POST", "refresh/start"), ("GET", "refresh/status")):
        response = client.request(method, f"/v1/collections/{credential_id}/{path}")
        assert response.status_code == 200
        assert set(response.json()) == {
            "credential_id",
            "last_started_at",
            "last_succeeded_at",
            "status",
            "error",
        }
        assert response.json()["status"] in ("processing", "succeeded", "failed")
