"""Typed usage of the core API: checked by `mypy --strict` and pyright, never executed.

Each `# type: ignore[code]` marks a line that MUST be a type error: mypy's
`warn_unused_ignores` (part of --strict) fails the check if it stops being one, and so does
pyright, with `reportUnnecessaryTypeIgnoreComment` turned on for this file below.
"""

# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

import datetime
from typing import Any

from typing_extensions import assert_type

import sequin_orm
from sequin_orm import CommitResult, SaveResult, Session
from sequin_orm.errors import CommitError, UnprocessableEntityError
from sequin_orm.fields import Field
from sequin_orm.models import salesforce
from sequin_orm.proxy import Proxy, ProxyResponse


def typed_constructor_and_fields() -> None:
    contact = salesforce.Contact(FirstName="Paul", LastName="Atreides", Email="p@arrakis.org")
    assert_type(contact.FirstName, str | None)
    assert_type(contact.Birthdate, datetime.date | None)
    assert_type(contact.upstream_id, str | None)
    assert_type(contact.deleted, bool | None)
    assert_type(contact.stream_id, str | None)
    assert_type(contact.inserted_at, str | None)
    assert_type(contact.sync_external_id, str | None)
    assert_type(contact.sync_metadata, dict[str, Any] | None)
    assert_type(contact.changed_fields, set[str])
    salesforce.Contact(Email=5)  # type: ignore[arg-type]
    salesforce.Contact(Nickname="Usul")  # type: ignore[call-arg]
    salesforce.Contact("Paul")  # type: ignore[call-arg]
    contact.DoNotCall = "yes"  # type: ignore[assignment]


def typed_attribute_assignment() -> None:
    contact = salesforce.Contact(LastName="Atreides")
    contact.Email = "muaddib@arrakis.org"
    contact.Email = None
    contact.Birthdate = datetime.date(1990, 4, 2)
    assert_type(salesforce.Contact.Email, Field[str | None])
    contact.Emial = "x"  # type: ignore[attr-defined]  # a misspelt field
    contact.Email = 1  # type: ignore[assignment]  # a wrong type
    contact.Birthdate = "1990-04-02"  # type: ignore[assignment]
    contact.Id = "003000000000001AAA"  # type: ignore[assignment]  # read-only
    contact.upstream_id = "003"  # type: ignore[misc]  # record metadata
    contact.extra["Spice__c"] = 42  # undeclared keys go in extra


def refs_are_typed_models() -> None:
    contact = salesforce.Contact.ref("0031U00000Qn2ZVQAZ", sync_id="s1")
    assert_type(contact, salesforce.Contact)
    contact.Email = "muaddib@arrakis.org"
    assert_type(contact.save(), SaveResult)
    assert_type(salesforce.Account.ref("001").delete(), SaveResult)
    salesforce.Contact.ref(5)  # type: ignore[arg-type]
    salesforce.Contact.ref("003", "s1")  # type: ignore[call-arg]  # sync_id is keyword-only


def proxy_calls_are_typed(client: sequin_orm.Client) -> None:
    proxy = client.proxy("sync-1")
    assert_type(proxy, Proxy)
    answer = proxy.request("POST", "/v1/refunds", json={"charge": "ch_1"}, params={"expand": "x"})
    assert_type(answer, ProxyResponse)
    assert_type(answer.content, bytes)
    proxy.request("GET")  # type: ignore[call-arg]  # the path is required
    proxy.request("GET", "/v1/customers", {"a": 1})  # type: ignore[call-arg]  # json= is keyword-only


def references_accept_models() -> None:
    account = salesforce.Account(Name="Atreides")
    contact = salesforce.Contact(LastName="Paul", AccountId=account)
    contact.AccountId = "001000000000001AAA"
    contact.AccountId = salesforce.Contact(LastName="x")  # type: ignore[assignment]


def results_are_typed(client: sequin_orm.Client) -> None:
    contact = salesforce.Contact(LastName="Atreides")
    assert_type(contact.save(), SaveResult)
    assert_type(contact.save(await_consumer_ids=["c"], await_consumers_timeout=1000), SaveResult)
    with Session(client) as session:
        contact.save()
        assert_type(session.new, tuple[sequin_orm.Model, ...])
    assert_type(session.commit(), CommitResult)
    try:
        session.commit()
    except CommitError as error:
        assert_type(error.result, CommitResult)
    loaded = salesforce.Contact.from_record({"upstream_id": "003", "data": {}})
    assert_type(loaded, salesforce.Contact)


def errors_are_typed(error: UnprocessableEntityError) -> None:
    assert_type(error.status_code, int)
    assert_type(error.validation_errors, dict[str, list[str]])
