"""The commit's promises attacked: no duplicate create and no lost change when the server or
the caller misbehaves at the worst moment (after applying, before answering).

Faults the emulator produces are injected into it; a server that applies a write and then
answers with something unreadable, reordered or interrupted is the emulator behind a
``Tamper`` transport (a fault no real server produces on demand).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

import sequin_orm
from sequin_orm import Outcome, Session, State
from sequin_orm.config import RetryPolicy
from sequin_orm.emulator import Emulator
from sequin_orm.errors import (
    AuthenticationError,
    CommitError,
    ConfigurationError,
    ModelError,
    RateLimitError,
)
from sequin_orm.flow import CommitFlow
from sequin_orm.identity import IdentityMap
from sequin_orm.models import salesforce, stripe
from sequin_orm.plan import Step

from ..conftest import SYNCS, TOKEN
from .fakeapi import FakeAPI, error
from .test_http_attempts import client as http_client
from .test_http_attempts import dribble, serve

Hook = Callable[[httpx.Request], None]
Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Tamper(httpx.BaseTransport):
    """The emulator's transport with hooks on mutation requests: ``before`` runs before the
    emulator sees the n-th one, ``after`` replaces the answer it gave (the write applied)."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        before: dict[int, Hook] | None = None,
        after: dict[int, Rewrite] | None = None,
    ) -> None:
        self._inner = emulator.transport()
        self._before = before or {}
        self._after = after or {}
        self.mutations = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/mutations/run":
            return self._inner.handle_request(request)
        self.mutations += 1
        number = self.mutations
        if number in self._before:
            self._before[number](request)
        response = self._inner.handle_request(request)
        response.read()
        if number in self._after:
            return self._after[number](request, response)
        return response


def _client(transport: httpx.BaseTransport, **kwargs: Any) -> sequin_orm.Client:
    client = sequin_orm.Client(
        TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=transport, **kwargs
    )
    client.http.sleep = lambda seconds: None
    return client


def _contacts(n: int) -> list[salesforce.Contact]:
    return [salesforce.Contact(LastName=f"Fremen {i}", Email=f"f{i}@sietch.org") for i in range(n)]


def _stored(emulator: Emulator) -> list[dict[str, Any]]:
    return emulator.records("salesforce:contact")


def _created(emulator: Emulator, n: int) -> list[salesforce.Contact]:
    contacts = _contacts(n)
    with Session(_client(emulator.transport())):
        for contact in contacts:
            contact.save()
    return contacts


def _created_id(emulator: Emulator) -> str:
    (created,) = _created(emulator, 1)
    assert created.upstream_id is not None
    return created.upstream_id


def _answer(response: httpx.Response, body: Any) -> httpx.Response:
    return httpx.Response(response.status_code, content=orjson.dumps(body))


def _raise(exc: BaseException) -> Rewrite:
    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        raise exc

    return rewrite


# --- interrupts ---------------------------------------------------------------------------


class Boom(Exception):
    """A foreign exception, as a transport or a signal handler may raise."""


@pytest.mark.parametrize("interruption", [KeyboardInterrupt(), Boom("transport bug")])
def test_an_interrupt_after_an_applied_create_never_creates_twice(
    emulator: Emulator, interruption: BaseException
) -> None:
    contacts = _contacts(3)
    session = Session(_client(Tamper(emulator, after={1: _raise(interruption)})))
    for contact in contacts:
        session.add(contact)
    with pytest.raises(type(interruption)):
        session.commit()

    assert all(c.state is State.UNKNOWN for c in contacts)
    assert session.last_result is not None
    assert session.last_result.unknown == contacts
    assert session.flush().requests_sent == 0  # a re-commit sends nothing
    assert len(_stored(emulator)) == 3


def test_an_interrupt_leaves_updates_and_deletes_pending(emulator: Emulator) -> None:
    kept, gone = _created(emulator, 2)
    kept.Title = "Naib"
    session = Session(_client(Tamper(emulator, before={1: _raise_hook(KeyboardInterrupt())})))
    session.add(kept)
    session.delete(gone)
    with pytest.raises(KeyboardInterrupt):
        session.commit()
    assert kept.changed_fields == {"Title"} and gone in session.deleted

    session.commit()  # what was pending goes out now
    assert [r["data"]["Title"] for r in _stored(emulator) if not r["deleted"]] == ["Naib"]
    assert gone.deleted is True


def _raise_hook(exc: BaseException) -> Hook:
    def hook(request: httpx.Request) -> None:
        raise exc

    return hook


def test_an_exception_from_a_signal_handler_during_a_slow_request(emulator: Emulator) -> None:
    """Over real HTTP: the server applies the create and is slow to answer; SIGALRM's handler
    raises while the client waits."""

    def on_alarm(signum: int, frame: object) -> None:
        raise Boom("alarm")

    emulator.inject(kind="create", latency=1.0)
    contacts = _contacts(3)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        with emulator.serve() as url, sequin_orm.Client(TOKEN, url, syncs=SYNCS) as client:
            session = Session(client)
            for contact in contacts:
                session.add(contact)
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(Boom):
                session.commit()
            signal.setitimer(signal.ITIMER_REAL, 0)
            assert all(c.state is State.UNKNOWN for c in contacts)
            assert session.flush().requests_sent == 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert len(_stored(emulator)) <= 3


# --- answers that cannot be read or matched --------------------------------------------------


def _bad_gzip(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    stream = httpx.ByteStream(b"not gzip")  # decoded (and found bad) when the client reads it
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)


def _deep_json(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    return httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)


def _invalid_utf8(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    return httpx.Response(200, content=b'{"records": ["\xff\xfe"]}')


def _no_upstream_id(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    return _answer(response, {"records": [{**r, "upstream_id": None} for r in records]})


def _other_collection(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    return _answer(response, {"records": [{**r, "collection_id": "stripe:x"} for r in records]})


def _duplicated_id(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    return _answer(response, {"records": [records[0], records[0], *records[2:]]})


@pytest.mark.parametrize(
    "rewrite",
    [_bad_gzip, _deep_json, _invalid_utf8, _no_upstream_id, _other_collection, _duplicated_id],
)
def test_an_unusable_create_answer_makes_the_objects_unknown(
    emulator: Emulator, rewrite: Rewrite
) -> None:
    contacts = _contacts(3)
    session = Session(_client(Tamper(emulator, after={1: rewrite})))
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()

    assert raised.value.result.unknown == contacts
    assert all(c.state is State.UNKNOWN and c.upstream_id is None for c in contacts)
    assert session.flush().requests_sent == 0
    assert len(_stored(emulator)) == 3


def test_update_answers_are_matched_by_upstream_id_not_position(emulator: Emulator) -> None:
    contacts = _created(emulator, 3)
    ids = [c.upstream_id for c in contacts]

    def reverse(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return _answer(response, {"records": response.json()["records"][::-1]})

    with Session(_client(Tamper(emulator, after={1: reverse}))):
        for i, contact in enumerate(contacts):
            contact.Title = f"Title {i}"
            contact.save()
    assert [c.upstream_id for c in contacts] == ids
    assert [c.Title for c in contacts] == ["Title 0", "Title 1", "Title 2"]
    assert not any(c.is_dirty for c in contacts)


def test_an_update_answer_naming_other_ids_changes_no_identity(emulator: Emulator) -> None:
    contacts = _created(emulator, 3)
    ids = [c.upstream_id for c in contacts]
    session = Session(_client(Tamper(emulator, after={1: _duplicated_id})))
    for contact in contacts:
        contact.Title = "Naib"
        session.add(contact)
    result = session.flush()

    assert [c.upstream_id for c in contacts] == ids
    assert result.updated == [contacts[0], contacts[2]]
    assert result.unknown == [contacts[1]] and contacts[1].changed_fields == {"Title"}


# --- changes made while a request is out ----------------------------------------------------


def test_a_field_assigned_while_its_update_is_in_flight_stays_pending(emulator: Emulator) -> None:
    (contact,) = _created(emulator, 1)

    def assign(request: httpx.Request) -> None:
        contact.Title = "Reverend Mother"

    client = _client(Tamper(emulator, before={1: assign}))
    contact.Title = "Naib"
    with Session(client):
        contact.save()
    assert contact.Title == "Reverend Mother"
    assert contact.is_dirty and contact.changed_fields == {"Title"}

    with Session(client):
        contact.save()
    assert _stored(emulator)[0]["data"]["Title"] == "Reverend Mother"
    assert not contact.is_dirty


@pytest.mark.parametrize("answer", ["refused", "applied"])
def test_a_record_loaded_while_its_update_is_in_flight_keeps_the_change(
    emulator: Emulator, answer: str
) -> None:
    contact_id = _created_id(emulator)
    (before,) = _stored(emulator)
    session = Session(_client(Tamper(emulator, before={1: lambda _: reload()})))
    read: list[tuple[bool, str | None]] = []

    def reload() -> None:  # a read through the session while the update is out
        again = session.load(salesforce.Contact, before)
        read.append((again is contact, again.Title))

    contact = session.load(salesforce.Contact, before)
    contact.Title = "Naib"
    if answer == "refused":
        emulator.inject(kind="update", error="Title: upstream validation failed")
    result = session.flush()

    assert read == [(True, "Naib")] and contact.Title == "Naib"
    if answer == "refused":
        assert result.failed == [contact] and contact.changed_fields == {"Title"}
        session.flush()
    else:
        assert result.updated == [contact] and not contact.is_dirty
    assert not contact.is_dirty
    (stored,) = _stored(emulator)
    assert stored["upstream_id"] == contact_id and stored["data"]["Title"] == "Naib"


def test_a_field_assigned_while_its_create_is_in_flight_stays_pending(emulator: Emulator) -> None:
    contact = salesforce.Contact(LastName="Atreides")

    def assign(request: httpx.Request) -> None:
        contact.Title = "Duke"

    with Session(_client(Tamper(emulator, before={1: assign}))):
        contact.save()
    assert contact.upstream_id is not None and contact.Title == "Duke"
    assert contact.changed_fields == {"Title"}


def test_a_dict_changed_in_place_while_an_update_without_it_is_out_stays_pending(
    emulator: Emulator,
) -> None:
    customer = stripe.Customer(name="Irulan", address={"city": "Kaitain"})
    with Session(_client(emulator.transport())):
        customer.save()
    address = customer.address
    assert address is not None

    def move(request: httpx.Request) -> None:  # the update sends only the name
        address["city"] = "Arrakeen"

    with Session(_client(Tamper(emulator, before={1: move}))):
        customer.name = "Princess Irulan"
        customer.save()
    assert customer.name == "Princess Irulan" and customer.address == {"city": "Arrakeen"}
    assert customer.changed_fields == {"address"}
    with Session(_client(emulator.transport())):
        customer.save()
    (stored,) = emulator.records("stripe:customer")
    assert stored["data"]["address"] == {"city": "Arrakeen"}


def test_a_required_field_cleared_while_an_earlier_stage_is_out_is_not_sent(
    emulator: Emulator,
) -> None:
    account = salesforce.Account(Name="Arrakeen")
    contact = salesforce.Contact(LastName="Atreides", AccountId=account)  # a later wave

    def clear(request: httpx.Request) -> None:  # while the account's create is out
        contact.LastName = None

    tamper = Tamper(emulator, before={1: clear})
    session = Session(_client(tamper))
    session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()
    result = raised.value.result
    assert result is not None and result.failed == [contact]
    assert isinstance(result.errors[0], ModelError) and "LastName" in str(result.errors[0])
    assert tamper.mutations == 1  # the contact's create was never sent
    assert account.upstream_id is not None and contact.is_new and _stored(emulator) == []


# --- ownership and re-entrancy ----------------------------------------------------------------


def test_one_object_is_pending_in_one_session_at_a_time(emulator: Emulator) -> None:
    client = _client(emulator.transport())
    contact = salesforce.Contact(LastName="Atreides")
    first, second = Session(client), Session(client)
    first.add(contact)
    with pytest.raises(ModelError, match="expunge"):
        second.add(contact)
    first.expunge(contact)
    second.add(contact)
    assert first.flush().requests_sent == 0
    second.commit()
    assert len(_stored(emulator)) == 1


def test_binding_a_tracked_object_to_a_sync_checks_its_identity_again() -> None:
    unbound = salesforce.Contact.from_record({"upstream_id": "003X", "data": {"LastName": "A"}})
    session = Session(_client(httpx.MockTransport(lambda request: httpx.Response(500))))
    session.add(unbound)  # no sync yet: no identity
    session.load(
        salesforce.Contact, {"upstream_id": "003X", "sync_id": "sync-sf", "data": {"LastName": "A"}}
    )
    with pytest.raises(ModelError, match="already in this session"):
        session.add(unbound, sync_id="sync-sf")


def test_saved_again_after_its_update_a_ref_without_a_sync_keeps_one_identity(
    emulator: Emulator,
) -> None:
    upstream_id = _created_id(emulator)
    session = Session(_client(emulator.transport()))
    ref = salesforce.Contact.ref(upstream_id)  # no sync: no identity until committed
    ref.Title = "Naib"
    session.add(ref)
    session.commit()
    assert ref.sync_id == "sync-sf"
    ref.Title = "Sayyadina"
    session.add(ref)  # tracked as it was: the cheap path of add()
    record = _stored(emulator)[0]
    assert session.load(salesforce.Contact, record) is ref  # the commit gave it its identity
    twin = salesforce.Contact.from_record(record)
    twin.Title = "Reverend Mother"
    with pytest.raises(ModelError, match="already in this session"):
        session.add(twin)
    session.commit()
    assert _stored(emulator)[0]["data"]["Title"] == "Sayyadina"


def test_a_ref_without_a_sync_written_with_the_identity_of_another_object_is_refused(
    emulator: Emulator,
) -> None:
    upstream_id = _created_id(emulator)
    session = Session(_client(emulator.transport()))
    twin = session.load(salesforce.Contact, _stored(emulator)[0])  # in the identity map
    ref = salesforce.Contact.ref(upstream_id)  # no sync: no identity when added
    ref.Title = "Naib"
    session.add(ref)
    sent = len(emulator.requests)
    with pytest.raises(ModelError, match="already in this session"):
        session.commit()  # the commit binds it to the default sync: twin's identity
    assert len(emulator.requests) == sent  # refused before any request
    first, second = salesforce.Contact.ref(upstream_id), salesforce.Contact.ref(upstream_id)
    first.Title, second.Title = "One", "Two"
    other = Session(_client(emulator.transport()))
    other.add(first)
    other.add(second)
    with pytest.raises(ModelError, match="already in this session"):
        other.commit()  # one update request would name the record twice
    assert len(emulator.requests) == sent and twin.Title is None


def test_rolling_back_one_session_keeps_a_change_pending_in_another(emulator: Emulator) -> None:
    (contact,) = _created(emulator, 1)
    client = _client(emulator.transport())
    loader, owner = Session(client), Session(client)
    loader.load(salesforce.Contact, _stored(emulator)[0])
    owner.add(contact)
    contact.Title = "Naib"
    loader.rollback()
    assert contact.changed_fields == {"Title"}
    owner.commit()
    assert _stored(emulator)[0]["data"]["Title"] == "Naib"


def test_two_threads_committing_one_session_never_send_twice(emulator: Emulator) -> None:
    gate = threading.Event()

    def hold(request: httpx.Request) -> None:
        gate.wait(5)

    session = Session(_client(Tamper(emulator, before={1: hold})))
    for contact in _contacts(4):
        session.add(contact)
    errors: list[BaseException] = []

    def commit() -> None:
        try:
            session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=commit) for _ in range(2)]
    threads[0].start()
    while session.last_result is None and not session._committing.locked():
        pass
    threads[1].start()
    threads[1].join(5)
    gate.set()
    threads[0].join(5)

    assert len(errors) == 1 and isinstance(errors[0], ModelError)
    assert "already committing" in str(errors[0])
    assert len(_stored(emulator)) == 4


def test_a_commit_reentered_from_the_transport_is_refused(emulator: Emulator) -> None:
    session: Session

    def reenter(request: httpx.Request) -> None:
        session.commit()

    session = Session(_client(Tamper(emulator, before={1: reenter})))
    for contact in _contacts(2):
        session.add(contact)
    with pytest.raises(ModelError, match="already committing"):
        session.commit()
    assert _stored(emulator) == []  # the re-entrant call sent nothing


# --- errors that say why, retries with bounds -----------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_wrong_token_is_caught_as_authentication_error(concurrency: int) -> None:
    emulator = Emulator(token="right")
    emulator.create_sync("salesforce", ["salesforce:contact"], id=SYNCS["salesforce"])
    client = sequin_orm.Client(
        "wrong",
        "http://127.0.0.1",
        syncs=SYNCS,
        transport=emulator.transport(),
        max_concurrency=concurrency,
    )
    with pytest.raises(AuthenticationError) as raised, Session(client):
        for contact in _contacts(450):  # three requests of 200, 200 and 50
            contact.save()
    result = raised.value.result
    # only the requests already in flight when the first 401 came back were sent
    assert result is not None and result.requests_sent == min(concurrency, 3)
    assert len(result.failed) == 450


def test_commit_error_leads_with_the_first_error_and_chains_it(emulator: Emulator) -> None:
    emulator.inject(kind="create", error="Email: invalid email address")
    with pytest.raises(CommitError) as raised, Session(_client(emulator.transport())):
        salesforce.Contact(LastName="Atreides").save()
    message = str(raised.value)
    assert message.startswith(str(raised.value.__cause__))
    assert "invalid email address" in message and "/v1/mutations/run" in message


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_permanent_429_spends_one_retry_budget_for_the_whole_commit(concurrency: int) -> None:
    api = FakeAPI(*[error(429, {"summary": "slow down"}, {"Retry-After": "1"})] * 50)
    client = api.client(batch_size=10, max_retries=2, max_concurrency=concurrency)
    contacts = _contacts(100)
    session = Session(client)
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()
    result = raised.value.result
    # the first attempts in flight together, then retries until the one budget is spent
    assert len(api.bodies) == result.requests_sent == max(3, concurrency)
    assert isinstance(result.errors[0], RateLimitError)
    assert all(c.is_new for c in contacts) and len(result.failed) == 100


def test_a_plain_500_to_an_awaiting_update_is_retried_not_taken_as_applied() -> None:
    plain_500 = error(500, {"error": "Error: Internal server error"})
    api = FakeAPI(plain_500, plain_500, plain_500)
    contact = salesforce.Contact.from_record(
        {"upstream_id": "0031U00000Qn2ZVQAZ", "sync_id": "sync-sf", "data": {"LastName": "A"}}
    )
    contact.Email = "a@b.org"
    session = Session(api.client(max_retries=2))
    session.add(contact, await_consumer_ids=["c-1"])
    result = session.flush()
    assert len(api.bodies) == 3
    assert contact.changed_fields == {"Email"}  # never marked applied
    assert result.outcome_of(contact) is not None
    assert result.outcome_of(contact).outcome is not Outcome.UPDATED  # type: ignore[union-attr]
    session.commit()  # the script is spent: the echo server applies it now
    assert not contact.is_dirty and api.bodies[-1]["records"][0]["data"] == {"Email": "a@b.org"}


def test_a_server_dribbling_bytes_cannot_hold_a_commit_past_its_timeouts() -> None:
    """Over real HTTP: each attempt is bounded as a whole (timeout=1.0), the retries of an
    update by the retry budget; the commit ends within a few seconds."""
    with serve(dribble(b'{"records": []}' * 20, every=0.5)) as server:
        contact = salesforce.Contact.from_record(
            {"upstream_id": "0031U00000Qn2ZVQAZ", "sync_id": "x", "data": {"LastName": "A"}}
        )
        contact.Email = "a@b.org"
        session = Session(http_client(server.url, max_retries=1))
        session.add(contact)
        started = time.monotonic()
        with pytest.raises(CommitError) as raised:
            session.commit()
    assert time.monotonic() - started < 6
    assert raised.value.result.requests_sent == 2
    assert contact.changed_fields == {"Email"}


def test_a_missing_token_is_refused_before_any_request() -> None:
    api = FakeAPI()
    client = sequin_orm.Client(
        None, "https://api.sequin.io", syncs=SYNCS, transport=httpx.MockTransport(api)
    )
    contact = salesforce.Contact(LastName="Atreides")
    with pytest.raises(ConfigurationError, match="SEQUIN_API_TOKEN"), Session(client):
        contact.save()
    assert api.bodies == [] and contact.is_new


# --- found by review: each was a lost change, a duplicate or a foreign exception --------------


def test_a_request_abandoned_before_it_was_sent_gives_its_changes_back() -> None:
    """An interruption may land after a request was built and before the driver could send
    it; the flow then accounts for it itself (``abandon``)."""
    persistent = salesforce.Contact.from_record(
        {"upstream_id": "0031U00000Qn2ZVQAZ", "sync_id": "sync-sf", "data": {"LastName": "A"}}
    )
    persistent.Email = "a@b.org"
    new = salesforce.Contact(LastName="B")
    for obj, kind in ((persistent, "update"), (new, "create")):
        step = Step(kind, "sync-sf", "salesforce:contact", (obj,))  # type: ignore[arg-type]
        flow = CommitFlow([step], identity=IdentityMap(), policy=RetryPolicy())
        assert flow.next_request() is not None
        flow.abandon(KeyboardInterrupt())
        (outcome,) = flow.result()
        assert outcome.outcome is (Outcome.FAILED if kind == "update" else Outcome.UNKNOWN)
    assert persistent.changed_fields == {"Email"}  # still pending
    assert new.is_unknown  # it may have been sent: never sent again by itself


def test_the_reference_cascade_respects_ownership(emulator: Emulator) -> None:
    client = _client(emulator.transport())
    account = salesforce.Account(Name="Atreides")
    other, session = Session(client), Session(client)
    other.add(account)
    session.add(salesforce.Contact(LastName="Paul", AccountId=account))
    with pytest.raises(ModelError, match="another Session"):
        session.commit()
    assert emulator.mutation_requests() == []


def test_a_contact_referring_to_an_unknown_create_is_held_back_the_rest_goes(
    emulator: Emulator,
) -> None:
    account = salesforce.Account(Name="Atreides")
    account._mark_unknown()
    held = salesforce.Contact(LastName="Paul", AccountId=account)
    free = salesforce.Contact(LastName="Gurney")
    session = Session(_client(emulator.transport()))
    session.add(held)
    session.add(free)
    with pytest.raises(CommitError, match="references was not created"):
        session.commit()
    assert free.upstream_id is not None and held.is_new


def _other_sync(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    return _answer(response, {"records": [{**r, "sync_id": "sync-other"} for r in records]})


def _other_nested_sync(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """Records naming their sync only in the ``sync`` object (the documented drift)."""
    records = response.json()["records"]
    nested = [{k: v for k, v in r.items() if k != "sync_id"} for r in records]
    return _answer(response, {"records": [{**r, "sync": {"id": "sync-other"}} for r in nested]})


def _same_nested_sync(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    nested = [{**r, "sync": {"id": r.pop("sync_id")}} for r in records]
    return _answer(response, {"records": nested})


@pytest.mark.parametrize("rewrite", [_other_sync, _other_nested_sync])
def test_a_create_answer_from_another_sync_makes_the_objects_unknown(
    emulator: Emulator, rewrite: Rewrite
) -> None:
    contacts = _contacts(2)
    session = Session(_client(Tamper(emulator, after={1: rewrite})))
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError):
        session.commit()
    assert all(c.is_unknown and c.sync_id is None for c in contacts)


def _deleted_flag(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    records = response.json()["records"]
    return _answer(response, {"records": [{**r, "deleted": True} for r in records]})


def _unhashable_id(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    return _answer(response, {"records": [{"upstream_id": ["x"], "data": {}}]})


def test_an_answer_naming_its_sync_only_in_the_sync_object_is_applied(emulator: Emulator) -> None:
    contacts = _contacts(2)
    session = Session(_client(Tamper(emulator, after={1: _same_nested_sync, 2: _same_nested_sync})))
    for contact in contacts:
        session.add(contact)
    session.commit()
    contacts[0].Title = "Naib"
    session.add(contacts[0])
    session.commit()
    assert all(c.sync_id == SYNCS["salesforce"] and not c.is_dirty for c in contacts)


def _second_too_deep(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """The second record carries an undeclared key nested deeper than Python can copy."""
    first, second = (orjson.dumps(r).decode() for r in response.json()["records"])
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    second = second.replace('"data":{', f'"data":{{"Deep__c":{deep},', 1)
    return httpx.Response(200, content=f'{{"records":[{first},{second}]}}'.encode())


def test_a_create_answer_that_fails_midway_keeps_the_created_objects_identity(
    emulator: Emulator,
) -> None:
    first, second = _contacts(2)
    session = Session(_client(Tamper(emulator, after={1: _second_too_deep})))
    session.add(first)
    session.add(second)
    result = session.flush()

    assert result.unknown == [first, second] and second.is_unknown
    assert first.upstream_id is not None and first.sync_id is not None
    assert session.get("salesforce:contact", first.upstream_id, first.sync_id) is first
    (stored, _) = sorted(_stored(emulator), key=lambda r: r["upstream_id"] != first.upstream_id)
    assert session.load(salesforce.Contact, stored) is first


@pytest.mark.parametrize(
    "rewrite", [_other_sync, _other_nested_sync, _deleted_flag, _unhashable_id]
)
def test_an_unusable_update_answer_leaves_the_change_pending(
    emulator: Emulator, rewrite: Rewrite
) -> None:
    (contact,) = _created(emulator, 1)
    contact.Title = "Naib"
    session = Session(_client(Tamper(emulator, after={1: rewrite})))
    session.add(contact)
    with pytest.raises(CommitError) as raised:
        session.commit()
    assert raised.value.result.requests_sent == 1
    assert raised.value.result.unknown == [contact]
    assert contact.state is State.PERSISTENT and contact.changed_fields == {"Title"}


def test_a_value_that_is_not_json_is_refused_before_any_request_in_a_session(
    emulator: Emulator,
) -> None:
    (contact,) = _created(emulator, 1)
    contact.extra["Score__c"] = float("nan")
    session = Session(_client(emulator.transport()))
    session.add(contact)
    session.add(salesforce.Contact(LastName="New"))
    before = len(emulator.mutation_requests())
    with pytest.raises(ModelError, match="Score__c"):
        session.commit()
    assert len(emulator.mutation_requests()) == before
