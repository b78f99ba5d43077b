"""Typed usage of the generated models: checked by `mypy --strict` and pyright, never executed.

Each `# type: ignore[code]` marks a line that MUST be a type error: mypy's
`warn_unused_ignores` (part of --strict) fails the check if it stops being one, and so does
pyright, with `reportUnnecessaryTypeIgnoreComment` turned on for this file below.
"""

# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

import datetime
from typing import Any, Literal

from typing_extensions import assert_type

from sequin_orm import Model
from sequin_orm.models import github, hubspot, linear, salesforce, shopify, stripe


def salesforce_models() -> None:
    account = salesforce.Account(Name="Arrakis Spice Co", AnnualRevenue=1_000_000)
    contact = salesforce.Contact(
        FirstName="Paul",
        LastName="Atreides",
        Email="paul@arrakis.org",
        Phone="+1 555 0100",
        Title="Duke",
        Birthdate=datetime.date(1990, 4, 2),
        DoNotCall=False,
        AccountId=account,
    )
    task = salesforce.Task(
        Subject="Train",
        ActivityDate=datetime.date(2024, 1, 2),
        Description="Gom jabbar",
        Status="Not Started",
        WhoId=contact,  # polymorphic reference: any model or an id
    )
    assert_type(contact.FirstName, str | None)
    assert_type(contact.Birthdate, datetime.date | None)
    assert_type(contact.DoNotCall, bool | None)
    assert_type(contact.AccountId, str | salesforce.Account | None)
    assert_type(contact.CreatedDate, datetime.datetime | None)
    assert_type(account.AnnualRevenue, float | None)
    assert_type(account.NumberOfEmployees, int | None)
    assert_type(task.WhoId, str | Model | None)
    assert_type(account.Industry, salesforce.AccountIndustry | str | None)
    assert_type(salesforce.Contact.collection_id, str)
    task.Status = "Some custom status"  # open picklist: any string
    contact.AccountId = "001000000000001AAA"
    salesforce.Contact(Id="003")  # type: ignore[call-arg]
    salesforce.Contact(Birthdate="1990-04-02")  # type: ignore[arg-type]
    salesforce.Contact(Nickname="Usul")  # type: ignore[call-arg]
    salesforce.Contact("Paul")  # type: ignore[call-arg]
    salesforce.Contact(AccountId=task)  # type: ignore[arg-type]
    contact.DoNotCall = "yes"  # type: ignore[assignment]
    contact.Emial = "x"  # type: ignore[attr-defined]
    contact.Email = 1  # type: ignore[assignment]
    contact.AccountId = task  # type: ignore[assignment]
    account.Industry = "Agriculture"
    account.Industry = "Any other industry"  # open picklist
    contact.AccountId = account


def hubspot_models() -> None:
    contact = hubspot.Contact(
        firstname="Chani", lastname="Kynes", email="c@sietch.org", phone="1", company="Fremen"
    )
    assert_type(contact.firstname, str | None)
    assert_type(contact.state_, str | None)  # "state" is a Model attribute
    assert_type(contact.createdAt, datetime.datetime | None)
    assert_type(contact.archived, bool | None)
    assert_type(contact.extra, dict[str, Any])
    hubspot.Contact(properties={"firstname": "x"})  # type: ignore[call-arg]
    hubspot.Contact(state="CA")  # type: ignore[call-arg]
    contact.email = "chani@sietch.org"  # a nested wire key, a plain attribute
    contact.email = 5  # type: ignore[assignment]
    contact.properties = {}  # type: ignore[attr-defined]
    deal = hubspot.Deal(dealname="Spice", dealstage="closedwon")
    assert_type(deal.dealname, str | None)
    item = hubspot.LineItem(hs_product_id="1")
    assert_type(item.hs_product_id, str | hubspot.Product | None)


def stripe_models() -> None:
    customer = stripe.Customer(
        email="j@example.com",
        name="Jessica",
        description="Reverend Mother",
        phone="1",
        balance=-500,
        metadata={"house": "Atreides"},
        tax_exempt="none",
    )
    assert_type(customer.balance, int | None)
    assert_type(customer.metadata, dict[str, Any] | None)
    assert_type(customer.created, int | None)
    assert_type(customer.tax_exempt, Literal["none", "exempt", "reverse"] | None)
    stripe.Customer(tax_exempt="maybe")  # type: ignore[arg-type]  # closed picklist
    stripe.Customer(balance="5")  # type: ignore[arg-type]
    stripe.Customer(id="cus_1")  # type: ignore[call-arg]
    customer.tax_exempt = "exempt"
    customer.tax_exempt = "maybe"  # type: ignore[assignment]  # closed picklist
    intent = stripe.PaymentIntent(amount=100, currency="usd", customer=customer)
    assert_type(intent.customer, str | stripe.Customer | None)


def other_providers() -> None:
    assert_type(shopify.Product(title="Stillsuit").title, str | None)
    assert_type(github.Issue(title="Bug").number, int | None)
    assert_type(linear.Issue(title="Bug").priority, int | None)
    loaded = github.PullRequest.from_record({"upstream_id": "1", "data": {}})
    assert_type(loaded, github.PullRequest)
