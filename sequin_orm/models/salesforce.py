"""Salesforce models (hand-written first set; the codegen issue regenerates this module)."""

from __future__ import annotations

import datetime
from typing import ClassVar

from attrs import define, field

from sequin_orm.fields import meta
from sequin_orm.model import Model

__all__ = ["Account", "Contact", "Task"]


@define(kw_only=True, eq=False)
class Account(Model):
    """Salesforce Account (``salesforce:account``)."""

    collection_id: ClassVar[str] = "salesforce:account"
    provider: ClassVar[str] = "salesforce"

    Id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    Name: str | None = field(default=None, metadata=meta(required=True))
    Website: str | None = None
    Phone: str | None = None
    Industry: str | None = None
    NumberOfEmployees: int | None = None
    AnnualRevenue: float | None = None
    CreatedDate: datetime.datetime | None = field(
        default=None, init=False, metadata=meta(read_only=True)
    )


@define(kw_only=True, eq=False)
class Contact(Model):
    """Salesforce Contact (``salesforce:contact``)."""

    collection_id: ClassVar[str] = "salesforce:contact"
    provider: ClassVar[str] = "salesforce"

    Id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    FirstName: str | None = None
    LastName: str | None = field(default=None, metadata=meta(required=True))
    Email: str | None = None
    Phone: str | None = None
    Title: str | None = None
    Birthdate: datetime.date | None = None
    DoNotCall: bool | None = None
    AccountId: str | Account | None = field(
        default=None, metadata=meta(references="salesforce:account")
    )
    CreatedDate: datetime.datetime | None = field(
        default=None, init=False, metadata=meta(read_only=True)
    )


@define(kw_only=True, eq=False)
class Task(Model):
    """Salesforce Task (``salesforce:task``); Sequin's examples use snake_case keys."""

    collection_id: ClassVar[str] = "salesforce:task"
    provider: ClassVar[str] = "salesforce"

    Id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    Subject: str | None = None
    ActivityDate: datetime.date | None = None
    Description: str | None = None
    Status: str | None = None
    WhoId: str | Contact | None = field(
        default=None, metadata=meta(references="salesforce:contact")
    )
