"""Mutation API: create, update, delete, validation, limits, stream effects."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import BATCH_LIMITS, Emulator
from sequin_orm.emulator.state import FIRST_UPDATED_IDX
from tests.emulator.emu_helpers import MUTATE, RECORD_KEYS, MutationFn, error_of

ISO_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SF_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
MISSING = "Required fields are missing: "
PAUL = {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}


def create(mutate: MutationFn, collection: str, *datas: dict[str, Any], sync: str = "sf-sync"):
    return mutate("create", sync, collection, records=[{"data": d} for d in datas])


@pytest.mark.usefixtures("sf_sync")
def test_create_returns_full_records_in_request_order(mutate: MutationFn) -> None:
    duncan = {"FirstName": "Duncan", "LastName": "Idaho", "Email": "duncan@arrakis.org"}
    response = create(mutate, "salesforce:contact", PAUL, duncan)
    assert response.status_code == 200
    records = response.json()["records"]
    assert [r["data"]["LastName"] for r in records] == ["Atreides", "Idaho"]
    first = records[0]
    assert set(first) == RECORD_KEYS
    assert first["sync"] == {"id": "sf-sync", "external_id": None, "metadata": {}}
    assert first["sync_id"] == "sf-sync" and first["provider"] == "salesforce"
    assert first["collection_id"] == "salesforce:contact" and first["deleted"] is False
    for key in ("inserted_at", "upstream_created_at", "upstream_updated_at"):
        assert ISO_MICRO.match(first[key])
    assert first["updated_idx"] >= FIRST_UPDATED_IDX
    assert records[1]["updated_idx"] > first["updated_idx"]


@pytest.mark.usefixtures("sf_sync")
def test_salesforce_ids_and_system_fields(mutate: MutationFn) -> None:
    prefixes = {
        "salesforce:contact": "003",
        "salesforce:account": "001",
        "salesforce:lead": "00Q",
        "salesforce:task": "00T",
    }
    for collection, prefix in prefixes.items():
        data = {"LastName": "X", "Name": "X"}
        record = create(mutate, collection, data).json()["records"][0]
        upstream_id = record["upstream_id"]
        assert len(upstream_id) == 18 and upstream_id.startswith(prefix)
        assert record["data"]["Id"] == upstream_id
        for key in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            assert SF_STAMP.match(record["data"][key])


def test_stripe_hubspot_and_other_provider_shapes(emu: Emulator, mutate: MutationFn) -> None:
    emu.create_sync("stripe", ["stripe:customer", "stripe:invoice"], id="st")
    emu.create_sync("hubspot", ["hubspot:contact", "hubspot:company"], id="hs")
    emu.create_sync("shopify", ["shopify:product"], id="sh")
    emu.create_sync("linear", ["linear:issue"], id="li")
    customer = create(mutate, "stripe:customer", {"email": "a@b.co"}, sync="st").json()
    data = customer["records"][0]["data"]
    assert re.fullmatch(r"cus_[A-Za-z0-9]{14}", data["id"])
    assert data["object"] == "customer" and isinstance(data["created"], int)
    invoice = create(mutate, "stripe:invoice", {"customer": data["id"]}, sync="st").json()
    assert invoice["records"][0]["upstream_id"].startswith("in_")

    contact = create(mutate, "hubspot:contact", {"properties": {"email": "x@y.io"}}, sync="hs")
    hs = contact.json()["records"][0]
    assert hs["upstream_id"].isdigit()
    assert set(hs["data"]) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert hs["data"]["archived"] is False
    props = hs["data"]["properties"]
    assert props["hs_object_id"] == hs["upstream_id"] and props["email"] == "x@y.io"
    assert {"createdate", "lastmodifieddate"} <= set(props)
    company = create(mutate, "hubspot:company", {"properties": {"name": "C"}}, sync="hs").json()
    assert "hs_lastmodifieddate" in company["records"][0]["data"]["properties"]

    product = create(mutate, "shopify:product", {"title": "T"}, sync="sh").json()["records"][0]
    assert product["upstream_id"].isdigit() and product["data"]["id"] == int(product["upstream_id"])
    issue = create(mutate, "linear:issue", {"title": "T"}, sync="li").json()["records"][0]
    assert re.fullmatch(r"[0-9a-f-]{36}", issue["upstream_id"])
    assert issue["data"]["id"] == issue["upstream_id"]


@pytest.mark.usefixtures("sf_sync")
def test_update_is_a_patch(mutate: MutationFn) -> None:
    created = create(mutate, "salesforce:contact", PAUL).json()["records"][0]
    uid = created["upstream_id"]
    patch = [{"upstream_id": uid, "data": {"Email": "muaddib@arrakis.org", "FirstName": None}}]
    updated = mutate("update", "sf-sync", "salesforce:contact", records=patch).json()["records"][0]
    assert updated["id"] == created["id"] and updated["upstream_id"] == uid
    assert updated["data"]["Email"] == "muaddib@arrakis.org"
    assert updated["data"]["FirstName"] is None
    assert updated["data"]["LastName"] == "Atreides"
    assert updated["data"]["CreatedDate"] == created["data"]["CreatedDate"]
    assert updated["updated_idx"] > created["updated_idx"]
    assert updated["upstream_updated_at"] >= created["upstream_updated_at"]
    assert updated["upstream_created_at"] == created["upstream_created_at"]


def test_hubspot_update_merges_properties(emu: Emulator, mutate: MutationFn) -> None:
    emu.create_sync("hubspot", ["hubspot:contact"], id="hs")
    data = {"properties": {"firstname": "Paul", "email": "p@a.org"}}
    uid = create(mutate, "hubspot:contact", data, sync="hs").json()["records"][0]["upstream_id"]
    patch = [{"upstream_id": uid, "data": {"properties": {"firstname": "Muad'Dib"}}}]
    updated = mutate("update", "hs", "hubspot:contact", records=patch).json()["records"][0]
    props = updated["data"]["properties"]
    assert props["firstname"] == "Muad'Dib" and props["email"] == "p@a.org"
    assert props["hs_object_id"] == uid


@pytest.mark.usefixtures("sf_sync")
def test_delete_marks_deleted_and_is_idempotent(emu: Emulator, mutate: MutationFn) -> None:
    created = create(mutate, "salesforce:contact", PAUL).json()["records"][0]
    uid = created["upstream_id"]
    first = mutate("delete", "sf-sync", "salesforce:contact", upstream_ids=[uid])
    assert first.status_code == 200
    deleted = first.json()["records"][0]
    assert deleted["deleted"] is True and deleted["updated_idx"] > created["updated_idx"]
    again = mutate("delete", "sf-sync", "salesforce:contact", upstream_ids=[uid])
    assert again.status_code == 200 and again.json()["records"] == [deleted]
    assert emu.records(include_deleted=False) == []
    assert [r["deleted"] for r in emu.records()] == [True]
    update = mutate(
        "update",
        "sf-sync",
        "salesforce:contact",
        records=[{"upstream_id": uid, "data": {"LastName": "Y"}}],
    )
    assert update.status_code == 400
    assert "entity is deleted or does not exist" in error_of(update)


@pytest.mark.usefixtures("sf_sync")
@pytest.mark.parametrize("kind", ["update", "delete"])
def test_unknown_upstream_id_is_a_salesforce_error(mutate: MutationFn, kind: str) -> None:
    fields: dict[str, Any] = (
        {"records": [{"upstream_id": "003000000000000AAA", "data": {"LastName": "X"}}]}
        if kind == "update"
        else {"upstream_ids": ["003000000000000AAA"]}
    )
    response = mutate(kind, "sf-sync", "salesforce:contact", **fields)
    assert response.status_code == 400
    assert error_of(response) == (
        "Error: Salesforce validation error: "
        "`entity is deleted or does not exist: 003000000000000AAA`"
    )


def test_unknown_id_error_names_the_provider(emu: Emulator, mutate: MutationFn) -> None:
    emu.create_sync("stripe", ["stripe:customer"], id="st")
    response = mutate("delete", "st", "stripe:customer", upstream_ids=["cus_nope"])
    assert error_of(response).startswith("Error: Stripe validation error: `entity is deleted")


@pytest.mark.usefixtures("sf_sync")
@pytest.mark.parametrize(
    ("collection", "data", "message"),
    [
        ("salesforce:contact", {"FirstName": "Paul"}, f"{MISSING}[LastName]"),
        ("salesforce:lead", {"Company": "C", "LastName": ""}, f"{MISSING}[LastName]"),
        ("salesforce:account", {"Website": "x"}, f"{MISSING}[Name]"),
        ("salesforce:contact", {"LastName": "A", "Email": "not-an-email"}, "Invalid email"),
    ],
)
def test_salesforce_validation(
    mutate: MutationFn, collection: str, data: Any, message: str
) -> None:
    response = create(mutate, collection, data)
    assert response.status_code == 400
    assert error_of(response) == f"Error: Salesforce validation error: `{message}`"


@pytest.mark.usefixtures("sf_sync")
def test_update_validation(mutate: MutationFn) -> None:
    uid = create(mutate, "salesforce:contact", PAUL).json()["records"][0]["upstream_id"]
    for data, message in (
        ({"LastName": None}, "Required fields are missing: [LastName]"),
        ({"Email": "@"}, "Invalid email"),
    ):
        records = [{"upstream_id": uid, "data": data}]
        response = mutate("update", "sf-sync", "salesforce:contact", records=records)
        assert error_of(response) == f"Error: Salesforce validation error: `{message}`"


def test_email_validation_other_providers(emu: Emulator, mutate: MutationFn) -> None:
    emu.create_sync("stripe", ["stripe:customer"], id="st")
    emu.create_sync("hubspot", ["hubspot:contact"], id="hs")
    stripe = create(mutate, "stripe:customer", {"email": "nope"}, sync="st")
    assert error_of(stripe) == "Error: Stripe validation error: `Invalid email`"
    hub = create(mutate, "hubspot:contact", {"properties": {"email": "x"}}, sync="hs")
    assert error_of(hub) == "Error: HubSpot validation error: `Invalid email`"


@pytest.mark.usefixtures("sf_sync")
def test_a_failing_batch_applies_nothing(emu: Emulator, mutate: MutationFn) -> None:
    response = create(mutate, "salesforce:contact", PAUL, {"FirstName": "no last name"})
    assert response.status_code == 400
    assert emu.records() == []


@pytest.mark.usefixtures("sf_sync")
def test_sync_and_collection_errors(emu: Emulator, mutate: MutationFn) -> None:
    missing = create(mutate, "salesforce:contact", PAUL, sync="nope")
    assert error_of(missing) == "Error: Sync not found: nope"
    other = create(mutate, "salesforce:opportunity", {"Name": "O"})
    assert other.status_code == 400 and "salesforce:opportunity" in error_of(other)
    emu.create_sync("salesforce", ["salesforce:contact"], id="off", status="active")
    client = httpx.Client(
        transport=emu.transport(),
        base_url="http://x",
        headers={"Authorization": f"Bearer {emu.token}"},
    )
    assert client.patch("/v1/syncs/off", json={"status": "disabled"}).status_code == 200
    disabled = create(mutate, "salesforce:contact", PAUL, sync="off")
    assert error_of(disabled) == "Error: Sync is disabled"


@pytest.mark.usefixtures("sf_sync")
@pytest.mark.parametrize(
    "body",
    [
        [],
        {"kind": "upsert", "sync_id": "sf-sync", "collection_id": "salesforce:contact"},
        {"kind": "create", "collection_id": "salesforce:contact", "records": [{"data": {}}]},
        {"kind": "create", "sync_id": "sf-sync", "collection_id": "salesforce:contact"},
        {
            "kind": "create",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "data": [{"data": {"LastName": "X"}}],
        },
        {
            "kind": "create",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "records": [{"LastName": "X"}],
        },
        {
            "kind": "update",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "records": [{"data": {"LastName": "X"}}],
        },
        {
            "kind": "delete",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "upstream_ids": [],
        },
        {
            "kind": "delete",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "upstream_ids": ["x"],
            "await_consumer_ids": "c",
        },
        {
            "kind": "delete",
            "sync_id": "sf-sync",
            "collection_id": "salesforce:contact",
            "upstream_ids": ["x"],
            "await_consumers_timeout": -1,
        },
    ],
)
def test_malformed_requests_are_400(client: httpx.Client, body: Any) -> None:
    response = client.post(MUTATE, json=body)
    assert response.status_code == 400
    assert error_of(response).startswith("Error: Invalid request: ")


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(MUTATE, content=b"{not json")
    assert response.status_code == 400 and error_of(response).startswith("Error: Invalid request")


def test_data_key_hint(client: httpx.Client, sf_sync: dict[str, Any]) -> None:
    body = {
        "kind": "create",
        "sync_id": "sf-sync",
        "collection_id": "salesforce:contact",
        "data": [{"data": PAUL}],
    }
    assert "not `data`" in error_of(client.post(MUTATE, json=body))


@pytest.mark.parametrize(
    ("provider", "limit"), [("salesforce", 200), ("airtable", 10), ("stripe", 100)]
)
def test_batch_limits(emu: Emulator, mutate: MutationFn, provider: str, limit: int) -> None:
    collection = {
        "salesforce": "salesforce:task",
        "airtable": "airtable:tblX",
        "stripe": "stripe:customer",
    }[provider]
    emu.create_sync(provider, [collection], id="s")
    assert BATCH_LIMITS[provider] == limit
    ok = create(mutate, collection, *({"Subject": str(i)} for i in range(limit)), sync="s")
    assert ok.status_code == 200 and len(ok.json()["records"]) == limit
    too_many = create(
        mutate, collection, *({"Subject": str(i)} for i in range(limit + 1)), sync="s"
    )
    assert too_many.status_code == 400
    name = {"salesforce": "Salesforce", "airtable": "Airtable", "stripe": "Stripe"}[provider]
    expected = f"Error: Batch too large: {limit + 1} records, the limit for {name} is {limit}"
    assert error_of(too_many) == expected
    ids = [f"x{i}" for i in range(limit + 1)]
    assert "Batch too large" in error_of(mutate("delete", "s", collection, upstream_ids=ids))


@pytest.mark.usefixtures("sf_sync")
def test_each_record_appears_once_in_the_stream(mutate: MutationFn, emu: Emulator) -> None:
    a, b = create(mutate, "salesforce:contact", PAUL, PAUL).json()["records"]
    records = [{"upstream_id": a["upstream_id"], "data": {"Title": "Duke"}}]
    mutate("update", "sf-sync", "salesforce:contact", records=records)
    stream = emu.records()
    assert [r["id"] for r in stream] == [b["id"], a["id"]]
    assert stream[-1]["data"]["Title"] == "Duke"
    assert emu.records("salesforce:account") == []


def test_create_record_helper(emu: Emulator, sf_sync: dict[str, Any]) -> None:
    record = emu.create_record(
        "sf-sync", "salesforce:contact", {"LastName": "A"}, upstream_id="0031U00000Qn2ZVQAZ"
    )
    assert record["upstream_id"] == record["data"]["Id"] == "0031U00000Qn2ZVQAZ"
    with pytest.raises(ValueError, match="already exists"):
        emu.create_record("sf-sync", "salesforce:contact", {}, upstream_id="0031U00000Qn2ZVQAZ")
    with pytest.raises(ValueError, match="Sync not found"):
        emu.create_record("nope", "salesforce:contact", {})


def test_helpers_refuse_duplicate_ids(emu: Emulator, sf_sync: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="has already been taken"):
        emu.create_sync("salesforce", ["salesforce:contact"], id="sf-sync")
    consumer = emu.create_consumer()
    with pytest.raises(ValueError, match="has already been taken"):
        emu.create_consumer(id=consumer["id"])
    with pytest.raises(ValueError, match="has already been taken"):
        emu.create_stream("other", id=sf_sync["stream_id"])
    first = emu.create_credential("stripe", id="cred-1")
    second = emu.create_credential("stripe", id="cred-2")
    assert (first["id"], second["id"]) == ("cred-1", "cred-2")
    assert emu.create_credential("stripe")["id"] == "cred-1"
