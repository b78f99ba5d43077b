"""The ``demo`` seed: a stream, three syncs and a consumer with fixed ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sequin_orm.emulator.emulator import Emulator

SEEDS: Final = ("demo",)

DEMO_IDS: Final = {
    "stream": "de000000-0000-4000-8000-000000000001",
    "salesforce_credential": "de000000-0000-4000-8000-000000000002",
    "salesforce_sync": "de000000-0000-4000-8000-000000000003",
    "stripe_sync": "de000000-0000-4000-8000-000000000004",
    "hubspot_sync": "de000000-0000-4000-8000-000000000005",
    "consumer": "de000000-0000-4000-8000-000000000006",
}
"""Ids the demo seed uses, the same on every run (so ``.env`` files keep working)."""

SALESFORCE_COLLECTIONS: Final = [
    "salesforce:contact",
    "salesforce:account",
    "salesforce:task",
    "salesforce:lead",
    "salesforce:opportunity",
]


def apply_demo(emulator: Emulator) -> dict[str, str]:
    """Create the demo objects on ``emulator``; returns their ids by name."""
    ids = DEMO_IDS
    emulator.create_stream("demo", id=ids["stream"])
    emulator.create_credential(
        "salesforce",
        id=ids["salesforce_credential"],
        properties={
            "kind": "salesforce",
            "name": "Demo Salesforce",
            "instance_url": "https://demo.my.salesforce.com/",
            "refresh_token": "demo-refresh-token",
        },
    )
    emulator.create_sync(
        "salesforce",
        SALESFORCE_COLLECTIONS,
        "Demo Salesforce",
        id=ids["salesforce_sync"],
        credential_id=ids["salesforce_credential"],
    )
    emulator.create_sync(
        "stripe",
        ["stripe:customer", "stripe:invoice", "stripe:subscription"],
        "Demo Stripe",
        id=ids["stripe_sync"],
    )
    emulator.create_sync(
        "hubspot", ["hubspot:contact", "hubspot:company"], "Demo HubSpot", id=ids["hubspot_sync"]
    )
    emulator.create_consumer(ids["stream"], id=ids["consumer"], name="demo-consumer")
    return dict(ids)
