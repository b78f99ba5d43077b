"""``Model.objects``: paging ``GET /v1/records`` against the emulator (both front doors).

``client`` and ``emulator`` come from ``tests/conftest.py``; the Salesforce sync is ``sync-sf``.
"""

from __future__ import annotations

from typing import Any

import pytest

import sequin_orm
from sequin_orm import Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import APIResponseValidationError, ModelError, NotFoundError
from sequin_orm.models import salesforce
from sequin_orm.reading import RecordManager, RecordPage, parse_records_page, records_params

SF = "sync-sf"


def _contacts(emulator: Emulator, count: int, sync_id: str = SF) -> list[str]:
    """Create ``count`` contacts upstream; their upstream ids in stream order."""
    return [
        str(
            emulator.create_record(
                sync_id, "salesforce:contact", {"FirstName": f"C{i}", "LastName": "Harkonnen"}
            )["upstream_id"]
        )
        for i in range(count)
    ]


def _record_requests(emulator: Emulator) -> list[dict[str, str]]:
    return [r.query for r in emulator.requests if r.path == "/v1/records"]


def test_iter_follows_the_cursor_until_an_empty_page(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    ids = _contacts(emulator, 5)
    contacts = list(salesforce.Contact.objects.using(client).iter(limit=2))
    assert [c.upstream_id for c in contacts] == ids
    queries = _record_requests(emulator)
    assert [q.get("after_cursor") is None for q in queries] == [True, False, False, False]
    assert all(q["collection_id"] == "salesforce:contact" and q["limit"] == "2" for q in queries)
    assert len(queries) == 4  # 2 + 2 + 1, then the empty page that ends the walk


def test_iter_is_lazy(client: sequin_orm.Client, emulator: Emulator) -> None:
    _contacts(emulator, 5)
    contacts = salesforce.Contact.objects.using(client).iter(limit=2)
    assert _record_requests(emulator) == []
    next(contacts)
    assert len(_record_requests(emulator)) == 1


def test_loaded_objects_are_clean_models(client: sequin_orm.Client, emulator: Emulator) -> None:
    (upstream_id,) = _contacts(emulator, 1)
    (contact,) = salesforce.Contact.objects.using(client).iter()
    assert isinstance(contact, salesforce.Contact)
    assert contact.state is State.PERSISTENT and not contact.is_dirty
    assert (contact.upstream_id, contact.sync_id, contact.FirstName) == (upstream_id, SF, "C0")
    assert contact.Id == upstream_id and contact.updated_idx is not None


def test_sync_id_filters_and_none_reads_every_sync(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    emulator.create_sync("salesforce", ["salesforce:contact"], id="sync-sf-2")
    mine, other = _contacts(emulator, 2), _contacts(emulator, 1, sync_id="sync-sf-2")
    objects = salesforce.Contact.objects.using(client)
    assert [c.upstream_id for c in objects.iter(sync_id=SF)] == mine
    assert [c.upstream_id for c in objects.iter(sync_id="sync-sf-2")] == other
    assert {c.upstream_id for c in objects.iter()} == {*mine, *other}
    assert {q.get("sync_id") for q in _record_requests(emulator)} == {SF, "sync-sf-2", None}


def test_a_session_shares_objects_through_its_identity_map(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    _contacts(emulator, 2)
    objects = salesforce.Contact.objects.using(client)
    with Session(client) as session:
        first = list(objects.iter())
        first[0].Email = "feyd@giedi.prime"
        again = list(objects.iter())
        assert [a is b for a, b in zip(first, again, strict=True)] == [True, True]
        assert again[0].Email == "feyd@giedi.prime"  # local change kept over the fresh read
        assert session.dirty == (first[0],)
    assert emulator.mutation_requests("update")[-1].json["records"] == [
        {"upstream_id": first[0].upstream_id, "data": {"Email": "feyd@giedi.prime"}}
    ]


def test_without_a_session_every_read_is_a_new_object(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    _contacts(emulator, 1)
    objects = salesforce.Contact.objects.using(client)
    assert next(objects.iter()) is not next(objects.iter())


def test_deleted_records_are_skipped_unless_asked_for(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    gone, kept = _contacts(emulator, 2)
    objects = salesforce.Contact.objects.using(client)
    with Session(client) as session:
        session.delete(objects.get(gone))
    assert [c.upstream_id for c in objects.iter()] == [kept]
    tombstones = [c for c in objects.iter(include_deleted=True) if c.deleted]
    assert [c.upstream_id for c in tombstones] == [gone]
    assert tombstones[0].state is State.DELETED
    with Session(client):  # a tombstone never joins a session
        assert [c.deleted for c in objects.iter(include_deleted=True)] == [False, True]
    with pytest.raises(NotFoundError):
        objects.get(gone)


def test_get_scans_for_an_upstream_id(client: sequin_orm.Client, emulator: Emulator) -> None:
    ids = _contacts(emulator, 3)
    objects = salesforce.Contact.objects.using(client)
    assert objects.get(ids[2]).upstream_id == ids[2]
    with pytest.raises(NotFoundError) as caught:
        objects.get("003000000000000AAA")
    assert caught.value.status_code == 404 and "salesforce:contact" in str(caught.value)


def test_pages_and_raw_records_resume_from_a_cursor(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    ids = _contacts(emulator, 3)
    objects = salesforce.Contact.objects.using(client)
    first = next(objects.iter_pages(limit=2))
    assert isinstance(first, RecordPage) and first.cursor
    assert [r["upstream_id"] for r in first.records] == ids[:2]
    rest = list(objects.iter_records(after_cursor=first.cursor))
    assert [r["upstream_id"] for r in rest] == ids[2:]
    assert rest[0]["collection_id"] == "salesforce:contact" and "data" in rest[0]


def test_the_default_client_serves_model_objects(emulator: Emulator) -> None:
    ids = _contacts(emulator, 1)
    sequin_orm.configure(emulator.token, "http://127.0.0.1", transport=emulator.transport())
    assert isinstance(salesforce.Contact.objects, RecordManager)
    assert [c.upstream_id for c in salesforce.Contact.objects] == ids


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"sync_id": ""}, "sync_id"),
    ],
)
def test_bad_parameters_fail_before_any_request(
    client: sequin_orm.Client, emulator: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        next(salesforce.Contact.objects.using(client).iter(**kwargs))
    with pytest.raises(ModelError):
        salesforce.Contact.objects.using(client).get("")
    assert _record_requests(emulator) == []


# --- pure parts ------------------------------------------------------------------------------


def test_records_params() -> None:
    assert records_params("stripe:customer", sync_id=None, limit=10, after_cursor=None) == {
        "collection_id": "stripe:customer",
        "limit": 10,
    }
    assert records_params("stripe:customer", sync_id="s", limit=1, after_cursor="NjA3") == {
        "collection_id": "stripe:customer",
        "limit": 1,
        "sync_id": "s",
        "after_cursor": "NjA3",
    }


def test_page_shapes() -> None:
    page = parse_records_page({"records": [{"id": "r"}], "cursor": "NjA3"})
    assert page == RecordPage(({"id": "r"},), "NjA3")
    assert parse_records_page({"data": [], "cursor": None}) == RecordPage((), None)
    for bad in ([{"id": "r"}], {"records": "x"}, {"records": [1]}):
        with pytest.raises(APIResponseValidationError):
            parse_records_page(bad)
