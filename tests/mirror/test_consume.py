"""Filling the mirror from the emulator: pull(), run(), backfill(), and the promises around
them — ack only after commit, no regress with two workers, refused records not acked, a
database that fails acks nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

import sequin_orm
from sequin_orm.consumers import Consumer
from sequin_orm.emulator import Emulator
from sequin_orm.errors import APIError, ConfigurationError
from sequin_orm.mirror import MalformedRecordError, Mirror, MirrorDatabaseError
from sequin_orm.mirror.store import Store
from sequin_orm.mirror.tables import records
from sequin_orm.models import salesforce
from tests.conftest import SYNCS, TOKEN
from tests.mirror.records import SF


def _contacts(emulator: Emulator, count: int, start: int = 0) -> list[str]:
    return [
        str(
            emulator.create_record(
                SF, "salesforce:contact",
                {"LastName": "Atreides", "Email": f"c{i}@arrakis.org", "NumberOfLeads__c": i},
            )["upstream_id"]
        )
        for i in range(start, start + count)
    ]  # fmt: skip


def _stored(mirror: Mirror) -> dict[str, tuple[int, Any]]:
    rows = mirror.fetch_rows(sa.select(records))
    return {r["upstream_id"]: (r["updated_idx"], r["data"]) for r in rows}


def _latest(emulator: Emulator) -> dict[str, tuple[int, Any]]:
    return {
        str(r["upstream_id"]): (int(r["updated_idx"]), r["data"])  # type: ignore[call-overload]
        for r in emulator.records("salesforce:contact")
    }


def _calls(emulator: Emulator, action: str) -> list[Any]:
    return [r.json for r in emulator.requests if r.path.endswith(f"/{action}")]


def test_pull_drains_the_consumer_and_acks_after_storing(
    mirror: Mirror, emulator: Emulator
) -> None:
    ids = _contacts(emulator, 25)
    assert mirror.pull(batch_size=10) == 25
    assert set(_stored(mirror)) == set(ids)
    assert [len(call["ack_tokens"]) for call in _calls(emulator, "ack")] == [10, 10, 5]
    assert mirror.pull() == 0  # nothing left: one empty receive
    paul = mirror.query(salesforce.Contact).get(Email="c3@arrakis.org")
    assert paul.extra == {"NumberOfLeads__c": 3}


def test_a_crash_between_commit_and_ack_means_an_idempotent_redelivery(
    database_url: str, client: sequin_orm.Client, emulator: Emulator
) -> None:
    emulator.create_consumer(id="fast", ack_wait_ms=100, filters={"collection_id": "*"})
    mirror = Mirror(database_url, consumer_id="fast", client=client)
    _contacts(emulator, 3)
    emulator.inject(path="/v1/http-consumers/fast/ack", drop="before", times=10)
    with pytest.raises(APIError):
        mirror.pull()  # stored and committed; the ack never arrived
    before = _stored(mirror)
    assert len(before) == 3
    emulator.clear_faults()
    time.sleep(0.2)  # past ack_wait_ms: the same messages come again
    assert mirror.pull() == 3
    assert _stored(mirror) == before  # the same versions again change nothing
    assert mirror.pull() == 0
    mirror.close()


def test_malformed_messages_are_not_acked_and_the_rest_is_stored(
    mirror: Mirror, emulator: Emulator, client: sequin_orm.Client
) -> None:
    ids = _contacts(emulator, 3)
    consumer = Consumer(mirror.consumer_id or "", client=client)
    from_server = consumer.receive_raw
    in_transit: list[Any] = []

    def receive_raw(batch_size: int = 10, wait_for: int = 0) -> Any:
        """The server's messages, the second one's record broken on the way."""
        messages, info = from_server(batch_size, wait_for)
        if len(messages) > 1:
            messages[1]["record"]["data"] = "not an object"
            in_transit.extend(messages)
        return messages, info

    consumer.receive_raw = receive_raw  # type: ignore[method-assign]
    mirror._consumer = lambda: consumer  # type: ignore[method-assign]
    with pytest.raises(MalformedRecordError) as caught:
        mirror.pull()
    assert caught.value.applied == 2
    assert caught.value.refused == [
        (f"record {ids[1]} of salesforce:contact", "data is a str, not a JSON object")
    ]
    (acked,) = [call["ack_tokens"] for call in _calls(emulator, "ack")]
    assert acked == [in_transit[0]["ack_token"], in_transit[2]["ack_token"]]
    assert set(_stored(mirror)) == {ids[0], ids[2]}


def test_a_consumer_of_every_collection_fills_every_model(
    database_url: str, client: sequin_orm.Client, emulator: Emulator
) -> None:
    from sequin_orm.models import hubspot

    emulator.create_consumer(id="everything", ack_wait_ms=60_000, filters={"collection_id": "*"})
    emulator.create_record(SF, "salesforce:contact", {"LastName": "A"})
    emulator.create_record("sync-hs", "hubspot:contact", {"properties": {"email": "x@y.org"}})
    mirror = Mirror(database_url, consumer_id="everything", client=client)
    assert mirror.pull() == 2
    assert mirror.query(salesforce.Contact).count() == mirror.query(hubspot.Contact).count() == 1
    mirror.close()


def test_a_database_failure_rolls_back_and_acks_nothing(
    mirror: Mirror, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _contacts(emulator, 4)
    real_upsert = Store.upsert

    def upsert_then_fail(self: Store, connection: Any, rows: Any) -> None:
        real_upsert(self, connection, rows)  # written inside the transaction...
        raise exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Store, "upsert", upsert_then_fail)
    with pytest.raises(MirrorDatabaseError, match="server closed the connection"):
        mirror.pull()
    assert _calls(emulator, "ack") == []
    monkeypatch.undo()
    assert _stored(mirror) == {}  # ...and rolled back


def test_a_postgres_database_that_goes_away_acks_nothing(
    postgres_server: Any, client: sequin_orm.Client, consumer_id: str, emulator: Emulator
) -> None:
    url = postgres_server.create_database("mirror_goes_away")
    mirror = Mirror(url, consumer_id=consumer_id, client=client)
    mirror.create_tables()
    admin = sa.create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # the server refuses this database from now on
        connection.exec_driver_sql("ALTER DATABASE mirror_goes_away ALLOW_CONNECTIONS false")
        connection.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'mirror_goes_away'"
        )
    _contacts(emulator, 2)
    with pytest.raises(MirrorDatabaseError) as caught:
        mirror.pull()
    assert "sequin:***@" in str(caught.value) or "failed" in str(caught.value)
    assert _calls(emulator, "ack") == []
    mirror.close()
    admin.dispose()


def _run_in_thread(mirror: Mirror) -> threading.Thread:
    thread = threading.Thread(target=mirror.run, kwargs={"wait_for": 50, "batch_size": 7})
    thread.start()
    return thread


@pytest.fixture
def running(mirror: Mirror) -> Iterator[Mirror]:
    thread = _run_in_thread(mirror)
    yield mirror
    mirror.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_run_keeps_the_mirror_current_until_stopped(running: Mirror, emulator: Emulator) -> None:
    _contacts(emulator, 20)
    _wait_until(lambda: running.query(salesforce.Contact).count() == 20)
    _contacts(emulator, 5, start=20)
    _wait_until(lambda: running.query(salesforce.Contact).count() == 25)


def test_run_backs_off_and_recovers_when_the_api_fails(
    mirror: Mirror, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.inject(path="/v1/http-consumers/mirror-consumer/next", status=503, times=6)
    _contacts(emulator, 3)
    thread = _run_in_thread(mirror)
    try:
        _wait_until(lambda: mirror.query(salesforce.Contact).count() == 3)
    finally:
        mirror.stop()
        thread.join(timeout=10)
    assert emulator.faults == []  # every failing attempt was used up, then it recovered
    assert "503: Service unavailable" in caplog.text and "trying again in 0.5 s" in caplog.text


def test_two_workers_never_lose_or_regress_a_record(
    database_url: str, client: sequin_orm.Client, emulator: Emulator
) -> None:
    emulator.create_consumer(id="shared", ack_wait_ms=60_000, max_ack_pending=10_000)
    workers = [Mirror(database_url, consumer_id="shared", client=client) for _ in range(2)]
    workers[0].create_tables()
    threads = [_run_in_thread(w) for w in workers]
    ids = _contacts(emulator, 40)
    with sequin_orm.Session(client) as session:
        contacts = [salesforce.Contact.from_record(r) for r in emulator.records()]
    for round_ in range(5):  # every record changes again while the workers run
        with sequin_orm.Session(client) as session:
            for contact in contacts:
                contact.Title = f"round {round_}"
                session.add(contact)
    try:
        _wait_until(lambda: _stored(workers[0]) == _latest(emulator), timeout=30)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
    stored = _stored(workers[1])
    assert set(stored) == set(ids)
    assert {data["Title"] for _, data in stored.values()} == {"round 4"}
    for worker in workers:
        worker.close()


def test_backfill_pages_records_and_resumes_from_its_cursor(
    mirror: Mirror, emulator: Emulator
) -> None:
    _contacts(emulator, 12)
    seen: list[int] = []
    assert mirror.backfill(salesforce.Contact, page_size=5, progress=seen.append) == 12
    assert seen == [5, 10, 12]
    assert mirror.query(salesforce.Contact).count() == 12
    emulator.clear_requests()
    assert mirror.backfill("salesforce:contact", page_size=5) == 0  # resumes after the end
    assert len([r for r in emulator.requests if r.path == "/v1/records"]) == 1
    _contacts(emulator, 3, start=12)
    assert mirror.backfill(salesforce.Contact, page_size=5) == 3
    assert mirror.query(salesforce.Contact).count() == 15


def test_backfill_keeps_a_cursor_per_sync(mirror: Mirror, emulator: Emulator) -> None:
    _contacts(emulator, 2)
    assert mirror.backfill(salesforce.Contact, sync_id=SF) == 2
    assert mirror.backfill(salesforce.Contact) == 2  # every sync: its own cursor


def test_read_your_writes(database_url: str, emulator: Emulator, consumer_id: str) -> None:
    settings: dict[str, Any] = {"syncs": SYNCS, "transport": emulator.transport()}
    client = sequin_orm.Client(TOKEN, "http://127.0.0.1", **settings)
    mirror = Mirror(database_url, consumer_id=consumer_id, client=client, read_your_writes=True)
    sequin_orm.configure(TOKEN, "http://127.0.0.1", mirror=mirror, **settings)
    thread = _run_in_thread(mirror)
    try:
        for n in range(3):
            paul = salesforce.Contact(LastName="Atreides", Email=f"paul{n}@arrakis.org")
            paul.save()
            found = salesforce.Contact.objects.get(Email=f"paul{n}@arrakis.org")
            assert found.upstream_id == paul.upstream_id
            paul.Title = "Duke"
            paul.save()
            assert salesforce.Contact.objects.get(upstream_id=paul.upstream_id).Title == "Duke"
        (sent, *_) = emulator.mutation_requests("create")
        assert sent.json["await_consumer_ids"] == [consumer_id]
    finally:
        mirror.stop()
        thread.join(timeout=10)
        mirror.close()
        client.close()


def test_read_your_writes_needs_a_consumer() -> None:
    with pytest.raises(ConfigurationError, match="consumer_id"):
        Mirror("sqlite://", read_your_writes=True)
    with pytest.raises(ConfigurationError, match="has no consumer"):
        Mirror("sqlite://").pull()


def test_run_stops_on_sigterm_on_the_main_thread(mirror: Mirror) -> None:
    import os
    import signal

    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    previous = signal.getsignal(signal.SIGTERM)
    mirror.run(wait_for=50)  # returns once the signal arrived
    timer.join()
    assert signal.getsignal(signal.SIGTERM) is previous
