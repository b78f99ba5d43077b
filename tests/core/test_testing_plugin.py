"""The pytest plugin (sequin_orm.testing) as a user's test suite sees it."""

from __future__ import annotations

from typing import Any

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce
from sequin_orm.testing import REDACTED, scrub_request, scrub_response


def test_sequin_client_is_the_default_client_on_the_emulator(
    sequin_client: sequin_orm.Client, sequin_emulator: Emulator
) -> None:
    assert sequin_orm.get_client() is sequin_client
    contact = salesforce.Contact(LastName="Atreides", Email="paul@arrakis.org")
    contact.save()  # code under test uses the default client: it reaches the emulator
    stored = sequin_emulator.records("salesforce:contact")
    assert [r["upstream_id"] for r in stored] == [contact.upstream_id]
    assert stored[0]["sync_id"] == sequin_emulator.seeded["salesforce_sync"]


def test_sequin_vcr_config_scrubs_token_and_secrets(sequin_vcr_config: dict[str, Any]) -> None:
    assert ("authorization", f"Bearer {REDACTED}") in sequin_vcr_config["filter_headers"]
    assert sequin_vcr_config["match_on"] == ["method", "uri", "body"]

    class Request:
        body = b'{"credential": {"properties": {"kind": "stripe_key", "secret": "sk_live_1"}}}'

    scrubbed = scrub_request(Request())
    assert b"sk_live_1" not in scrubbed.body and b"stripe_key" in scrubbed.body
    response = {"body": {"string": b'{"properties": {"refresh_token": "rt-123"}}'}}
    assert b"rt-123" not in scrub_response(response)["body"]["string"]


def test_recorded_requests_are_filed_under_the_public_api(
    sequin_vcr_config: dict[str, Any],
) -> None:
    class Request:
        uri = "http://127.0.0.1:54321/_emulator/requests?limit=1"
        body = None

    recorded = sequin_vcr_config["before_record_request"](Request())
    assert recorded.uri == "https://api.sequin.io/_emulator/requests?limit=1"
