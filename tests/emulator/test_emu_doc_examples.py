"""Every request body of the original doc pages (seeds 000-003) gets the documented shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import MUTATE, error_of

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
