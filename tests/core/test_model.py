"""Model base: typed constructor, dirty tracking, extra keys, record metadata, errors."""

from __future__ import annotations

import abc
import asyncio
import datetime
import enum
import functools
import pickle
import uuid
import weakref
from typing import Any, ClassVar

import orjson
import pytest

from sequin_orm import DynamicModel, Model, SaveResult, Session, model_for
from sequin_orm.codec import encode_json
from sequin_orm.errors import FieldTypeError, ModelError, ReadOnlyFieldError, UnknownFieldError
from sequin_orm.fields import Field
from sequin_orm.models import hubspot, salesforce, stripe
from sequin_orm.record import hand_over

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
    assert contact.CreatedDate == datetime.datetime(
        2024, 11, 10, 18, 39, tzinfo=datetime.timezone.utc
    )
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
    contact.FirstName = None  # sent as null
    contact.Title = None  # the record has no Title: it already reads None, nothing changes
    assert contact.changed_fields == {"Email", "FirstName"}
    assert contact.update_data() == {"Email": "muaddib@arrakis.org", "FirstName": None}


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


def test_unknown_attribute_and_read_only_assignment_raise() -> None:
    contact = salesforce.Contact(LastName="x")
    with pytest.raises(AttributeError, match="Nickname"):
        contact.Nickname = "Usul"  # type: ignore[attr-defined]
    with pytest.raises(ReadOnlyFieldError):
        contact.Id = "003000000000001AAA"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="upstream_id"):  # a property without a setter
        contact.upstream_id = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        contact.save = None  # type: ignore[method-assign]
    with pytest.raises(FieldTypeError):
        contact.extra = ["not", "a", "dict"]  # type: ignore[assignment]
    assert contact.changed_fields == {"LastName"}  # nothing above changed the object


class Tagged(abc.ABC):  # a base with its own metaclass
    @abc.abstractmethod
    def tag(self) -> str: ...


class Harvest(Model, Tagged):  # a hand-written model that declares no __slots__
    collection_id = "custom:harvest"
    Spice: Field[int | None] = Field(int)

    def tag(self) -> str:
        return "harvest"

    @functools.cached_property
    def tons(self) -> int:
        return (self.Spice or 0) * 1000


def test_a_model_without_slots_keeps_its_dict_for_its_own_attributes_only() -> None:
    harvest = Harvest(Spice=3)
    harvest._seen = True  # private names and cached properties live in the __dict__
    assert harvest.tons == 3000 and harvest.tag() == "harvest"
    assert weakref.ref(harvest)() is harvest
    with pytest.raises(UnknownFieldError, match="extra"):
        harvest.Spic = 4  # type: ignore[attr-defined]
    with pytest.raises(ReadOnlyFieldError):
        harvest.tag = None  # type: ignore[method-assign,assignment]
    harvest.Spice = 5  # a field still goes through its descriptor
    assert harvest.changed_fields == {"Spice"} and "Spic" not in vars(harvest)


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


def test_assigning_an_equal_value_changes_nothing() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.Email = "paul@arrakis.org"
    contact.Birthdate = datetime.date(1990, 4, 2)  # equal to the loaded wire string
    assert not contact.is_dirty and contact.update_data() == {}
    counter = Counter.from_record({"upstream_id": "a01", "data": {"Count__c": 0}})
    counter.Count__c = False  # 0 and False differ on the wire
    assert counter.changed_fields == {"Count__c"}
    account = salesforce.Account.from_record({"upstream_id": "001", "data": {"AnnualRevenue": 1}})
    account.AnnualRevenue = 1.0
    assert account.update_data() == {"AnnualRevenue": 1.0}


def test_repr_is_short() -> None:
    assert repr(salesforce.Contact(LastName="x")) == "<Contact new>"
    contact = salesforce.Contact.from_record(RECORD)
    assert repr(contact) == "<Contact 0031U00000Qn2ZVQAZ>"
    contact.Email = "muaddib@arrakis.org"
    assert repr(contact) == "<Contact 0031U00000Qn2ZVQAZ dirty={'Email'}>"
    contact._absorb_delete()
    assert repr(contact) == "<Contact 0031U00000Qn2ZVQAZ deleted>"
    unknown = salesforce.Contact(LastName="x")
    unknown._mark_unknown()
    assert repr(unknown) == "<Contact unknown>"


def test_a_datetime_is_refused_for_a_date_field() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    with pytest.raises(
        FieldTypeError, match=r"Contact\.Birthdate takes date or None, got datetime"
    ):
        salesforce.Contact(LastName="x", Birthdate=moment)  # type: ignore[arg-type]
    contact = salesforce.Contact(LastName="x")
    with pytest.raises(FieldTypeError, match=r"Contact\.Birthdate"):
        contact.Birthdate = moment
    assert contact.Birthdate is None


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), "bad \ud800 surrogate", {1: "a"}, {"a"}]
)
def test_values_that_are_not_json_are_refused_before_any_request(value: Any) -> None:
    with pytest.raises(ModelError):
        stripe.Customer(metadata={"x": value})
    customer = stripe.Customer(email="j@example.com")
    with pytest.raises(ModelError):
        customer.metadata = {"x": value}
    if isinstance(value, float):
        with pytest.raises(ModelError, match="not a JSON number"):
            salesforce.Account(Name="x", AnnualRevenue=value)
    if isinstance(value, str):
        with pytest.raises(ModelError, match="surrogate"):
            salesforce.Contact(LastName=value)
    contact = salesforce.Contact(LastName="x")
    contact.extra["Bad__c"] = value
    with pytest.raises(ModelError, match=r"extra\['Bad__c'\]"):
        contact.create_data()
    loaded = salesforce.Contact.from_record(RECORD)
    loaded.extra["Bad__c"] = [value]
    with pytest.raises(ModelError):
        loaded.update_data()
    # a list changed in place is checked when the data is built
    customer = stripe.Customer.from_record({"upstream_id": "cus_1", "data": {"metadata": {}}})
    assert customer.metadata is not None
    customer.metadata["x"] = value
    with pytest.raises(ModelError):
        customer.update_data()


class Text(str):
    """A str subclass, as ORMs and enums hand out."""


class Number(float):
    """A float subclass, like numpy.float64."""


@pytest.mark.parametrize(
    ("cls", "field", "value", "fine", "message"),
    [
        (salesforce.Contact, "Title", Text("bad \ud800 surrogate"), Text("Naib"), "surrogate"),
        (salesforce.Account, "AnnualRevenue", Number("nan"), Number("1.5"), "not a JSON number"),
    ],
)
def test_subclasses_of_json_types_are_checked_like_their_base(
    cls: type[Any], field: str, value: Any, fine: Any, message: str
) -> None:
    required = {"LastName": "x"} if cls is salesforce.Contact else {"Name": "x"}
    with pytest.raises(ModelError, match=message):
        cls(**required, **{field: value})
    obj = cls(**required)
    with pytest.raises(ModelError, match=message):
        setattr(obj, field, value)
    assert getattr(obj, field) is None
    setattr(obj, field, fine)
    assert getattr(obj, field) == fine and field in obj.changed_fields


class Priority(enum.Enum):
    HIGH = "high"


class Ticket(Model):
    """Hand-written fields of types orjson writes itself."""

    __slots__ = ()
    collection_id: ClassVar[str] = "acme:ticket_types"
    provider: ClassVar[str] = "acme"

    Priority: Field[Priority | None] = Field(Priority)
    ExternalKey: Field[uuid.UUID | None] = Field(uuid.UUID)


def test_declared_types_that_are_not_json_types_are_the_models_to_allow() -> None:
    key = uuid.UUID(int=1)
    ticket = Ticket(Priority=Priority.HIGH, ExternalKey=key)
    ticket.Priority = Priority.HIGH
    assert orjson.loads(encode_json(ticket.create_data())) == {
        "Priority": "high",
        "ExternalKey": str(key),
    }


class AuditedTicket(Model):
    """A model whose save() does more (an override)."""

    __slots__ = ()
    collection_id: ClassVar[str] = "acme:audited_ticket"
    provider: ClassVar[str] = "acme"
    calls: ClassVar[list[str]] = []

    Title: Field[str | None] = Field(str)

    def save(self, **options: Any) -> SaveResult:
        AuditedTicket.calls.append("save")
        return super().save(**options)


def test_asave_in_a_session_enqueues_without_calling_a_save_override() -> None:
    ticket = AuditedTicket(Title="Spice")
    session = Session()
    session.activate()
    try:
        result = asyncio.run(ticket.asave())
    finally:
        session.deactivate()
    assert result.pending and ticket in session.new and AuditedTicket.calls == []


def test_an_extra_key_that_a_field_declares_is_refused() -> None:
    contact = salesforce.Contact(LastName="x")
    contact.extra["Email"] = "p@arrakis.org"
    with pytest.raises(ModelError, match=r"collides with the field Email"):
        contact.create_data()
    with pytest.raises(ModelError, match="Email"):
        contact.extra = {"Email": "p@arrakis.org"}
    hs = hubspot.Contact(firstname="Chani")
    hs.extra["properties"] = {"custom_x": "1"}  # an undeclared property: fine
    assert hs.create_data() == {"properties": {"custom_x": "1", "firstname": "Chani"}}
    hs.extra["properties"] = {"email": "c@sietch.org"}  # declared as hubspot.Contact.email
    with pytest.raises(ModelError, match=r"field email \(wire key 'properties.email'\)"):
        hs.create_data()


def test_a_field_assigned_while_its_update_is_in_flight_stays_changed() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.Email = "muaddib@arrakis.org"
    contact.Title = "Duke"
    sent = contact.update_data()
    hand_over([contact])  # the request takes the changed keys (flow.py)
    contact.Email = "usul@sietch.org"  # assigned after the request was built
    contact.Phone = "555"  # changed, and not in the request at all
    contact.extra["Spice__c"] = 43
    answer = {
        **RECORD,
        "updated_idx": RECORD["updated_idx"] + 1,
        "data": {**RECORD["data"], **sent},
    }
    contact._absorb_record(answer, sent)
    assert contact.is_dirty
    assert contact.Email == "usul@sietch.org" and contact.Phone == "555"
    assert contact.Title == "Duke"  # what was sent is clean
    assert contact.changed_fields == {"Email", "Phone", "Spice__c"}
    assert contact.update_data() == {"Email": "usul@sietch.org", "Phone": "555", "Spice__c": 43}
    assert contact.updated_idx == RECORD["updated_idx"] + 1


def test_a_field_assigned_while_its_create_is_in_flight_stays_changed() -> None:
    contact = salesforce.Contact(LastName="Atreides", Email="paul@arrakis.org")
    sent = contact.create_data()
    hand_over([contact])
    contact.Email = "muaddib@arrakis.org"
    contact.Title = "Duke"
    contact.LastName = "Atreides"  # the same value: not a change
    contact._absorb_record({"upstream_id": "003A", "data": {"Id": "003A", **sent}}, sent)
    assert not contact.is_new and contact.upstream_id == "003A"
    assert contact.changed_fields == {"Email", "Title"}
    assert contact.update_data() == {"Email": "muaddib@arrakis.org", "Title": "Duke"}
    # without changes in flight, the answer leaves it clean
    other = salesforce.Contact(LastName="Idaho")
    sent = other.create_data()
    hand_over([other])
    other._absorb_record({"upstream_id": "003B", "data": {"Id": "003B", **sent}}, sent)
    assert not other.is_dirty and other.LastName == "Idaho"
    # an update applied without a record back (_absorb_sent_update) keeps later changes too
    hand_over([contact])
    contact.Email = "usul@sietch.org"
    contact._absorb_sent_update({"Email": "muaddib@arrakis.org", "Title": "Duke"})
    assert contact.changed_fields == {"Email"} and contact.Title == "Duke"


def test_changes_handed_to_a_request_that_failed_are_taken_back() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.Email = "muaddib@arrakis.org"
    (handed,) = hand_over([contact])
    contact.Title = "Duke"  # assigned while the request is out
    contact._take_back(handed)  # not applied
    assert contact.changed_fields == {"Email", "Title"}


def test_loading_keeps_one_dict_until_the_first_assignment() -> None:
    data = dict(RECORD["data"])
    del data["Spice__c"], data["Houses__c"]
    contact = salesforce.Contact._load({**RECORD, "data": data}, adopt=True)
    assert contact._values is data and contact._raw is data  # adopted, not copied
    contact.Title = "Duke"
    assert contact._values is not data and "Title" not in data  # copied on write
    assert contact.to_data() == {**data, "Title": "Duke"}
    contact._revert()
    assert not contact.is_dirty and contact.Title is None


def test_hand_written_models_without_a_generated_init() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'Nope'"):
        Counter(Nope=1)
    counter = Counter(Count__c=3, Tags__c=["a"])
    assert counter.create_data() == {"Count__c": 3, "Tags__c": ["a"]}
    assert counter._owner is None


def test_reference_fields_take_an_id_or_a_model_of_their_collection() -> None:
    account = salesforce.Account(Name="Atreides")
    contact = salesforce.Contact(LastName="Paul", AccountId=account)
    assert contact.AccountId is account
    with pytest.raises(FieldTypeError, match=r"Contact\.AccountId takes str \| salesforce:account"):
        contact.AccountId = salesforce.Contact(LastName="x")  # type: ignore[assignment]
    with pytest.raises(FieldTypeError):
        salesforce.Contact(AccountId=12)  # type: ignore[arg-type]
    task = salesforce.Task(Subject="Train", WhoId=contact)  # polymorphic: any model
    assert task.WhoId is contact
    with pytest.raises(ModelError, match="unsaved Contact"):
        task.create_data()


def test_a_model_pickles_with_its_state_also_while_pending_in_a_session() -> None:
    contact = salesforce.Contact.from_record(RECORD)
    contact.Email = "muaddib@arrakis.org"
    contact.extra["Houses__c"] = ["Atreides"]
    session = Session()
    session.add(contact)  # the session holds it: the copy must not
    copy = pickle.loads(pickle.dumps(contact))
    assert repr(copy) == repr(contact) and copy.state is contact.state
    assert copy.changed_fields == contact.changed_fields == {"Email", "Houses__c"}
    assert copy.to_data() == contact.to_data()
    assert (copy.upstream_id, copy.sync_id, copy.updated_idx, copy.record_id) == (
        contact.upstream_id,
        contact.sync_id,
        contact.updated_idx,
        contact.record_id,
    )
    Session().add(copy)  # pending nowhere: another session may take it
