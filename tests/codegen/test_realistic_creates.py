"""Every bundled model takes a realistic create: the shape the provider's create accepts.

One test per provider builds a create for each of its bundled classes (a test fails when a
class has none), commits them in one session against the emulator, and checks the bodies
sent. Where a create takes another shape than records carry (Stripe ``Subscription.items``,
GitHub ``PullRequest.head``/``base`` and ``Issue.milestone``) the model takes the create
shape. Create-only fields (Stripe ``Price.unit_amount``, Salesforce ``Lead.IsConverted``,
Shopify order totals) are sent on create and refused in updates.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import sequin_orm
from sequin_orm import Model, Session
from sequin_orm.codegen.generator import generate_module
from sequin_orm.codegen.schema import SchemaError, parse_schema
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ModelError
from sequin_orm.fields import fields_of
from sequin_orm.models import github, hubspot, linear, salesforce, shopify, stripe
from sequin_orm.record import check_sendable

TOKEN = "creates-token"


def _salesforce() -> list[Model]:
    account = salesforce.Account(Name="House Atreides", Industry="Agriculture", Phone="555-0100")
    contact = salesforce.Contact(
        FirstName="Paul",
        LastName="Atreides",
        Email="paul@arrakis.org",
        AccountId=account,
        Birthdate=datetime.date(1990, 4, 2),
        RecordTypeId="012000000000001AAA",
    )
    campaign = salesforce.Campaign(Name="Spice Harvest", IsActive=True)
    return [
        account,
        contact,
        campaign,
        salesforce.CampaignMember(CampaignId=campaign, ContactId=contact, Status="Sent"),
        salesforce.Case(Subject="Stillsuit leak", Origin="Web", AccountId=account),
        salesforce.Event(
            Subject="Council",
            StartDateTime=datetime.datetime(2024, 5, 1, 9, tzinfo=datetime.timezone.utc),
            DurationInMinutes=60,
        ),
        salesforce.Lead(
            LastName="Idaho", Company="Ginaz", IsConverted=False, RecordTypeId="012000000000002AAA"
        ),
        salesforce.Note(ParentId=account, Title="Water debt", Body="Paid in full."),
        salesforce.Opportunity(
            Name="Melange contract",
            CloseDate=datetime.date(2024, 12, 31),
            StageName="Prospecting",
            Amount=1000000.0,
            AccountId=account,
        ),
        salesforce.Task(
            Subject="Call Gurney", ActivityDate=datetime.date(2024, 6, 1), WhoId=contact
        ),
        salesforce.User(
            Username="stilgar@sietch.tabr",
            LastName="Stilgar",
            Alias="stil",
            Email="stilgar@sietch.tabr",
            ProfileId="00e000000000001AAA",
            TimeZoneSidKey="America/Los_Angeles",
            LocaleSidKey="en_US",
            LanguageLocaleKey="en_US",
            EmailEncodingKey="UTF-8",
        ),
    ]


def _hubspot() -> list[Model]:
    product = hubspot.Product(name="Stillsuit", price="1200.00", hs_sku="SS-1")
    return [
        hubspot.Company(name="CHOAM", domain="choam.org", city="Kaitain"),
        hubspot.Contact(firstname="Jessica", lastname="Atreides", email="jessica@arrakis.org"),
        hubspot.Deal(dealname="Spice futures", dealstage="appointmentscheduled", amount="5000"),
        product,
        hubspot.LineItem(name="Stillsuit", hs_product_id=product, quantity="2", price="1200.00"),
        hubspot.Ticket(subject="Sandworm sighting", hs_pipeline_stage="1", hs_pipeline="0"),
    ]


def _stripe() -> list[Model]:
    customer = stripe.Customer(email="leto@arrakis.org", name="Leto Atreides")
    product = stripe.Product(name="Spice subscription")
    price = stripe.Price(
        product=product,
        currency="usd",
        unit_amount=2500,
        recurring={"interval": "month"},
    )
    return [
        customer,
        product,
        price,
        stripe.Subscription(customer=customer, items=[{"price": "price_1Spice", "quantity": 1}]),
        stripe.Invoice(customer=customer, collection_method="send_invoice", due_date=1735603200),
        stripe.PaymentIntent(amount=2500, currency="usd", customer=customer),
        stripe.Charge(amount=2500, currency="usd", customer=customer, description="Spice"),
    ]


def _shopify() -> list[Model]:
    return [
        shopify.Customer(first_name="Chani", last_name="Kynes", email="chani@sietch.tabr"),
        shopify.Product(title="Crysknife", vendor="Fremen", status="draft"),
        shopify.Order(
            email="chani@sietch.tabr",
            line_items=[{"title": "Crysknife", "price": "74.99", "quantity": 1}],
            financial_status="paid",
            total_price="74.99",
            currency="USD",
        ),
    ]


def _github() -> list[Model]:
    return [
        github.Repository(name="sietch-tabr", private=True, description="Water accounting"),
        github.Issue(title="Count the water", labels=["bug"], milestone=3),
        github.PullRequest(title="Fix the count", head="stilgar:water", base="main"),
    ]


def _linear() -> list[Model]:
    project = linear.Project(name="Terraforming", teamIds=["team-1"])
    return [
        project,
        linear.Issue(title="Plant grass on the dunes", teamId="team-1", projectId=project),
    ]


CASES: dict[str, Callable[[], list[Model]]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
    "stripe": _stripe,
    "shopify": _shopify,
    "github": _github,
    "linear": _linear,
}


def _classes(provider: str) -> set[type[Model]]:
    module = importlib.import_module(f"sequin_orm.models.{provider}")
    found = (getattr(module, name) for name in module.__all__)
    return {cls for cls in found if isinstance(cls, type) and issubclass(cls, Model)}


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(TOKEN)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[sequin_orm.Client]:
    with emulator.serve() as url, sequin_orm.Client(TOKEN, url) as client:
        yield client


@pytest.mark.parametrize("provider", sorted(CASES))
def test_a_realistic_create_of_every_bundled_object(
    provider: str, emulator: Emulator, client: sequin_orm.Client
) -> None:
    objects = CASES[provider]()
    assert {type(o) for o in objects} == _classes(provider), "a bundled class has no create"
    collections = sorted({o.collection_id for o in objects})
    sync_id = str(emulator.create_sync(provider, collections)["id"])
    expected = {id(o): _given(o) for o in objects}
    with Session(client, sync_id=sync_id) as session:
        for obj in objects:
            obj.save()
    assert session.last_result is not None and not session.last_result.errors
    assert all(o.upstream_id and not o.is_dirty for o in objects)
    sent = _created_data(emulator)
    for obj in objects:
        assert _matches(sent[obj.collection_id], expected[id(obj)]), obj


def _given(obj: Model) -> dict[str, Any]:
    """What the create of ``obj`` must carry, by wire key; references left out (their ids are
    not known before the commit)."""
    values = ((f.key, getattr(obj, f.name)) for f in fields_of(type(obj)) if not f.read_only)
    return {
        key: value for key, value in values if value is not None and not isinstance(value, Model)
    }


def _created_data(emulator: Emulator) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for request in emulator.mutation_requests("create"):
        body = request.json
        found.setdefault(body["collection_id"], []).extend(r["data"] for r in body["records"])
    return found


def _matches(sent: list[dict[str, Any]], given: dict[str, Any]) -> bool:
    def wire(value: Any) -> Any:
        return (
            value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime.date) else value
        )

    def flat(data: dict[str, Any]) -> dict[str, Any]:
        nested = data.get("properties")
        return {**data, **{f"properties.{k}": v for k, v in (nested or {}).items()}}

    return any(all(flat(d).get(k) == wire(v) for k, v in given.items()) for d in sent)


# --- create shape vs read shape ---------------------------------------------------------------


def test_create_shapes_are_sent_as_given() -> None:
    subscription = stripe.Subscription(customer="cus_1", items=[{"price": "price_1"}])
    assert subscription.create_data()["items"] == [{"price": "price_1"}]
    pull = github.PullRequest(title="t", head="feature", base="main")
    assert (pull.create_data()["head"], pull.create_data()["base"]) == ("feature", "main")
    assert github.Issue(title="t", milestone=7).create_data()["milestone"] == 7


def test_read_shapes_still_load() -> None:
    record = {
        "collection_id": "stripe:subscription",
        "upstream_id": "sub_1",
        "data": {"id": "sub_1", "items": {"object": "list", "data": [{"id": "si_1"}]}},
    }
    subscription = stripe.Subscription.from_record(record)
    assert subscription.items == {"object": "list", "data": [{"id": "si_1"}]}
    subscription.items = [{"id": "si_1", "quantity": 2}]  # an update sends the write shape
    assert subscription.update_data() == {"items": [{"id": "si_1", "quantity": 2}]}


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (stripe.Price, "unit_amount", 3000),
        (stripe.Price, "currency", "eur"),
        (salesforce.Lead, "IsConverted", True),
        (shopify.Order, "total_price", "10.00"),
        (github.PullRequest, "head", "other-branch"),
        (salesforce.CampaignMember, "CampaignId", "701000000000001AAA"),
    ],
)
def test_create_only_fields_are_refused_on_persistent_objects(
    cls: type[Model], field: str, value: Any
) -> None:
    obj = cls.ref("upstream-1")
    with pytest.raises(ModelError, match=rf"{cls.__name__}\.{field} is set when the record is"):
        setattr(obj, field, value)
    assert not obj.is_dirty


def test_create_only_fields_are_sent_on_create() -> None:
    price = stripe.Price(currency="usd", unit_amount=2500, nickname="Monthly")
    assert price.create_data() == {"currency": "usd", "unit_amount": 2500, "nickname": "Monthly"}
    lead = salesforce.Lead(LastName="Idaho", Company="Ginaz", IsConverted=True)
    assert lead.create_data()["IsConverted"] is True


def test_an_in_place_change_of_a_create_only_field_is_refused_before_sending() -> None:
    record = {"collection_id": "stripe:price", "upstream_id": "price_1", "data": {"id": "price_1"}}
    record["data"]["recurring"] = {"interval": "month"}
    price = stripe.Price.from_record(record)
    assert price.recurring is not None
    price.recurring["interval"] = "year"
    with pytest.raises(ModelError, match=r"Price\.recurring is set when the record is created"):
        check_sendable([price])
    price.nickname = "Yearly"  # updatable fields stay updatable
    assert "nickname" in price.update_data()


def _one_field(metadata: dict[str, Any]) -> dict[str, Any]:
    field = {"accessor": "amount", "type": "object", "metadata": metadata}
    return {"id": "stripe:thing", "fields": [field]}


def test_schema_flags_are_checked_and_generated() -> None:
    schema = parse_schema(_one_field({"create_only": True, "write_type": "integer"}))
    text = generate_module(schema, source_name="t.json", source_sha256="0" * 64)
    assert "amount: Field[dict[str, Any] | int | None] = Field(dict, int, create_only=True)" in text
    assert "Set on create only." in text
    with pytest.raises(SchemaError, match="read_only or create_only, not both"):
        parse_schema(_one_field({"create_only": True, "read_only": True}))
    with pytest.raises(SchemaError, match="write_type: expected one of"):
        parse_schema(_one_field({"write_type": "reference"}))
