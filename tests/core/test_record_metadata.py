"""Record metadata on models: ``stream_id``, ``inserted_at``, the sync's ``external_id`` and
``metadata`` (what users map tenants by), read-only, ``None`` when the record does not say."""

from __future__ import annotations

import pickle
import tracemalloc
from collections import OrderedDict

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce


def test_records_read_carry_the_stream_and_the_sync_tenant(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    sync = emulator.create_sync(
        "salesforce",
        ["salesforce:contact"],
        id="tenant-sync",
        external_id="org_42",
        metadata={"tenant": "atreides", "tier": 2},
    )
    emulator.create_record("tenant-sync", "salesforce:contact", {"LastName": "Atreides"})
    (contact,) = salesforce.Contact.objects.using(client).iter(sync_id="tenant-sync")
    (record,) = emulator.records("salesforce:contact")
    assert contact.provider == record["provider"] == "salesforce"
    assert contact.stream_id == sync["stream_id"] == record["stream_id"]
    assert contact.inserted_at == record["inserted_at"]
    assert contact.sync_external_id == "org_42"
    assert contact.sync_metadata == {"tenant": "atreides", "tier": 2}
    contact.sync_metadata["tier"] = 3  # type: ignore[index]  # a copy: the object keeps its own
    assert contact.sync_metadata == {"tenant": "atreides", "tier": 2}
    copy = pickle.loads(pickle.dumps(contact))
    assert (copy.sync_external_id, copy.stream_id) == ("org_42", sync["stream_id"])


def test_a_constructed_object_has_none() -> None:
    contact = salesforce.Contact(LastName="Idaho")
    assert contact._meta is None  # a plain construction stores nothing for them
    assert (contact.stream_id, contact.inserted_at) == (None, None)
    assert (contact.sync_external_id, contact.sync_metadata) == (None, None)


def test_documented_drift_and_absent_keys() -> None:
    # the /v1/records example says created_at where the record reference says inserted_at
    flat = salesforce.Contact.from_record(
        {"upstream_id": "003A", "sync_id": "s", "created_at": "2024-01-01T00:00:00Z", "data": {}}
    )
    assert flat.inserted_at == "2024-01-01T00:00:00Z"
    assert (flat.stream_id, flat.sync_external_id, flat.sync_metadata) == (None, None, None)
    nested = salesforce.Contact.from_record(
        {"upstream_id": "003B", "sync": {"id": "s", "external_id": None, "metadata": {}}}
    )
    assert (nested.sync_id, nested.sync_external_id, nested.sync_metadata) == ("s", None, {})


def test_an_answer_without_them_keeps_what_was_known(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    emulator.create_sync("salesforce", ["salesforce:contact"], id="t2", external_id="org_7")
    emulator.create_record("t2", "salesforce:contact", {"LastName": "Kynes"})
    (contact,) = salesforce.Contact.objects.using(client).iter(sync_id="t2")
    contact._absorb_record({"upstream_id": contact.upstream_id, "data": {"Title": "Planetologist"}})
    assert contact.sync_external_id == "org_7" and contact.stream_id is not None
    # a record with its sync says what that sync's external id is, null included
    whole = {"upstream_id": contact.upstream_id, "sync": {"id": "t2", "external_id": None}}
    contact._absorb_record({**whole, "data": {}})
    assert contact.sync_external_id is None and contact.stream_id is not None


@pytest.mark.parametrize("name", ["stream_id", "inserted_at", "sync_external_id", "sync_metadata"])
def test_they_are_read_only(name: str) -> None:
    contact = salesforce.Contact(LastName="Idaho")
    with pytest.raises(AttributeError, match=name):  # a property without a setter
        setattr(contact, name, "x")


def test_metadata_of_wrong_types_reads_as_absent_and_json_cannot_break_loading() -> None:
    contact = salesforce.Contact.from_record(
        {
            "upstream_id": "003A",
            "id": 7,  # not a string
            "updated_idx": True,  # a bool is not an index
            "stream_id": "\udc00",  # a lone surrogate: not JSON
            "inserted_at": None,
            "created_at": "2024-11-10T18:39:00Z",  # the /v1/records example's name for it
            "sync": {"id": "s", "external_id": ["x"], "metadata": "not a dict"},
            "data": {"LastName": "Idaho"},
        }
    )
    assert contact.upstream_id == "003A" and contact.sync_id == "s"
    assert contact.record_id is None and contact.updated_idx is None
    assert contact.stream_id is None
    assert contact.inserted_at == "2024-11-10T18:39:00Z"
    assert contact.sync_external_id is None and contact.sync_metadata is None


def test_loaded_objects_hold_little_more_memory_than_their_data() -> None:
    """Packed metadata must stay small (orjson's bytes keep a 4 KiB buffer: a str is kept)."""
    records = [
        {
            "id": f"rec-{i}",
            "upstream_id": f"003{i:015d}",
            "sync": {"id": "sync", "external_id": None, "metadata": {}},
            "stream_id": "stream",
            "inserted_at": "2024-11-10T18:39:00.070453Z",
            "upstream_created_at": "2024-11-10T18:39:00.070453Z",
            "upstream_updated_at": "2024-11-10T18:39:00.070453Z",
            "updated_idx": i,
            "data": {"LastName": f"Idaho {i}", "Email": f"duncan{i}@ginaz.org", "Title": "Sword"},
        }
        for i in range(200)
    ]
    tracemalloc.start()
    try:
        objects = [salesforce.Contact.from_record(r) for r in records]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert objects[0].record_id == "rec-0"
    per_object = held / len(objects)
    # the object, a copy of its data dict and the packed metadata: about 600 bytes
    assert per_object < 1_200, f"{per_object:.0f} bytes per loaded object"


def test_a_later_record_naming_it_created_at_replaces_inserted_at() -> None:
    contact = salesforce.Contact.from_record(
        {"upstream_id": "003A", "inserted_at": "2024-01-01T00:00:00Z", "data": {}}
    )
    contact._absorb_record({"upstream_id": "003A", "created_at": "2025-02-02T00:00:00Z"})
    assert contact.inserted_at == "2025-02-02T00:00:00Z"


def test_a_sync_object_of_a_dict_subclass_names_the_sync() -> None:
    record = {
        "upstream_id": "003A",
        "collection_id": "salesforce:contact",
        "sync": OrderedDict(id="sync-tenant-42"),
        "data": {"LastName": "Idaho"},
    }
    assert salesforce.Contact.from_record(record).sync_id == "sync-tenant-42"
