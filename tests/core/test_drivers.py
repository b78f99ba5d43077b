"""The same commit semantics through every driver of the one ``CommitFlow``: the sync loop one
request at a time, the sync loop with a thread pool (``max_concurrency=4``), and the async
loop (``AsyncSession``) with one and with four requests in flight.

Chunking, ordering with references, partial failure, unknown creates, retries, ownership and
changes made while a request is in flight must come out the same whichever driver sends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

import sequin_orm
from sequin_orm import AsyncSession, CommitResult, Outcome, Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import CommitError, ModelError
from sequin_orm.models import salesforce
from sequin_orm.session import UnitOfWork

from ..conftest import SYNCS, TOKEN

T = TypeVar("T")
MUTATIONS = "/v1/mutations/run"


class Hooked(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator's transport, with a hook run before the n-th mutation request (1-based),
    for sync and async clients alike."""

    def __init__(self, emulator: Emulator, before: dict[int, Callable[[], Any]]) -> None:
        self._inner = emulator.transport()
        self._before = before
        self._lock = threading.Lock()
        self.mutations = 0

    def _hook(self, request: httpx.Request) -> None:
        if request.url.path != MUTATIONS:
            return
        with self._lock:
            self.mutations += 1
            hook = self._before.get(self.mutations)
        if hook is not None:
            hook()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._hook(request)
        return self._inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._hook(request)
        return await self._inner.handle_async_request(request)


class Driver:
    """Commits through one driver: ``Session`` or ``AsyncSession`` (on one event loop for the
    whole test), with ``concurrency`` requests in flight at most."""

    def __init__(self, name: str, emulator: Emulator, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.is_async = name.startswith("async")
        self.concurrency = int(name.rsplit("-", 1)[1])
        self.emulator = emulator
        self.loop = loop
        self.transport: httpx.BaseTransport = emulator.transport()

    def hook(self, before: dict[int, Callable[[], Any]]) -> Hooked:
        """Run ``before[n]`` just before the n-th mutation request reaches the emulator."""
        hooked = Hooked(self.emulator, before)
        self.transport = hooked
        return hooked

    def session(self, batch_size: int | None = None) -> UnitOfWork:
        options: dict[str, Any] = {
            "syncs": SYNCS,
            "batch_size": batch_size,
            "max_concurrency": self.concurrency,
        }
        if self.is_async:
            assert isinstance(self.transport, httpx.AsyncBaseTransport)
            client = sequin_orm.AsyncClient(
                TOKEN, "http://127.0.0.1", transport=self.transport, **options
            )
            client.http.sleep = _no_async_sleep
            return AsyncSession(client)
        sync_client = sequin_orm.Client(
            TOKEN, "http://127.0.0.1", transport=self.transport, **options
        )
        sync_client.http.sleep = lambda seconds: None
        return Session(sync_client)

    def commit(self, session: UnitOfWork) -> CommitResult:
        if isinstance(session, AsyncSession):
            return self.run(session.commit())
        assert isinstance(session, Session)
        return session.commit()

    def flush(self, session: UnitOfWork) -> CommitResult:
        if isinstance(session, AsyncSession):
            return self.run(session.flush())
        assert isinstance(session, Session)
        return session.flush()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


async def _no_async_sleep(seconds: float) -> None:
    """Retries in these tests do not wait."""


@pytest.fixture(params=["sync-1", "sync-4", "async-1", "async-4"])
def driver(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[Driver]:
    loop = asyncio.new_event_loop()
    try:
        yield Driver(request.param, emulator, loop)
    finally:
        loop.close()


def _contacts(n: int, **fields: Any) -> list[salesforce.Contact]:
    return [
        salesforce.Contact(LastName=f"Fremen {i}", Email=f"f{i}@sietch.org", **fields)
        for i in range(n)
    ]


def _stored(emulator: Emulator) -> list[str]:
    return sorted(r["data"]["Email"] for r in emulator.records("salesforce:contact"))


def _sizes(emulator: Emulator, kind: str) -> list[int]:
    return sorted(
        len(r.json.get("records", r.json.get("upstream_ids")))
        for r in emulator.mutation_requests(kind)
    )


# --- chunking and ordering --------------------------------------------------------------------


def test_chunks_by_the_provider_limit(driver: Driver, emulator: Emulator) -> None:
    contacts = _contacts(450)
    session = driver.session()
    for contact in contacts:
        session.add(contact)
    result = driver.commit(session)

    assert _sizes(emulator, "create") == [50, 200, 200]
    assert [o.obj for o in result] == contacts  # outcomes in plan order, whatever came first
    assert result.created == contacts and result.requests_sent == 3
    assert _stored(emulator) == sorted(c.Email for c in contacts if c.Email)
    assert len({c.upstream_id for c in contacts}) == 450


def test_referenced_creates_go_first_and_stages_keep_their_order(
    driver: Driver, emulator: Emulator
) -> None:
    accounts = [salesforce.Account(Name=f"House {i}") for i in range(6)]
    contacts = [salesforce.Contact(LastName=f"Heir {i}", AccountId=accounts[i]) for i in range(6)]
    existing = _contacts(4)
    session = driver.session(batch_size=2)
    for contact in existing:
        session.add(contact)
    driver.commit(session)
    emulator.clear_requests()

    for contact in contacts:
        session.add(contact)
    for contact in existing[:2]:
        contact.Title = "Naib"
        session.add(contact)
    for contact in existing[2:]:
        session.delete(contact)
    driver.commit(session)

    sent = [(r.json["kind"], r.json["collection_id"]) for r in emulator.mutation_requests()]
    assert sent == [("create", "salesforce:account")] * 3 + [
        ("create", "salesforce:contact")
    ] * 3 + [("update", "salesforce:contact"), ("delete", "salesforce:contact")]
    stored = {
        r["data"]["LastName"]: r["data"].get("AccountId")
        for r in emulator.records("salesforce:contact")
    }
    assert all(
        stored[c.LastName] == c.AccountId == a.upstream_id
        for c, a in zip(contacts, accounts, strict=True)
    )


# --- failures ---------------------------------------------------------------------------------


def test_a_failed_chunk_keeps_its_objects_pending_and_only_they_are_resent(
    driver: Driver, emulator: Emulator
) -> None:
    contacts = _contacts(40)
    driver.hook({2: lambda: emulator.inject(kind="create", error="Email: invalid")})
    session = driver.session(batch_size=10)
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError, match="Email: invalid") as raised:
        driver.commit(session)
    result = raised.value.result

    assert len(result.failed) == 10 and len(result.created) == 30
    assert all(c.is_new and c.is_dirty for c in result.failed)
    retry = driver.commit(session)
    assert sorted(map(id, retry.created)) == sorted(map(id, result.failed))
    assert _stored(emulator) == sorted(c.Email for c in contacts if c.Email)


def test_a_create_applied_without_an_answer_is_unknown_and_never_resent(
    driver: Driver, emulator: Emulator
) -> None:
    contacts = _contacts(30)
    driver.hook({1: lambda: emulator.inject(kind="create", drop="after")})
    session = driver.session(batch_size=10)
    for contact in contacts:
        session.add(contact)
    with pytest.raises(CommitError) as raised:
        driver.commit(session)
    unknown = [o.obj for o in raised.value.result if o.outcome is Outcome.UNKNOWN]

    assert len(unknown) == 10 and all(o.state is State.UNKNOWN for o in unknown)
    assert driver.commit(session).requests_sent == 0  # nothing left that may be sent
    assert len(_stored(emulator)) == 30  # the server applied all three: none twice


def test_a_503_is_retried_and_the_commit_completes(driver: Driver, emulator: Emulator) -> None:
    contacts = _contacts(30)
    emulator.inject(kind="create", status=503, times=2)
    session = driver.session(batch_size=10)
    for contact in contacts:
        session.add(contact)
    result = driver.commit(session)
    assert result.created == contacts and result.requests_sent == 5
    assert _stored(emulator) == sorted(c.Email for c in contacts if c.Email)


# --- ownership and changes in flight ----------------------------------------------------------


def test_an_object_pending_in_one_session_cannot_join_another(driver: Driver) -> None:
    contact = _contacts(1)[0]
    first, second = driver.session(), driver.session()
    first.add(contact)
    with pytest.raises(ModelError, match="pending in another Session"):
        second.add(contact)
    driver.commit(first)
    second.add(contact)  # committed: free again
    assert contact in second


def test_a_value_assigned_while_its_update_is_in_flight_stays_pending(
    driver: Driver, emulator: Emulator
) -> None:
    contacts = _contacts(20)
    driver.hook({3: lambda: setattr(contacts[0], "Title", "Fedaykin")})  # the first update
    session = driver.session(batch_size=10)
    for contact in contacts:
        session.add(contact)
    driver.commit(session)

    for contact in contacts:
        contact.Title = "Naib"
        session.add(contact)
    driver.commit(session)

    assert contacts[0].Title == "Fedaykin" and contacts[0].changed_fields == {"Title"}
    assert all(not c.is_dirty and c.Title == "Naib" for c in contacts[1:])
    driver.commit(session)
    stored = {
        r["data"]["Email"]: r["data"]["Title"] for r in emulator.records("salesforce:contact")
    }
    assert stored[contacts[0].Email] == "Fedaykin"


def test_progress_is_reported_after_each_answer(driver: Driver) -> None:
    calls: list[tuple[int, int]] = []
    session = driver.session(batch_size=10)
    for contact in _contacts(35):
        session.add(contact)
    if isinstance(session, AsyncSession):
        driver.run(session.commit(progress=lambda done, total: calls.append((done, total))))
    else:
        assert isinstance(session, Session)
        session.commit(progress=lambda done, total: calls.append((done, total)))
    assert len(calls) == 4 and calls[-1] == (35, 35)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {total for _, total in calls} == {35}
