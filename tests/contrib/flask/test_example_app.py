"""The Flask example (examples/flask_app) with Flask's test client, against the emulator
served on loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sequin_orm.emulator import Emulator


@pytest.fixture
def app(emu: Emulator, served_url: str) -> Iterator[Flask]:
    from contacts_app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SEQUIN_API_TOKEN": emu.token,
            "SEQUIN_BASE_URL": served_url,
            "SEQUIN_SYNCS": {"salesforce": emu.seeded["salesforce_sync"]},
        }
    )
    yield app
    app.extensions["sequin"].client.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_the_app_talks_to_the_emulator_over_loopback_http(app: Flask, served_url: str) -> None:
    assert served_url.startswith("http://127.0.0.1:")
    assert app.extensions["sequin"].client.base_url == served_url


def test_the_form_page_renders(client: FlaskClient, emu: Emulator) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "New Salesforce contact" in response.text
    assert emu.requests == []


def test_posting_the_form_creates_the_contact_with_one_mutation(
    client: FlaskClient, emu: Emulator
) -> None:
    response = client.post(
        "/", data={"first_name": "Paul", "last_name": "Atreides", "email": "paul@arrakis.org"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/contacts/?created=1"
    assert [r.json for r in emu.mutation_requests()] == [
        {
            "kind": "create",
            "sync_id": emu.seeded["salesforce_sync"],
            "collection_id": "salesforce:contact",
            "records": [
                {"data": {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}}
            ],
        }
    ]


def test_the_list_page_reads_the_contacts_back(client: FlaskClient, emu: Emulator) -> None:
    client.post("/", data={"first_name": "Paul", "last_name": "Atreides"})
    client.post("/", data={"last_name": "Harkonnen", "email": "v@gedi.prime"})
    [created] = [
        r for r in emu.records("salesforce:contact") if r["data"]["LastName"] == "Atreides"
    ]
    emu.clear_requests()

    page = client.get("/contacts/?created=1").text

    assert "Contact created." in page
    assert "Paul Atreides" in page
    assert "v@gedi.prime" in page
    assert created["upstream_id"] in page
    assert {(r.method, r.path) for r in emu.requests} == {("GET", "/v1/records")}


def test_a_missing_last_name_sends_nothing(client: FlaskClient, emu: Emulator) -> None:
    response = client.post("/", data={"first_name": "Paul", "last_name": ""})

    assert response.status_code == 400
    assert "Last name is required." in response.text
    assert emu.requests == []


def test_an_upstream_validation_error_is_shown_in_the_form(
    client: FlaskClient, emu: Emulator
) -> None:
    response = client.post("/", data={"last_name": "Atreides", "email": "not-an-email@x"})

    assert response.status_code == 422
    assert "Salesforce validation error" in response.text
    [attempt] = emu.mutation_requests()
    assert attempt.json["records"] == [
        {"data": {"LastName": "Atreides", "Email": "not-an-email@x"}}
    ]
    assert emu.records("salesforce:contact") == []
