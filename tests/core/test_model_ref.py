"""``Model.ref(upstream_id)``: update or delete a record by id, without reading it first."""

from __future__ import annotations

import pytest

import sequin_orm
from sequin_orm import Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ModelError
from sequin_orm.models import salesforce
from tests.conftest import SYNCS, TOKEN

SF = SYNCS["salesforce"]


@pytest.fixture
def paul(emulator: Emulator) -> str:
    """A contact upstream; its upstream id."""
    record = emulator.create_record(
        SF, "salesforce:contact", {"FirstName": "Paul", "LastName": "Atreides"}
    )
    return str(record["upstream_id"])


def _sent(emulator: Emulator) -> list[tuple[str, object]]:
    return [(r.method + " " + r.path, r.json) for r in emulator.requests]


def test_a_ref_is_persistent_clean_and_holds_no_data() -> None:
    contact = salesforce.Contact.ref("0031U00000Qn2ZVQAZ", sync_id="s1")
    assert contact.state is State.PERSISTENT and not contact.is_dirty
    assert (contact.upstream_id, contact.sync_id) == ("0031U00000Qn2ZVQAZ", "s1")
    assert contact.Email is None and contact.extra == {} and contact.to_data() == {}
    assert repr(contact) == "<Contact 0031U00000Qn2ZVQAZ>"


def test_update_by_id_sends_one_update_and_no_read(
    client: sequin_orm.Client, emulator: Emulator, paul: str
) -> None:
    emulator.clear_requests()
    contact = salesforce.Contact.ref(paul)
    contact.Email = "muaddib@arrakis.org"
    with Session(client):
        contact.save()
    assert _sent(emulator) == [
        (
            "POST /v1/mutations/run",
            {
                "kind": "update",
                "sync_id": SF,
                "collection_id": "salesforce:contact",
                "records": [{"upstream_id": paul, "data": {"Email": "muaddib@arrakis.org"}}],
            },
        )
    ]
    # the answer fills in the record, and upstream kept what was not sent
    assert (contact.FirstName, contact.Email) == ("Paul", "muaddib@arrakis.org")
    assert not contact.is_dirty and contact.sync_id == SF


def test_delete_by_id_outside_a_session(emulator: Emulator, paul: str) -> None:
    sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport())
    emulator.clear_requests()
    result = salesforce.Contact.ref(paul, sync_id=SF).delete()
    assert result.deleted and result.upstream_id == paul
    ((what, body),) = _sent(emulator)
    assert what == "POST /v1/mutations/run"
    assert body == {
        "kind": "delete",
        "sync_id": SF,
        "collection_id": "salesforce:contact",
        "upstream_ids": [paul],
    }
    assert emulator.records("salesforce:contact")[0]["deleted"] is True


def test_a_ref_with_nothing_assigned_sends_nothing(emulator: Emulator, paul: str) -> None:
    sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport())
    emulator.clear_requests()
    assert salesforce.Contact.ref(paul).save().upstream_id == paul
    assert emulator.requests == []


def test_rollback_forgets_what_was_assigned_to_a_ref(client: sequin_orm.Client) -> None:
    contact = salesforce.Contact.ref("003A")
    with Session(client) as session:
        contact.Email = "x@arrakis.org"
        contact.save()
        session.rollback()
    assert contact.Email is None and not contact.is_dirty


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("",), {}, "takes the upstream id"),
        ((None,), {}, "takes the upstream id"),
        (("003A",), {"sync_id": ""}, "sync_id"),
        (("003A",), {"sync_id": 5}, "sync_id"),
    ],
)
def test_bad_ids_are_refused(args: tuple[object], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        salesforce.Contact.ref(*args, **kwargs)  # type: ignore[arg-type]
