"""Upstream ids in each provider's own format, and Sequin-side ids."""

from __future__ import annotations

import random
import string
import uuid
from typing import Final

SALESFORCE_KEY_PREFIXES: Final = {
    "account": "001",
    "note": "002",
    "contact": "003",
    "user": "005",
    "opportunity": "006",
    "lead": "00Q",
    "task": "00T",
    "event": "00U",
    "campaignmember": "00v",
    "case": "500",
    "campaign": "701",
}
"""Three-character key prefixes of standard Salesforce objects; custom objects use ``a01``."""

STRIPE_PREFIXES: Final = {
    "customer": "cus",
    "invoice": "in",
    "subscription": "sub",
    "product": "prod",
    "price": "price",
    "payment_intent": "pi",
    "charge": "ch",
    "refund": "re",
    "payout": "po",
    "payment_method": "pm",
    "invoiceitem": "ii",
    "subscription_item": "si",
    "setup_intent": "seti",
    "dispute": "dp",
}
"""Stripe id prefixes by object; other objects use the initials of their name."""

NUMERIC_DIGITS: Final = {"hubspot": 11, "shopify": 13, "github": 9}
"""Providers whose ids are numeric strings, with their usual length."""

_ALNUM: Final = string.ascii_letters + string.digits
_CHECKSUM_ALPHABET: Final = string.ascii_uppercase + "012345"


def salesforce_checksum(id15: str) -> str:
    """Extend a 15-character Salesforce id with its 3-character case-insensitivity suffix."""
    suffix = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5]
        flags = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _CHECKSUM_ALPHABET[flags]
    return id15 + suffix


def stripe_prefix(object_name: str) -> str:
    """The id prefix of a Stripe object (``customer`` -> ``cus``)."""
    known = STRIPE_PREFIXES.get(object_name)
    return known or "".join(word[0] for word in object_name.split("_") if word)


def new_uuid() -> str:
    """A random UUID string (Sequin's own ids, Linear ids)."""
    return str(uuid.uuid4())


class UpstreamIds:
    """Issues unique upstream ids per provider format."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._issued: set[str] = set()

    def new(self, provider: str, object_name: str) -> str:
        """A fresh id for a new record of ``provider:object_name``."""
        while True:
            candidate = self._candidate(provider, object_name)
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def _candidate(self, provider: str, object_name: str) -> str:
        if provider == "salesforce":
            prefix = SALESFORCE_KEY_PREFIXES.get(object_name.lower(), "a01")
            return salesforce_checksum(prefix + "8c000" + self._alnum(7))
        if provider == "stripe":
            return f"{stripe_prefix(object_name)}_{self._alnum(14)}"
        if provider == "airtable":
            return "rec" + self._alnum(14)  # Airtable record ids: rec + 14 characters
        digits = NUMERIC_DIGITS.get(provider)
        if digits is not None:
            return str(self._rng.randrange(10 ** (digits - 1), 10**digits))
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _alnum(self, length: int) -> str:
        return "".join(self._rng.choice(_ALNUM) for _ in range(length))
