"""A record of another collection is never yielded (or loaded) as a model of this one.

The emulator's ``ignore_filters`` fault answers ``/v1/records`` as a server that ignores the
collection filter: every collection comes back. Records pages skip the foreign records with a
``ForeignRecordWarning`` counted in ``page.skipped``; ``from_record`` and consumers'
``record_as`` refuse them with ``ModelError``.
"""

from __future__ import annotations

import pytest

import sequin_orm
from sequin_orm import Consumer
from sequin_orm.consumers import record_as
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ForeignRecordWarning, ModelError
from sequin_orm.models import salesforce, stripe
from sequin_orm.reading import RecordPage, parse_records_page, records_params
from sequin_orm.registry import model_for

SF, ST = "sync-sf", "sync-st"


def _mixed_stream(emulator: Emulator) -> list[str]:
    """Customers and contacts interleaved in the stream; the contacts' upstream ids."""
    contacts = []
    for i in range(3):
        emulator.create_record(ST, "stripe:customer", {"email": f"c{i}@choam.org"})
        record = emulator.create_record(SF, "salesforce:contact", {"LastName": f"L{i}"})
        contacts.append(str(record["upstream_id"]))
    return contacts


def test_a_server_ignoring_the_filter_yields_only_this_collection(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    contacts = _mixed_stream(emulator)
    emulator.inject(path="/v1/records", ignore_filters=True, times=10)
    with pytest.warns(ForeignRecordWarning, match="stripe|other collections"):
        loaded = list(salesforce.Contact.objects.using(client).iter(limit=2))
    assert all(isinstance(c, salesforce.Contact) for c in loaded)
    assert [c.upstream_id for c in loaded] == contacts


def test_pages_count_what_they_skipped(client: sequin_orm.Client, emulator: Emulator) -> None:
    _mixed_stream(emulator)
    emulator.inject(path="/v1/records", ignore_filters=True, times=10)
    with pytest.warns(ForeignRecordWarning):
        pages = list(salesforce.Contact.objects.using(client).iter_pages(limit=2))
    assert sum(p.skipped for p in pages) == 3
    assert sum(len(p.records) for p in pages) == 3
    # a page of foreign records only does not end the walk: its cursor is followed
    assert any(p.skipped and not p.records for p in pages) or len(pages) == 3


def test_the_collection_and_provider_filters_are_sent(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    list(stripe.Customer.objects.using(client).iter())
    (query,) = [r.query for r in emulator.requests if r.path == "/v1/records"]
    assert query["collection_id"] == "stripe:customer" and query["provider"] == "stripe"


def test_the_provider_filter_of_records_params() -> None:
    params = records_params(
        "stripe:customer", sync_id=None, limit=5, after_cursor=None, provider="stripe"
    )
    assert params == {"collection_id": "stripe:customer", "limit": 5, "provider": "stripe"}
    with pytest.raises(ModelError, match="provider must be the provider of stripe:customer"):
        records_params(
            "stripe:customer", sync_id=None, limit=5, after_cursor=None, provider="salesforce"
        )


def test_parse_records_page_skips_foreign_records() -> None:
    payload = {
        "records": [
            {"collection_id": "salesforce:contact", "upstream_id": "003"},
            {"collection_id": "stripe:subscription", "upstream_id": "sub_1"},
            {"upstream_id": "no-collection-named"},
        ],
        "cursor": "NjA3",
    }
    with pytest.warns(ForeignRecordWarning, match="1 record"):
        page = parse_records_page(payload, "salesforce:contact")
    assert [r["upstream_id"] for r in page.records] == ["003", "no-collection-named"]
    assert page.skipped == 1 and not page.exhausted
    assert parse_records_page({"records": [], "cursor": None}, "x:y") == RecordPage((), None)
    assert parse_records_page({"records": []}).exhausted


def test_from_record_refuses_another_collection() -> None:
    record = {"collection_id": "stripe:subscription", "upstream_id": "sub_1", "data": {}}
    with pytest.raises(ModelError, match=r"stripe:subscription record cannot load as Contact"):
        salesforce.Contact.from_record(record)
    assert isinstance(model_for("stripe:subscription").from_record(record), sequin_orm.Model)


def test_record_as_refuses_another_collection(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    consumer = Consumer(str(emulator.create_consumer(id="every")["id"]), client=client)
    emulator.create_record(ST, "stripe:customer", {"email": "a@choam.org"})
    emulator.create_record(SF, "salesforce:contact", {"LastName": "Idaho"})
    customer_message, contact_message = consumer.receive(batch_size=2)
    with pytest.raises(ModelError, match="holds a stripe:customer record, not a Contact"):
        customer_message.record_as(salesforce.Contact)
    assert customer_message.record_as(stripe.Customer).email == "a@choam.org"
    assert contact_message.record_as(salesforce.Contact).LastName == "Idaho"


def test_record_as_of_a_message_without_a_record() -> None:
    raw = {"ack_token": "t", "event": {"collection_id": "salesforce:contact", "event": "created"}}
    with pytest.raises(ModelError, match="holds no record, so no Contact"):
        record_as(raw, None, salesforce.Contact)
