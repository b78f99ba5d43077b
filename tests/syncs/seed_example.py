"""The create-sync example of the docs (../shared/seeds/003, https://sequin.io/docs/management-api/syncs/create).

Copied verbatim: the request body of the curl example and the documented response.
"""

from __future__ import annotations

from typing import Any

SECRET = "sk_live_7eC39HqLyjWDarjtT1zdp7dc"
STREAM_ID = "f0f70b52-5243-489c-879b-a1ae3f02abfd"
OAUTH_APP_ID = "8ff58ef0-d376-4ae8-b2e2-9f0206aa65b8"


def request_body() -> dict[str, Any]:
    """The ``--data`` of the curl example (a fresh copy each call)."""
    return {
        "provider": "stripe",
        "stream_id": STREAM_ID,
        "name": "Choam Corp - Stripe Production",
        "collection_ids": ["stripe:customer", "stripe:invoice"],
        "rate_limit": {"allowed_requests": 100, "interval": 60, "max_concurrent_requests": 0},
        "credential": {
            "properties": {
                "kind": "stripe_oauth2",
                "secret": SECRET,
                "test": True,
                "name": "Choam Corp - Stripe [Test]",
            },
            "oauth_app_id": OAUTH_APP_ID,
            "metadata": {"custom_credential_property": 42},
        },
        "metadata": {"custom_property": 42},
        "external_id": "{YOUR_EXTERNAL_ID}",
    }


def response_body() -> dict[str, Any]:
    """The documented response (sloppy values included: a HubSpot collection on a Stripe sync)."""
    return {
        "id": "c906b4a4-0cda-4f46-bd80-255f570c195d",
        "provider": "stripe",
        "stream_id": STREAM_ID,
        "name": "Choam Corp - HubSpot Production",
        "status": "active",
        "org_id": "75958cea-c981-4116-9a0d-c1e99e826688",
        "health": {"status": "healthy", "sync_id": "c906b4a4-0cda-4f46-bd80-255f570c195d"},
        "collection_ids": ["hubspot:contact", "hubspot:company"],
        "rate_limit": {"allowed_requests": 1000, "interval": 60, "max_concurrent_requests": 0},
        "credential_id": "27879937-bd5d-490b-a943-edf486b04300",
        "credential": {
            "id": "27879937-bd5d-490b-a943-edf486b04300",
            "provider": "stripe",
            "properties": {
                "kind": "stripe_key",
                "name": "TEST ACCOUNT",
                "secret": "***********",
                "test": True,
            },
            "oauth_app_id": None,
            "oauth_app": {"kind": "sequin"},
            "metadata": {"custom_credential_property": 42},
            "created_at": "2023-12-15 01:29:29",
            "updated_at": "2023-12-15 01:29:29",
        },
        "max_age_days": 365,
        "sync_frequency": "continuous",
        "initial_backfill_completed_at": "2023-12-15 01:29:29",
        "metadata": {"custom_property": 42},
        "created_at": "2023-12-15 01:29:29",
        "updated_at": "2023-12-15 01:29:29",
    }
