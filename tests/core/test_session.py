"""Session semantics against the emulator: batching, ordering, partial failure, rollback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any, ClassVar

import pytest

import sequin_orm
from sequin_orm import CommitResult, Model, Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import BadRequestError, CommitError, ModelError
from sequin_orm.fields import Field
from sequin_orm.models import salesforce

from ..conftest import SYNCS, TOKEN


def _mutations(emu: Emulator, kind: str | None = None) -> list[dict[str, Any]]:
    return [r.json for r in emu.mutation_requests(kind)]


def _contacts(n: int, start: int = 0) -> list[salesforce.Contact]:
    return [
        salesforce.Contact(LastName=f"Fremen {i}", Email=f"f{i}@sietch.org")
        for i in range(start, start + n)
    ]


def test_one_request_per_kind_chunked_by_the_provider_limit(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    existing = _contacts(320)
    with Session(client):
        for contact in existing:
            contact.save()
    emulator.clear_requests()

    with Session(client) as session:
        for contact in existing[:300]:
            contact.Title = "Naib"
            contact.save()
        for contact in existing[300:]:
            contact.delete()
        for contact in _contacts(450, start=1000):
            contact.save()
        assert (len(session.new), len(session.dirty), len(session.deleted)) == (450, 300, 20)

    kinds = [b["kind"] for b in _mutations(emulator)]
    assert kinds == ["create"] * 3 + ["update"] * 2 + ["delete"]
    sizes = [len(b["records"]) for b in _mutations(emulator, "create")]
    assert sorted(sizes, reverse=True) == [200, 200, 50]  # a stage's requests go out together
    assert all(
        r["data"] == {"Title": "Naib"} for b in _mutations(emulator, "update") for r in b["records"]
    )
    live = [r for r in emulator.records("salesforce:contact") if not r["deleted"]]
    assert len(live) == 300 + 450


def test_nothing_changed_sends_nothing(client: sequin_orm.Client, emulator: Emulator) -> None:
    contact = salesforce.Contact(LastName="Idaho")
    with Session(client):
        contact.save()
    emulator.clear_requests()
    with Session(client) as session:
        contact.save()
        result = session.commit()
    assert result.requests_sent == 0 and len(result) == 0
    assert emulator.mutation_requests() == []


def test_second_chunk_fails_first_chunk_is_clean_rest_stays_dirty(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    contacts = _contacts(250)
    contacts[210].Email = "not-an-email"
    session = Session(client)
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()
    result: CommitResult = raised.value.result
    assert result.created == contacts[:200]
    assert result.failed == contacts[200:]
    assert all(c.upstream_id and not c.is_dirty for c in contacts[:200])
    assert all(c.is_new and c.upstream_id is None for c in contacts[200:])
    assert "Invalid email" in str(result.errors[0])

    contacts[210].Email = "stilgar@sietch.org"
    emulator.clear_requests()
    retry = session.commit()
    assert retry.created == contacts[200:]
    assert [len(b["records"]) for b in _mutations(emulator)] == [50]
    assert len(emulator.records("salesforce:contact")) == 250


def test_referenced_objects_are_created_first_and_ids_filled_in(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    account = salesforce.Account(Name="House Atreides")
    contacts = [salesforce.Contact(LastName=n, AccountId=account) for n in ("Paul", "Jessica")]
    task = salesforce.Task(Subject="Train", WhoId=contacts[0])
    with Session(client):
        task.save()
        for contact in contacts:
            contact.save()  # the account itself was never added: it is cascaded
    sent = [(b["kind"], b["collection_id"]) for b in _mutations(emulator)]
    assert sent == [
        ("create", "salesforce:account"),
        ("create", "salesforce:contact"),
        ("create", "salesforce:task"),
    ]
    stored = {r["upstream_id"]: r["data"] for r in emulator.records("salesforce:contact")}
    assert {d["AccountId"] for d in stored.values()} == {account.upstream_id}
    assert emulator.records("salesforce:task")[0]["data"]["WhoId"] == contacts[0].upstream_id


class Node(Model):
    collection_id: ClassVar[str] = "salesforce:node__c"
    provider: ClassVar[str] = "salesforce"

    Name: Field[str | None] = Field(str)
    Parent__c: Field[str | Node | None] = Field(str, references="salesforce:node__c")


def test_reference_cycle_is_refused_before_any_request(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    a, b = Node(Name="a"), Node(Name="b")
    a.Parent__c, b.Parent__c = b, a
    session = Session(client)
    session.add(a)
    with pytest.raises(ModelError, match="cycle"):
        session.commit()
    assert emulator.requests == []


def test_created_then_deleted_sends_nothing_updated_then_deleted_sends_delete(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    kept = salesforce.Contact(LastName="Gurney")
    with Session(client):
        kept.save()
    emulator.clear_requests()
    with Session(client):
        ghost = salesforce.Contact(LastName="Ghost")
        ghost.save()
        ghost.delete()
        kept.Title = "Warmaster"
        kept.save()
        kept.delete()
    assert [b["kind"] for b in _mutations(emulator)] == ["delete"]
    assert kept.deleted is True
    with pytest.raises(ModelError, match="deleted"):
        kept.save()


def test_exception_in_block_rolls_back_and_sends_nothing(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    contact = salesforce.Contact(LastName="Yueh")
    with Session(client):
        contact.save()
    emulator.clear_requests()
    with pytest.raises(RuntimeError), Session(client) as session:
        contact.Title = "Traitor"
        contact.save()
        salesforce.Contact(LastName="New").save()
        raise RuntimeError("view failed")
    assert emulator.requests == []
    assert contact.Title is None and not contact.is_dirty
    assert session.new == () and session.dirty == ()


def test_sessions_are_per_thread(client: sequin_orm.Client, emulator: Emulator) -> None:
    seen: dict[int, tuple[Session | None, int]] = {}

    def work(n: int) -> None:
        with Session(client) as session:
            for contact in _contacts(5, start=n * 100):
                contact.save()
            seen[n] = (sequin_orm.current_session(), len(session.new))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sequin_orm.current_session() is None
    assert {n: count for n, (_, count) in seen.items()} == dict.fromkeys(range(4), 5)
    assert len({id(s) for s, _ in seen.values()}) == 4
    assert all(len(b["records"]) == 5 for b in _mutations(emulator))


def test_identity_map_refuses_a_second_copy(client: sequin_orm.Client) -> None:
    original = salesforce.Contact(LastName="Leto")
    with Session(client):
        original.save()
    record = {"upstream_id": original.upstream_id, "sync_id": original.sync_id, "data": {}}
    with Session(client) as session:
        session.add(original)
        assert (
            session.get("salesforce:contact", original.upstream_id or "", original.sync_id or "")
            is original
        )
        assert session.load(salesforce.Contact, record) is original
        with pytest.raises(ModelError, match="already"):
            session.add(salesforce.Contact.from_record(record))


def test_loaded_objects_are_saved_when_changed_and_reverted_on_rollback(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    created = _contacts(3)
    with Session(client):
        for contact in created:
            contact.save()
    records = [r for r in emulator.records("salesforce:contact") if not r["deleted"]]
    emulator.clear_requests()
    with Session(client) as session:
        loaded = [session.load(salesforce.Contact, record) for record in records]
        assert all(obj in session for obj in loaded) and session.dirty == ()
        loaded[0].Title = "Naib"
        loaded[1].Title = "Sayyadina"
        session.rollback()
        assert loaded[1].Title is None and not loaded[1].is_dirty
        loaded[0].Title = "Naib"
        assert session.dirty == (loaded[0],)
    updates = _mutations(emulator, "update")
    assert [b["records"] for b in updates] == [
        [{"upstream_id": loaded[0].upstream_id, "data": {"Title": "Naib"}}]
    ]
    assert not loaded[0].is_dirty


def test_save_and_delete_outside_a_session_are_immediate(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport())
    contact = salesforce.Contact(LastName="Harkonnen", Email="v@giedi.prime")
    created = contact.save()
    assert created.created and created.upstream_id == contact.upstream_id is not None
    assert contact.state is State.PERSISTENT and not contact.is_dirty

    assert contact.save().saved is False  # nothing changed: no request
    contact.Email = "baron@giedi.prime"
    updated = contact.save()
    assert updated.updated and updated.field_names == {"Email"}
    assert _mutations(emulator, "update")[-1]["records"] == [
        {"upstream_id": contact.upstream_id, "data": {"Email": "baron@giedi.prime"}}
    ]
    assert contact.delete().deleted and contact.deleted is True
    assert [b["kind"] for b in _mutations(emulator)] == ["create", "update", "delete"]
    stored = emulator.records("salesforce:contact")[0]
    assert stored["deleted"] is True and stored["data"]["Email"] == "baron@giedi.prime"


def test_bad_email_is_the_documented_400_and_nothing_is_lost(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    contact = salesforce.Contact(LastName="Feyd", Email="feyd-at-giedi")
    session = Session(client)
    session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()
    error = raised.value.result.errors[0]
    assert isinstance(error, BadRequestError) and error.status_code == 400
    assert error.message == "Error: Salesforce validation error: `Invalid email`"
    assert contact.is_new and contact.Email == "feyd-at-giedi" and session.new == (contact,)


class Ticket(Model):
    __slots__ = ()
    collection_id: ClassVar[str] = "acme:ticket"
    provider: ClassVar[str] = "acme"

    Title: Field[str | None] = Field(str)
    Tags: Field[list[str] | None] = Field(list, factory=list)
    Status: Field[str | None] = Field(str, factory=lambda: "open")


def _ticket(title: str) -> dict[str, Any]:
    return {
        "upstream_id": "T1",
        "sync_id": "s1",
        "collection_id": "acme:ticket",
        "data": {"Title": title},
    }


def test_load_refreshes_a_clean_object_whose_defaults_were_read() -> None:
    session = Session()
    ticket = session.load(Ticket, _ticket("v1"))
    assert ticket.Status == "open" and ticket.Tags == [] and not ticket.is_dirty
    assert session.load(Ticket, _ticket("v2")) is ticket
    assert ticket.Title == "v2"
    ticket.Status = "closed"
    assert session.load(Ticket, _ticket("v3")) is ticket
    assert ticket.Title == "v2" and ticket.Status == "closed"  # a local change: not refreshed


def test_cascaded_references_are_created_in_declaration_order_whatever_the_hash_seed() -> None:
    script = (
        "from sequin_orm.models import salesforce\n"
        "from sequin_orm.plan import unsaved_references\n"
        "case = salesforce.Case(Subject='s', AccountId=salesforce.Account(Name='a'),"
        " ContactId=salesforce.Contact(LastName='c'))\n"
        "print([type(r).__name__ for r in unsaved_references(case)])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(4)
    }
    models = {"AccountId": "Account", "ContactId": "Contact"}
    expected = [models[f.key] for f in salesforce.Case._spec.references if f.key in models]
    assert outputs == {f"{expected}\n"}
