"""Per-provider rules: names, batch limits, default rate limits and validation.

Everything the emulator knows about a provider's behaviour lives here, so the client can
mirror it (``BATCH_LIMITS``) and tests can read the rules in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from sequin_orm.emulator.jsonutil import JSONObject, get_path

DISPLAY_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "airtable": "Airtable",
        "auth0": "Auth0",
        "github": "GitHub",
        "hubspot": "HubSpot",
        "linear": "Linear",
        "marketo": "Marketo",
        "netsuite": "NetSuite",
        "quickbooks": "QuickBooks",
        "salesforce": "Salesforce",
        "sendgrid": "SendGrid",
        "servicenow": "ServiceNow",
        "shopify": "Shopify",
        "stripe": "Stripe",
        "workday": "Workday",
    }
)
"""Every provider the emulator accepts, with the name used in error messages."""

PROVIDERS: Final[tuple[str, ...]] = tuple(DISPLAY_NAMES)

DEFAULT_BATCH_LIMIT: Final = 100
"""Records (or upstream ids) per mutation request for providers without their own limit."""

BATCH_LIMITS: Final[Mapping[str, int]] = MappingProxyType(
    {provider: DEFAULT_BATCH_LIMIT for provider in PROVIDERS} | {"salesforce": 200, "airtable": 10}
)
"""Maximum records (or upstream ids) per ``/v1/mutations/run`` request, by provider."""

DEFAULT_RATE_LIMITS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType(
    {
        "salesforce": {"allowed_requests": 28800, "interval": 86400, "max_concurrent_requests": 0},
        "stripe": {"allowed_requests": 2, "interval": 1, "max_concurrent_requests": 0},
        "airtable": {"allowed_requests": 3, "interval": 1, "max_concurrent_requests": 0},
        "hubspot": {"allowed_requests": 100, "interval": 10, "max_concurrent_requests": 0},
        "github": {"allowed_requests": 5000, "interval": 3600, "max_concurrent_requests": 0},
    }
)
"""Rate limit given to a new sync that does not send one (``interval`` in seconds)."""

FALLBACK_RATE_LIMIT: Final[Mapping[str, int]] = MappingProxyType(
    {"allowed_requests": 100, "interval": 60, "max_concurrent_requests": 0}
)

REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "salesforce:contact": ("LastName",),
        "salesforce:lead": ("LastName",),
        "salesforce:account": ("Name",),
    }
)
"""Fields that a create must carry and an update may not set to null or ``""``."""

EMAIL_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {"salesforce": "Email", "stripe": "email", "hubspot": "properties.email"}
)
"""The (dotted) key holding an email address in any collection of the provider."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def display_name(provider: str) -> str:
    """``"hubspot"`` -> ``"HubSpot"``; unknown providers are capitalised."""
    return DISPLAY_NAMES.get(provider, provider.capitalize())


def batch_limit(provider: str) -> int:
    """The mutation batch limit for ``provider``."""
    return BATCH_LIMITS.get(provider, DEFAULT_BATCH_LIMIT)


def default_rate_limit(provider: str) -> dict[str, int]:
    """A fresh copy of the default rate limit for ``provider``."""
    return dict(DEFAULT_RATE_LIMITS.get(provider, FALLBACK_RATE_LIMIT))


def provider_of_collection(collection_id: str) -> str:
    """``"salesforce:contact"`` -> ``"salesforce"``."""
    return collection_id.partition(":")[0]


def provider_of_kind(kind: str) -> str | None:
    """The provider of a credential kind: ``stripe_key`` -> ``stripe``; ``None`` if unknown."""
    for provider in PROVIDERS:
        if kind == provider or kind.startswith(provider + "_"):
            return provider
    return None


def validate(collection_id: str, data: JSONObject, *, creating: bool) -> str | None:
    """The upstream validation message for ``data`` (a create or a patch), or ``None``."""
    for field in REQUIRED_FIELDS.get(collection_id, ()):
        found, value = get_path(data, field)
        if (creating and not found) or (found and _blank(value)):
            return f"Required fields are missing: [{field}]"
    email_field = EMAIL_FIELDS.get(provider_of_collection(collection_id))
    if email_field is not None:
        found, value = get_path(data, email_field)
        if found and value is not None and not (isinstance(value, str) and _EMAIL.match(value)):
            return "Invalid email"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
