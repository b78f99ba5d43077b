"""The generated bundled models: every collection present and typed, lazy imports, and no
record key ever lost (custom, future and nested keys round-trip through ``extra``)."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

import sequin_orm
from sequin_orm import DynamicModel, Model, model_for
from sequin_orm.errors import ModelError, ReadOnlyFieldError
from sequin_orm.fields import specs_of
from sequin_orm.models import github, hubspot, linear, salesforce, shopify, stripe

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "sequin_orm" / "codegen" / "schemas"
MODULES = {
    "github": github,
    "hubspot": hubspot,
    "linear": linear,
    "salesforce": salesforce,
    "shopify": shopify,
    "stripe": stripe,
}


def _collections() -> list[Any]:
    found = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        found += [pytest.param(schema["provider"], c, id=c["id"]) for c in schema["collections"]]
    return found


COLLECTIONS = _collections()


def _model(collection: dict[str, Any]) -> type[Model]:
    return model_for(collection["id"])


@pytest.mark.parametrize(("provider", "collection"), COLLECTIONS)
def test_every_bundled_collection_has_a_typed_class(
    provider: str, collection: dict[str, Any]
) -> None:
    cls = _model(collection)
    assert not issubclass(cls, DynamicModel)
    assert cls.__module__ == f"sequin_orm.models.{provider}"
    assert getattr(MODULES[provider], cls.__name__) is cls
    assert cls.__name__ in MODULES[provider].__all__
    assert (cls.collection_id, cls.provider) == (collection["id"], provider)
    spec = specs_of(cls)  # resolves every annotation
    assert [f.wire_name for f in spec.fields] == [f["accessor"] for f in collection["fields"]]
    hints = typing.get_type_hints(cls)
    for field, schema_field in zip(spec.fields, collection["fields"], strict=True):
        meta = schema_field["metadata"]
        assert field.read_only == bool(meta.get("read_only")), field.name
        assert field.required == bool(meta.get("required") and not meta.get("read_only"))
        assert field.references == meta.get("references")
        if schema_field["type"] == "reference":
            assert field.kind == "reference"
        assert hints[field.name] is not None


def test_the_fields_the_docs_and_tests_rely_on_exist() -> None:
    account = salesforce.Account(Name="Arrakis Spice Co")
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
        WhoId=contact,
    )
    hubspot.Contact(
        firstname="Chani", lastname="Kynes", email="c@sietch.org", phone="1", company="Fremen"
    )
    customer = stripe.Customer(
        email="j@example.com", name="Jessica", description="d", phone="1", balance=-500
    )
    customer.metadata = {"house": "Atreides"}
    assert task.WhoId is contact and contact.AccountId is account
    task.WhoId = "003000000000001AAA"
    assert task.create_data()["WhoId"] == "003000000000001AAA"
    contact.AccountId = "001000000000001AAA"
    assert contact.create_data()["Birthdate"] == "1990-04-02"


def test_model_for_returns_generated_classes_and_dynamic_ones() -> None:
    assert sequin_orm.model_for("salesforce:contact") is salesforce.Contact
    assert model_for("stripe:payment_intent") is stripe.PaymentIntent
    assert model_for("hubspot:line_item") is hubspot.LineItem
    dynamic = model_for("salesforce:my_object__c")
    assert issubclass(dynamic, DynamicModel)
    assert dynamic.collection_id == "salesforce:my_object__c"
    obj = dynamic.from_record({"upstream_id": "a01", "data": {"Name": "x", "Qty__c": 2}})
    assert obj.extra == {"Name": "x", "Qty__c": 2}


def test_importing_sequin_orm_imports_no_provider_module() -> None:
    code = (
        "import sys, sequin_orm, sequin_orm.models\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('sequin_orm.models.'))\n"
        "assert loaded == [], loaded\n"
        "from sequin_orm.models import salesforce\n"
        "assert 'sequin_orm.models.salesforce' in sys.modules\n"
        "assert 'sequin_orm.models.stripe' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- nothing is lost --------------------------------------------------------------------


def _wire_value(field: dict[str, Any]) -> Any:
    """A plausible wire value for a field of the given schema type."""
    kind = field["type"]
    picklist = field["metadata"].get("picklist")
    if picklist:
        return [picklist[0]] if kind == "multipicklist" else picklist[-1]
    return {
        "boolean": True,
        "integer": 7,
        "number": 1.5,
        "currency": 1250.75,
        "percent": 12.5,
        "date": "2024-02-29",
        "datetime": "2024-02-29T12:34:56.000+0000",
        "multipicklist": ["a", "b"],
        "array": [{"k": 1}],
        "object": {"k": {"n": [1, 2]}},
        "any": {"anything": [None]},
    }.get(kind, f"value of {field['accessor']}")


def _assign(data: dict[str, Any], accessor: str, value: Any) -> None:
    *parents, last = accessor.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


@pytest.mark.parametrize(("provider", "collection"), COLLECTIONS)
def test_from_record_keeps_unknown_keys_and_to_data_round_trips(
    provider: str, collection: dict[str, Any]
) -> None:
    cls = _model(collection)
    data: dict[str, Any] = {}
    for field in collection["fields"]:
        _assign(data, field["accessor"], _wire_value(field))
    unknown = {"Custom__c": "custom", "new_api_field": {"nested": [1, {"deep": None}]}}
    data.update(unknown)
    expected_extra: dict[str, Any] = dict(unknown)
    for prefix in {
        f["accessor"].split(".")[0] for f in collection["fields"] if "." in f["accessor"]
    }:
        data[prefix]["custom_property"] = "42"
        expected_extra[prefix] = {"custom_property": "42"}
    snapshot = json.loads(json.dumps(data))
    record = {"upstream_id": "u-1", "collection_id": collection["id"], "data": data}

    obj = cls.from_record(record)

    assert obj.extra == expected_extra
    assert obj.to_data() == snapshot
    assert not obj.is_dirty and obj.update_data() == {}
    assert data == snapshot  # the record was not mutated


def test_typed_values_are_parsed_and_sent_back_in_wire_form() -> None:
    record = {
        "upstream_id": "003",
        "data": {"Id": "003", "Birthdate": "1990-04-02", "CreatedDate": "2024-11-10T18:39:00Z"},
    }
    contact = salesforce.Contact.from_record(record)
    assert contact.Birthdate == datetime.date(1990, 4, 2)
    assert contact.CreatedDate == datetime.datetime(
        2024, 11, 10, 18, 39, tzinfo=datetime.timezone.utc
    )
    contact.Birthdate = datetime.date(1991, 5, 3)
    assert contact.update_data() == {"Birthdate": "1991-05-03"}
    assert contact.to_data()["CreatedDate"] == "2024-11-10T18:39:00Z"


def test_hubspot_properties_are_flat_attributes_sent_nested() -> None:
    record = {
        "upstream_id": "51",
        "data": {
            "id": "51",
            "properties": {"firstname": "Chani", "state": "Arrakis", "custom_x": "1"},
            "archived": False,
            "associations": {"companies": []},
        },
    }
    contact = hubspot.Contact.from_record(record)
    assert (contact.firstname, contact.state_, contact.archived) == ("Chani", "Arrakis", False)
    assert contact.extra == {"properties": {"custom_x": "1"}, "associations": {"companies": []}}
    contact.state_ = "Caladan"
    contact.extra["properties"]["custom_x"] = "2"
    assert contact.update_data() == {"properties": {"state": "Caladan", "custom_x": "2"}}
    assert hubspot.Contact(email="c@sietch.org").create_data() == {
        "properties": {"email": "c@sietch.org"}
    }


def test_read_only_and_required_fields() -> None:
    with pytest.raises(TypeError):
        salesforce.Contact(Id="003")  # type: ignore[call-arg]
    contact = salesforce.Contact.from_record({"upstream_id": "003", "data": {"Id": "003"}})
    with pytest.raises(ReadOnlyFieldError):
        contact.Id = "004"
    with pytest.raises(ModelError, match="LastName"):
        salesforce.Contact(FirstName="Paul").create_data()
    deal = hubspot.Deal(dealname="Spice")
    with pytest.raises(ModelError, match="dealstage"):
        deal.create_data()


def test_renamed_attributes_keep_their_wire_names() -> None:
    issue = github.Issue.from_record({"upstream_id": "1", "data": {"id": 1, "state": "open"}})
    assert issue.state_ == "open"
    assert issue.state is sequin_orm.State.PERSISTENT  # the Model attribute is untouched
    spec = specs_of(github.Issue).by_name["state_"]
    assert spec.wire_name == "state"
