"""The Django example (examples/django_app) with Django's test client, against the emulator
served on loopback HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from sequin_orm.emulator import Emulator
from tests.contrib.django.helpers import mutations


@pytest.fixture(autouse=True)
def example_site() -> Iterator[None]:
    """The example's own middleware stack and URLs (its settings module, as written)."""
    from demo_site import settings as demo

    with override_settings(MIDDLEWARE=demo.MIDDLEWARE, ROOT_URLCONF=demo.ROOT_URLCONF):
        yield


def csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match is not None
    return client, match.group(1)


def test_the_form_page_renders(served_emu: Emulator) -> None:
    response = Client().get("/")

    assert response.status_code == 200
    assert "New Salesforce contact" in response.content.decode()
    assert served_emu.requests == []


def test_posting_the_form_creates_the_contact_with_one_mutation(served_emu: Emulator) -> None:
    client, token = csrf_client()

    response = client.post(
        "/",
        {
            "csrfmiddlewaretoken": token,
            "first_name": "Paul",
            "last_name": "Atreides",
            "email": "paul@arrakis.org",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/contacts/?created=1"
    assert mutations(served_emu) == [
        {
            "kind": "create",
            "sync_id": served_emu.seeded["salesforce_sync"],
            "collection_id": "salesforce:contact",
            "records": [
                {"data": {"FirstName": "Paul", "LastName": "Atreides", "Email": "paul@arrakis.org"}}
            ],
        }
    ]


def test_the_list_page_reads_the_contacts_back(served_emu: Emulator) -> None:
    client = Client()
    client.post("/", {"first_name": "Paul", "last_name": "Atreides", "email": ""})
    client.post("/", {"first_name": "", "last_name": "Harkonnen", "email": "v@gedi.prime"})
    [created] = [
        r for r in served_emu.records("salesforce:contact") if r["data"]["LastName"] == "Atreides"
    ]
    served_emu.clear_requests()

    page = client.get("/contacts/", {"created": "1"}).content.decode()

    assert "Contact created." in page
    assert "Paul Atreides" in page
    assert "Harkonnen" in page
    assert "v@gedi.prime" in page
    assert created["upstream_id"] in page
    assert mutations(served_emu) == []
    assert {(r.method, r.path) for r in served_emu.requests} == {("GET", "/v1/records")}


def test_an_invalid_form_sends_nothing(served_emu: Emulator) -> None:
    response = Client().post("/", {"first_name": "Paul", "last_name": "", "email": "nope"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert served_emu.requests == []


def test_a_rejected_post_without_csrf_token_sends_nothing(served_emu: Emulator) -> None:
    response = Client(enforce_csrf_checks=True).post("/", {"last_name": "Atreides"})

    assert response.status_code == 403
    assert served_emu.requests == []
