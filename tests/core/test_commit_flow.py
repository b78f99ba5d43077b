"""A commit of several requests driven by the sync loop over ``CommitFlow`` (flow.py) with
``max_concurrency=1``: one request in flight, plan order, where a failing request stops the
commit, later stages built
from earlier answers, objects held back behind a failed create.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import Outcome, Session, State
from sequin_orm.emulator import Emulator
from sequin_orm.errors import AuthenticationError, CommitError
from sequin_orm.flow import CommitFlow
from sequin_orm.models import salesforce

from ..conftest import SYNCS, TOKEN


class Watched(httpx.BaseTransport):
    """A transport to the emulator, watched: how many requests are in flight at once, and a
    hook run before the n-th mutation request is sent.

    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        before: dict[int, Callable[[], Any]] | None = None,
    ) -> None:
        self._inner = inner
        self._before = before or {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.mutations = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if request.url.path == "/v1/mutations/run":
                self.mutations += 1
                hook = self._before.get(self.mutations)
                if hook is not None:
                    hook()
        try:
            time.sleep(0.002)  # a server that takes its time, so overlapping would show
            return self._inner.handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture(params=["in-process", "loopback-http"])
def url(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[str | None]:
    """Where the emulator listens: nowhere (in-process), or a real HTTP server."""
    if request.param == "in-process":
        yield None
        return
    with emulator.serve() as served:
        yield served


def _watch(
    emulator: Emulator, url: str | None, before: dict[int, Callable[[], Any]] | None = None
) -> Watched:
    return Watched(emulator.transport() if url is None else httpx.HTTPTransport(), before)


def _client(
    transport: Watched, url: str | None, batch_size: int | None = None
) -> sequin_orm.Client:
    return sequin_orm.Client(  # one request at a time: tests/core/test_drivers.py has more
        TOKEN,
        url or "http://127.0.0.1",
        syncs=SYNCS,
        transport=transport,
        batch_size=batch_size,
        max_concurrency=1,
    )


def _contacts(n: int, **fields: Any) -> list[salesforce.Contact]:
    return [
        salesforce.Contact(LastName=f"Fremen {i}", Email=f"f{i}@sietch.org", **fields)
        for i in range(n)
    ]


def _stored_emails(emulator: Emulator) -> list[str]:
    return sorted(r["data"]["Email"] for r in emulator.records("salesforce:contact"))


def test_one_request_in_flight_and_the_plan_order_kept(emulator: Emulator, url: str | None) -> None:
    watched = _watch(emulator, url)
    with _client(watched, url, batch_size=10) as client:
        existing = _contacts(30)
        with Session(client):
            for contact in existing:
                contact.save()
        emulator.clear_requests()
        with Session(client):
            for contact in existing[:25]:
                contact.Title = "Naib"
                contact.save()
            for contact in existing[25:]:
                contact.delete()
            fresh = [salesforce.Contact(LastName=f"New {i}") for i in range(35)]
            for contact in fresh:
                contact.save()

    assert watched.most_in_flight == 1
    kinds = [
        (r.json["kind"], len(r.json.get("records", r.json.get("upstream_ids"))))
        for r in emulator.mutation_requests()
    ]
    assert kinds == [("create", 10)] * 3 + [
        ("create", 5),
        ("update", 10),
        ("update", 10),
        ("update", 5),
        ("delete", 5),
    ]
    sent_names = [
        rec["data"]["LastName"]
        for r in emulator.mutation_requests("create")
        for rec in r.json["records"]
    ]
    assert sent_names == [c.LastName for c in fresh]
    assert all(c.state is State.PERSISTENT and not c.is_dirty for c in fresh + existing[:25])
    assert all(c.state is State.DELETED for c in existing[25:])


def test_a_request_that_stops_the_commit_is_the_last_one_sent(
    emulator: Emulator, url: str | None
) -> None:
    def revoke_token() -> None:
        emulator.inject(status=401)

    watched = _watch(emulator, url, before={3: revoke_token})
    contacts = _contacts(50)
    with _client(watched, url, batch_size=10) as client:
        session = Session(client)
        for contact in contacts:
            session.add(contact)
        with pytest.raises(AuthenticationError) as raised:  # the commit was refused as a whole
            session.commit()
        result = raised.value.result
        assert result is not None and session.last_result is result

        assert watched.mutations == 3 and result.requests_sent == 3
        assert result.created == contacts[:20]
        assert result.failed == contacts[20:]
        assert all(
            isinstance(o.error, AuthenticationError) for o in result if o.obj in contacts[20:]
        )
        assert all(c.is_new and c.upstream_id is None for c in contacts[20:])
        assert _stored_emails(emulator) == sorted(c.Email for c in contacts[:20] if c.Email)

        retry = session.commit()  # the token works again: the rest is sent, nothing twice
    assert retry.created == contacts[20:]
    assert _stored_emails(emulator) == sorted(c.Email for c in contacts if c.Email)


def test_a_later_stage_is_built_from_the_answers_before_it(
    emulator: Emulator, url: str | None
) -> None:
    accounts = [salesforce.Account(Name=f"House {i}") for i in range(5)]
    contacts = [
        salesforce.Contact(LastName=f"Heir {i}", AccountId=accounts[i % 5]) for i in range(12)
    ]
    with _client(_watch(emulator, url), url, batch_size=2) as client, Session(client):
        for contact in contacts:
            contact.save()  # accounts are cascaded: a stage of their own, before the contacts

    creates = [r.json["collection_id"] for r in emulator.mutation_requests("create")]
    assert creates == ["salesforce:account"] * 3 + ["salesforce:contact"] * 6
    stored = {
        r["data"]["LastName"]: r["data"]["AccountId"]
        for r in emulator.records("salesforce:contact")
    }
    assert stored == {c.LastName: accounts[i % 5].upstream_id for i, c in enumerate(contacts)}
    assert all(a.upstream_id for a in accounts)


def test_objects_referring_to_a_failed_create_are_held_back(
    emulator: Emulator, url: str | None
) -> None:
    def reject_next_create() -> None:
        emulator.inject(kind="create", error="Name: upstream validation failed")

    accounts = [salesforce.Account(Name=f"House {i}") for i in range(4)]
    contacts = [salesforce.Contact(LastName=f"Heir {i}", AccountId=accounts[i]) for i in range(4)]
    watched = _watch(emulator, url, before={2: reject_next_create})  # the 2nd chunk of accounts
    with _client(watched, url, batch_size=2) as client:
        session = Session(client)
        for obj in [*accounts, *contacts]:
            session.add(obj)
        with pytest.raises(CommitError) as raised:
            session.commit()
    result = raised.value.result

    assert result.created == accounts[:2] + contacts[:2]
    assert result.failed == accounts[2:] + contacts[2:]
    held_back = [o for o in result if o.obj in contacts[2:]]
    assert all("references was not created" in str(o.error) for o in held_back)
    assert [len(r.json["records"]) for r in emulator.mutation_requests()] == [2, 2, 2]
    assert all(c.is_new for c in contacts[2:] + accounts[2:])


def test_a_bug_while_absorbing_never_leaves_a_created_object_new(
    emulator: Emulator, url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault no server can produce: applying an answer raises. The answer counts as one that
    cannot be read (never a foreign exception), and nothing is created twice."""
    real = CommitFlow._apply
    calls: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("bug while absorbing")
        return real(*args, **kwargs)

    monkeypatch.setattr(CommitFlow, "_apply", fails_once)
    contacts = _contacts(40)
    with _client(_watch(emulator, url), url, batch_size=10) as client:
        session = Session(client)
        for contact in contacts:
            session.add(contact)
        with pytest.raises(CommitError, match="could not be applied"):
            session.commit()
        assert all(c.state is State.UNKNOWN for c in contacts[:10])
        assert all(c.state is State.PERSISTENT for c in contacts[10:])

        monkeypatch.setattr(CommitFlow, "_apply", real)
        assert session.commit().requests_sent == 0  # unknown objects are not re-sent
    emails = _stored_emails(emulator)
    assert len(emails) == len(set(emails)) == 40


def test_outcomes_follow_the_plan_order(emulator: Emulator, url: str | None) -> None:
    contacts = _contacts(45)
    with _client(_watch(emulator, url), url, batch_size=10) as client:
        session = Session(client)
        for contact in contacts:
            session.add(contact)
        result = session.commit()
    assert [o.obj for o in result] == contacts
    assert {o.outcome for o in result} == {Outcome.CREATED}
