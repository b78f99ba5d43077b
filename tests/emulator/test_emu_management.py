"""Management API: auth, streams, credentials, syncs, collections; 401/404/405/422 shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sequin_orm.emulator import Emulator
from tests.emulator.emu_helpers import TOKEN, summary_of

STRIPE_KEY = {"kind": "stripe_key", "secret": "sk_test_123", "name": "Acme", "test": True}


def validation_errors(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["summary"] == "Validation failed"
    errors: dict[str, list[str]] = body["validation_errors"]
    assert all(isinstance(v, list) and v for v in errors.values())
    return errors


def new_stream(client: httpx.Client, slug: str = "dev") -> str:
    return str(client.post("/v1/streams", json={"slug": slug}).json()["id"])


def sync_body(stream: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "provider": "stripe",
        "stream_id": stream,
        "name": "Acme Stripe",
        "collection_ids": ["stripe:customer"],
        "credential": {"properties": STRIPE_KEY},
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_unauthorized(emu: Emulator, headers: dict[str, str]) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://h", headers=headers) as c:
        for path in ("/v1/syncs", "/_emulator/requests"):
            response = c.get(path)
            assert response.status_code == 401
            assert response.json() == {"summary": "Your API key is wrong"}


def test_header_name_and_scheme_are_case_insensitive(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://h") as c:
        response = c.get("/v1/syncs", headers={"authorization": f"bearer {TOKEN}"})
        assert response.status_code == 200 and response.json() == {"data": []}


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    assert client.get("/v1/nothing").status_code == 404
    assert client.get("/v1/nothing").json() == {"summary": "Not found"}
    wrong = client.put("/v1/syncs")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]


def test_streams(client: httpx.Client, emu: Emulator) -> None:
    created = client.post("/v1/streams", json={"slug": "dev"})
    assert created.status_code == 200
    stream = created.json()
    assert set(stream) == {"id", "slug", "org_id", "created_at", "updated_at"}
    assert stream["slug"] == "dev" and stream["org_id"] == emu.org_id
    assert client.get("/v1/streams").json() == {"data": [stream]}
    assert client.get(f"/v1/streams/{stream['id']}").json() == stream
    assert validation_errors(client.post("/v1/streams", json={"slug": "dev"})) == {
        "slug": ["has already been taken"]
    }
    assert "slug" in validation_errors(client.post("/v1/streams", json={}))
    bad = client.post("/v1/streams", content=b"[")
    assert bad.status_code == 400 and summary_of(bad) == "Your request is invalid"


def test_credentials(client: httpx.Client) -> None:
    response = client.post("/v1/credentials", json={"properties": STRIPE_KEY, "metadata": {"a": 1}})
    assert response.status_code == 200
    credential = response.json()
    assert credential["provider"] == "stripe" and credential["kind"] == "stripe_key"
    assert credential["properties"]["secret"] == "***********"
    assert credential["name"] == "Acme" and credential["oauth_app"] == {"kind": "sequin"}
    again = client.post("/v1/credentials", json={"properties": STRIPE_KEY}).json()
    assert again["id"] == credential["id"]
    hub = {"kind": "hubspot_oauth2", "refresh_token": "r", "hub_id": 7, "api_password": "p"}
    hubspot = client.post("/v1/credentials", json={"properties": hub}).json()
    assert hubspot["properties"]["refresh_token"] == "***********"
    assert hubspot["properties"]["api_password"] == "***********"
    assert hubspot["properties"]["hub_id"] == 7
    assert len(client.get("/v1/credentials").json()["data"]) == 2
    listed = client.get("/v1/credentials", params={"provider": "hubspot"}).json()["data"]
    assert [c["id"] for c in listed] == [hubspot["id"]]
    by_kind = client.get("/v1/credentials", params={"kind": "stripe_key"}).json()["data"]
    assert [c["id"] for c in by_kind] == [credential["id"]]
    patched = client.patch(f"/v1/credentials/{credential['id']}", json={"name": "New"}).json()
    assert patched["name"] == "New" and patched["metadata"] == {"a": 1}
    assert client.get(f"/v1/credentials/{credential['id']}").json()["name"] == "New"
    assert "properties" in validation_errors(
        client.patch(f"/v1/credentials/{credential['id']}", json={"properties": {}})
    )
    assert client.get("/v1/credentials/nope").status_code == 404
    assert "properties" in validation_errors(client.post("/v1/credentials", json={}))
    unknown = client.post("/v1/credentials", json={"properties": {"kind": "fax_machine"}})
    assert "properties.kind" in validation_errors(unknown)
    assert "sk_test_123" not in client.get("/v1/credentials").text


def test_sync_lifecycle(client: httpx.Client) -> None:
    stream_id = new_stream(client)
    sync = client.post("/v1/syncs", json=sync_body(stream_id, metadata={"tenant": "a"})).json()
    assert sync["rate_limit"] == {
        "allowed_requests": 2,
        "interval": 1,
        "max_concurrent_requests": 0,
    }
    assert sync["credential"]["properties"]["secret"] == "***********"
    other = client.post(
        "/v1/syncs",
        json=sync_body(
            stream_id,
            name="B",
            provider="hubspot",
            collection_ids=["hubspot:contact"],
            credential={"properties": {"kind": "hubspot_oauth2"}},
        ),
    ).json()
    assert client.get(f"/v1/syncs/{sync['id']}").json() == sync
    ids = lambda **q: [s["id"] for s in client.get("/v1/syncs", params=q).json()["data"]]  # noqa: E731
    assert ids() == [sync["id"], other["id"]]
    assert ids(provider="hubspot") == [other["id"]]
    assert ids(name="Acme Stripe") == [sync["id"]]
    assert ids(metadata=json.dumps({"tenant": "a"})) == [sync["id"]]
    assert ids(metadata=json.dumps({"tenant": "b"})) == []
    assert "metadata" in validation_errors(client.get("/v1/syncs", params={"metadata": "{"}))

    patch = {
        "name": "Renamed",
        "collection_ids": ["stripe:customer", "stripe:invoice"],
        "status": "disabled",
        "max_age_days": 30,
        "sync_frequency": "4h",
        "metadata": {"tenant": "z"},
        "rate_limit": {"allowed_requests": 5, "interval": 1, "max_concurrent_requests": 1},
    }
    patched = client.patch(f"/v1/syncs/{sync['id']}", json=patch).json()
    for key, value in patch.items():
        assert patched[key] == value
    assert patched["credential_id"] == sync["credential_id"]
    assert client.get(f"/v1/syncs/{sync['id']}").json() == patched

    deleted = client.delete(f"/v1/syncs/{sync['id']}")
    assert deleted.status_code == 200 and deleted.json() == patched
    assert client.get(f"/v1/syncs/{sync['id']}").status_code == 404
    assert client.delete(f"/v1/syncs/{sync['id']}").status_code == 404
    assert client.patch("/v1/syncs/nope", json={"name": "x"}).status_code == 404


@pytest.mark.parametrize("field", ["credential", "credential_id", "provider", "stream_id"])
def test_sync_patch_refuses_fixed_fields(client: httpx.Client, field: str) -> None:
    sync = client.post("/v1/syncs", json=sync_body(new_stream(client))).json()
    response = client.patch(f"/v1/syncs/{sync['id']}", json={field: "x"})
    assert validation_errors(response) == {field: ["cannot be changed"]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"provider": None}, "provider"),
        ({"provider": "myspace"}, "provider"),
        ({"stream_id": "nope"}, "stream_id"),
        ({"name": ""}, "name"),
        ({"collection_ids": []}, "collection_ids"),
        ({"collection_ids": ["hubspot:contact"]}, "collection_ids"),
        ({"collection_ids": ["stripe:nonsense"]}, "collection_ids"),
        ({"sync_frequency": "1h"}, "sync_frequency"),
        ({"rate_limit": {"interval": 60}}, "rate_limit.allowed_requests"),
        ({"max_age_days": -1}, "max_age_days"),
        ({"credential": None}, "credential"),
        ({"credential_id": "c"}, "credential"),
        ({"credential": None, "credential_id": "nope"}, "credential_id"),
        ({"credential": {"properties": {"kind": "hubspot_oauth2"}}}, "credential.properties.kind"),
        ({"credential": {"name": "no properties"}}, "credential.properties"),
    ],
)
def test_sync_create_validation(
    client: httpx.Client, overrides: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in sync_body(new_stream(client), **overrides).items() if v is not None}
    assert field in validation_errors(client.post("/v1/syncs", json=body))
    assert client.get("/v1/credentials").json()["data"] == []


def test_sync_with_existing_credential(client: httpx.Client) -> None:
    credential = client.post("/v1/credentials", json={"properties": STRIPE_KEY}).json()
    body = sync_body(new_stream(client), credential=None, credential_id=credential["id"])
    sync = client.post("/v1/syncs", json={k: v for k, v in body.items() if v is not None}).json()
    assert sync["credential_id"] == credential["id"]


def test_collections(client: httpx.Client, emu: Emulator) -> None:
    credential = emu.create_credential("stripe")
    listed = client.get(f"/v1/collections/{credential['id']}").json()["data"]
    ids = [c["id"] for c in listed]
    assert {"stripe:customer", "stripe:invoice"} <= set(ids)
    customer = client.get(f"/v1/collections/{credential['id']}/stripe:customer").json()
    assert {"id", "upstream_id", "name", "links", "fields"} <= set(customer)
    email = next(f for f in customer["fields"] if f["accessor"] == "email")
    assert email["id"] == "stripe:customer:email"
    assert {"id", "name", "accessor", "type", "primary_key", "metadata"} <= set(email)
    assert [f["accessor"] for f in customer["fields"] if f["primary_key"]] == ["id"]
    encoded = client.get(f"/v1/collections/{credential['id']}/stripe%3Acustomer")
    assert encoded.json() == customer
    assert client.get(f"/v1/collections/{credential['id']}/stripe:nope").status_code == 404
    assert client.get("/v1/collections/nope").status_code == 404


def test_builtin_schemas_cover_the_minimum() -> None:
    from sequin_orm.emulator import schemas

    for provider, names in {
        "salesforce": ["contact", "account", "task", "lead", "opportunity"],
        "stripe": ["customer", "invoice"],
        "hubspot": ["contact", "company"],
    }.items():
        built = {c["id"] for c in schemas.builtin_collections(provider)}
        assert {f"{provider}:{n}" for n in names} <= built
        for collection in schemas.builtin_collections(provider):
            assert sum(f["primary_key"] for f in collection["fields"]) == 1


def test_providers_without_schemas_accept_any_collection(client: httpx.Client) -> None:
    from sequin_orm.emulator import schemas

    assert schemas.collections("workday") == []
    # Airtable lists a demo base, but its collection ids are per base: any one is accepted
    assert [c["id"] for c in schemas.collections("airtable")] == [
        "airtable:gcSyR6LfxbXo7iART4m1vcLu"
    ]
    body = sync_body(
        new_stream(client),
        provider="airtable",
        collection_ids=["airtable:tblX"],
        credential={"properties": {"kind": "airtable_oauth2"}},
    )
    assert client.post("/v1/syncs", json=body).status_code == 200
