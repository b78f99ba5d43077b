"""Model base: typed constructor, dirty tracking, extra keys, record metadata, errors."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

import pytest

from sequin_orm import DynamicModel, Model, model_for
from sequin_orm.errors import FieldTypeError, ModelError, ReadOnlyFieldError, UnknownFieldError
from sequin_orm.fields import Field
from sequin_orm.models import hubspot, salesforce, stripe

RECORD: dict[str, Any] = {
    "id": "4e4a5c0a-7d5e-4a7b-9a59-3d6f8b4d2a10",
    "upstream_id": "0031U00000Qn2ZVQAZ",
    "sync_id": "my-sync-id",
    "collection_id": "salesforce:contact",
    "upstream_created_at": "2024-11-10T18:39:00.070453Z",
    "upstream_updated_at": "2024-11-10T18:39:00.070453Z",
    "updated_idx": 2745327037,
    "deleted": False,
    "data": {
        "Id": "0031U00000Qn2ZVQAZ",
        "FirstName": "Paul",
        "LastName": "Atreides",
        "Email": "paul@arrakis.org",
        "Birthdate": "1990-04-02",
        "CreatedDate": "2024-11-10T18:39:00.000+0000",
        "Spice__c": 42,
        "Houses__c": ["Atreides", "Harkonnen"],
    },
}


def test_constructor_sets_fields_and_new_object_is_new() -> None:
    contact = salesforce.Contact(FirstName="Paul", LastName="Atreides")
    assert contact.is_new and contact.is_dirty
    assert contact.upstream_id is None and contact.deleted is None
    assert contact.changed_fields == {"FirstName", "LastName"}
    assert contact.create_data() == {"FirstName": "Paul", "LastName": "Atreides"}


def test_from_record_is_clean_typed_and_keeps_metadata() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    assert not contact.is_dirty and not contact.is_new
    assert contact.changed_fields == set()
    assert contact.upstream_id == "0031U00000Qn2ZVQAZ"
    assert contact.record_id == RECORD["id"]
    assert contact.sync_id == "my-sync-id"
    assert contact.updated_idx == 2745327037
    assert contact.deleted is False
    assert contact.Birthdate == datetime.date(1990, 4, 2)
    assert contact.CreatedDate == datetime.datetime(2024, 11, 10, 18, 39, tzinfo=datetime.UTC)
    assert contact.extra == {"Spice__c": 42, "Houses__c": ["Atreides", "Harkonnen"]}


def test_loaded_dates_are_parsed_when_read_and_a_bad_one_is_kept_as_sent() -> None:
    record = {**RECORD, "data": {**RECORD["data"], "EmailBouncedDate": "not a date"}}
    contact = salesforce.Contact.from_record(record)
    assert contact.EmailBouncedDate == "not a date"  # as sent, never an exception
    assert contact.Birthdate == datetime.date(1990, 4, 2)
    assert contact.Birthdate is contact.Birthdate  # parsed once, then kept
    assert not contact.is_dirty and contact.to_data() == record["data"]
    contact.Birthdate = datetime.date(1991, 5, 3)
    assert contact.update_data() == {"Birthdate": "1991-05-03"}


def test_a_string_for_a_date_field_is_refused_at_construction() -> None:
    # parsed-on-read slots hold wire strings; a string given by the caller is still an error
    with pytest.raises(FieldTypeError, match=r"Contact\.Birthdate takes date"):
        salesforce.Contact(LastName="x", Birthdate="2020-01-01")  # type: ignore[arg-type]
    loaded = salesforce.Contact.from_record(RECORD)
    with pytest.raises(FieldTypeError, match=r"Contact\.EmailBouncedDate"):
        loaded.EmailBouncedDate = "2024-11-10T18:39:00Z"  # type: ignore[assignment]


def test_record_metadata_absent_keys_keep_their_value() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact._absorb_record({"updated_idx": 2745327038, "data": {"Title": "Duke"}})
    assert contact.updated_idx == 2745327038
    assert (contact.upstream_id, contact.record_id, contact.sync_id) == (
        RECORD["upstream_id"],
        RECORD["id"],
        "my-sync-id",
    )
    assert contact.upstream_created_at == RECORD["upstream_created_at"]
    assert contact.deleted is False and contact.Title == "Duke"
    contact._absorb_record({"deleted": True})
    assert contact.deleted is True


def test_round_trip_keeps_every_key_exactly() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    assert contact.to_data() == RECORD["data"]


def test_assignment_marks_only_that_field_and_update_is_a_patch() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.Email = "muaddib@arrakis.org"
    contact.Title = None
    assert contact.changed_fields == {"Email", "Title"}
    assert contact.update_data() == {"Email": "muaddib@arrakis.org", "Title": None}


def test_in_place_changes_of_lists_and_dicts_are_tracked() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.extra["Houses__c"].append("Corrino")
    contact.extra["New__c"] = {"a": 1}
    assert contact.changed_fields == {"Houses__c", "New__c"}
    assert contact.update_data() == {
        "Houses__c": ["Atreides", "Harkonnen", "Corrino"],
        "New__c": {"a": 1},
    }
    assert RECORD["data"]["Houses__c"] == ["Atreides", "Harkonnen"]  # the record is untouched

    customer = stripe.Customer.from_record({"upstream_id": "cus_1", "data": {"metadata": {}}})
    assert customer.metadata is not None
    customer.metadata["plan"] = "gold"
    assert customer.changed_fields == {"metadata"}
    assert customer.update_data() == {"metadata": {"plan": "gold"}}


def test_dates_are_sent_in_iso_format() -> None:
    contact = salesforce.Contact(LastName="Idaho", Birthdate=datetime.date(1980, 1, 31))
    assert contact.create_data() == {"LastName": "Idaho", "Birthdate": "1980-01-31"}


def test_hubspot_properties_are_nested_on_the_wire_and_extra_properties_survive() -> None:
    record = {
        "upstream_id": "51",
        "data": {
            "id": "51",
            "properties": {"firstname": "Chani", "email": "c@sietch.org", "custom_x": "1"},
            "associations": {"companies": []},
        },
    }
    contact = hubspot.Contact.from_record(record)
    assert (contact.firstname, contact.email) == ("Chani", "c@sietch.org")
    assert contact.extra == {"properties": {"custom_x": "1"}, "associations": {"companies": []}}
    assert contact.to_data() == record["data"]
    contact.email = "chani@sietch.org"
    assert contact.update_data() == {"properties": {"email": "chani@sietch.org"}}
    new = hubspot.Contact(firstname="Stilgar")
    assert new.create_data() == {"properties": {"firstname": "Stilgar"}}


def test_wrong_type_is_a_model_error_at_construction_and_assignment() -> None:
    with pytest.raises(FieldTypeError, match=r"Contact\.Email takes str"):
        salesforce.Contact(Email=5)  # type: ignore[arg-type]
    contact = salesforce.Contact(LastName="x")
    with pytest.raises(FieldTypeError):
        contact.DoNotCall = "yes"  # type: ignore[assignment]
    with pytest.raises(ModelError):
        contact.Birthdate = "2020-01-01"  # type: ignore[assignment]
    assert contact.changed_fields == {"LastName"}


def test_unknown_attribute_and_read_only_assignment_are_model_errors() -> None:
    contact = salesforce.Contact(LastName="x")
    with pytest.raises(UnknownFieldError, match="extra"):
        contact.Nickname = "Usul"  # type: ignore[attr-defined]
    with pytest.raises(ReadOnlyFieldError):
        contact.Id = "003000000000001AAA"  # type: ignore[misc]
    with pytest.raises(ReadOnlyFieldError):
        contact.upstream_id = "x"  # type: ignore[misc]
    with pytest.raises(ModelError):
        contact.save = None  # type: ignore[method-assign]


def test_read_only_fields_are_never_sent() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    assert "Id" not in contact.update_data()
    contact.FirstName = "Usul"
    assert contact.update_data() == {"FirstName": "Usul"}


def test_required_field_missing_is_caught_before_sending() -> None:
    with pytest.raises(ModelError, match="LastName"):
        salesforce.Contact(FirstName="Paul").create_data()


def test_delete_of_never_saved_object_is_an_error() -> None:
    with pytest.raises(ModelError, match="never saved"):
        salesforce.Contact(LastName="x").delete()


def test_model_for_returns_generated_or_dynamic_models() -> None:
    assert model_for("salesforce:contact") is salesforce.Contact
    dynamic = model_for("salesforce:spice_harvest__c")
    assert issubclass(dynamic, DynamicModel)
    assert dynamic.collection_id == "salesforce:spice_harvest__c"
    assert model_for("salesforce:spice_harvest__c") is dynamic
    obj = dynamic.from_record({"upstream_id": "a01", "data": {"Name": "x", "Tons__c": 3}})
    assert isinstance(obj, DynamicModel)
    assert obj["Tons__c"] == 3
    obj["Tons__c"] = 4
    assert obj.update_data() == {"Tons__c": 4}
    fresh = dynamic(Name="y")
    assert fresh.create_data() == {"Name": "y"}
    with pytest.raises(ModelError):
        model_for("no-colon")


def test_models_are_hashable_by_identity() -> None:
    a = salesforce.Contact(LastName="x")
    b = salesforce.Contact(LastName="x")
    assert a != b and len({a, b}) == 2


class Counter(Model):
    __slots__ = ()
    collection_id: ClassVar[str] = "salesforce:counter__c"
    provider: ClassVar[str] = "salesforce"

    Count__c: Field[int] = Field(int, default=0)
    Tags__c: Field[list[str]] = Field(list, factory=list)


def test_user_defined_models_keep_defaults_and_reject_none_for_non_nullable_fields() -> None:
    counter = Counter()
    assert counter.Count__c == 0 and counter.Tags__c == []
    assert counter.create_data() == {"Count__c": 0, "Tags__c": []}
    with pytest.raises(FieldTypeError, match="Count__c takes int, got NoneType"):
        Counter(Count__c=None)  # type: ignore[arg-type]
    with pytest.raises(FieldTypeError):
        counter.Count__c = None  # type: ignore[assignment]
    loaded = Counter.from_record({"upstream_id": "a01", "data": {"Count__c": 3}})
    assert loaded.Tags__c == [] and loaded.Count__c == 3 and not loaded.is_dirty
