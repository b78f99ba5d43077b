"""Stripe models (hand-written first set; the codegen issue regenerates this module)."""

from __future__ import annotations

from typing import Any, ClassVar

from attrs import define, field

from sequin_orm.fields import meta
from sequin_orm.model import Model

__all__ = ["Customer"]


@define(kw_only=True, eq=False)
class Customer(Model):
    """Stripe customer (``stripe:customer``)."""

    collection_id: ClassVar[str] = "stripe:customer"
    provider: ClassVar[str] = "stripe"

    id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    object: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    created: int | None = field(default=None, init=False, metadata=meta(read_only=True))
    email: str | None = None
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    balance: int | None = None
    metadata: dict[str, Any] | None = None
