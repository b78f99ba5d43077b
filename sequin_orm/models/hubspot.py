"""HubSpot models (hand-written first set; the codegen issue regenerates this module).

A HubSpot record's ``data`` is the v3 object: property values live under ``properties``.
"""

from __future__ import annotations

from typing import ClassVar

from attrs import define, field

from sequin_orm.fields import meta
from sequin_orm.model import Model

__all__ = ["Contact"]


@define(kw_only=True, eq=False)
class Contact(Model):
    """HubSpot contact (``hubspot:contact``)."""

    collection_id: ClassVar[str] = "hubspot:contact"
    provider: ClassVar[str] = "hubspot"

    id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    firstname: str | None = field(default=None, metadata=meta(wire="properties.firstname"))
    lastname: str | None = field(default=None, metadata=meta(wire="properties.lastname"))
    email: str | None = field(default=None, metadata=meta(wire="properties.email"))
    phone: str | None = field(default=None, metadata=meta(wire="properties.phone"))
    company: str | None = field(default=None, metadata=meta(wire="properties.company"))
