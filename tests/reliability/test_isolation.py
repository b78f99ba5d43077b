"""Isolation under load: 32 threads and 200 asyncio tasks share one client, never a session.

Every worker commits its own objects (its marker in ``LastName``; updates and deletes of records
created for it) through its own ``Session`` on one ``Client`` talking to the emulator over
loopback HTTP. Afterwards every mutation request the emulator received must carry one worker's
objects only, and every worker's changes must all be there.

The client's connection pool is shared and bounded: a small TCP relay in front of the emulator
counts the connections the client opened and how many were open at once, which must never pass
the pool's ``max_connections``.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

import sequin_orm
from sequin_orm import Session
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce

TOKEN = "isolation-token-51d0"
SYNC = "sync-sf"
COLLECTION = "salesforce:contact"
#: ``httpx.Limits(max_connections=32)`` in sequin_orm/http.py.
POOL_LIMIT = 32
THREADS = 32
THREAD_ROUNDS = 3
TASKS = 200


class ConnectionCountingRelay:
    """A TCP relay to ``target`` that counts accepted connections and the most open at once."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self.open = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        self._spawn(self._accept_loop)

    def close(self) -> None:
        self.listener.close()
        for sock in list(self._sockets):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.peak = max(self.peak, self.open)
            upstream = socket.create_connection(self.target)
            for sock in (client, upstream):  # relay each write at once (no Nagle stalls)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            done = threading.Event()
            self._spawn(self._pump, client, upstream, done, True)
            self._spawn(self._pump, upstream, client, done, False)

    def _pump(
        self, source: socket.socket, sink: socket.socket, done: threading.Event, from_client: bool
    ) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            if from_client:  # the client closed its end: the connection is gone for the pool
                with self._lock:
                    self.open -= 1
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            done.set()


@contextmanager
def relay_to(url: str) -> Iterator[ConnectionCountingRelay]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    relay = ConnectionCountingRelay((host, int(port)))
    relay.start()
    try:
        yield relay
    finally:
        relay.close()


def _worker(
    client: sequin_orm.Client, name: str, records: list[dict[str, Any]], rounds: int
) -> None:
    """One worker's sessions: per round, 2 creates, 1 update and (once) 1 delete."""
    rng = random.Random(name)
    for round_ in range(rounds):
        with Session(client) as session:
            for i in range(2):
                salesforce.Contact(LastName=name, Title=f"{name}/{round_}/{i}").save()
            target = salesforce.Contact.from_record(records[0])
            session.add(target)
            target.Title = f"{name}/updated/{round_}"
            if round_ == 0:
                salesforce.Contact.from_record(records[1]).delete()
            # let other workers run between enqueueing and committing
            if rng.random() < 0.5:
                threading.Event().wait(0.001)


async def _task_worker(
    client: sequin_orm.Client, name: str, records: list[dict[str, Any]], in_thread: bool
) -> None:
    if in_thread:
        await asyncio.to_thread(_worker, client, name, records, 1)
        return
    # In the task itself: the session is current in this task's context only, so tasks that
    # interleave at every await never see each other's session.
    with Session(client) as session:
        for i in range(2):
            salesforce.Contact(LastName=name, Title=f"{name}/0/{i}").save()
            await asyncio.sleep(0)
        assert sequin_orm.current_session() is session
        target = salesforce.Contact.from_record(records[0])
        target.Title = f"{name}/updated/0"
        target.save()
        await asyncio.sleep(0)
        salesforce.Contact.from_record(records[1]).delete()
        await asyncio.sleep(0)
        assert {o.LastName for o in session.new if isinstance(o, salesforce.Contact)} == {name}


def _owner_of_request(body: dict[str, Any], owner_of_id: dict[str, str]) -> set[str]:
    if body["kind"] == "create":
        return {r["data"]["LastName"] for r in body["records"]}
    if body["kind"] == "update":
        return {owner_of_id[r["upstream_id"]] for r in body["records"]}
    return {owner_of_id[u] for u in body["upstream_ids"]}


@pytest.fixture
def emu() -> Emulator:
    emu = Emulator(token=TOKEN)
    emu.create_sync("salesforce", [COLLECTION], id=SYNC)
    return emu


def test_threads_and_tasks_never_share_a_session_and_the_pool_stays_bounded(
    emu: Emulator,
) -> None:
    thread_names = [f"thread-{i:02d}" for i in range(THREADS)]
    task_names = [f"task-{i:03d}" for i in range(TASKS)]
    workers = thread_names + task_names
    owner_of_id: dict[str, str] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    for name in workers:
        records[name] = [
            emu.create_record(SYNC, COLLECTION, {"LastName": f"{name}-seed", "Title": "seed"})
            for _ in range(2)
        ]
        owner_of_id.update((str(r["upstream_id"]), name) for r in records[name])

    with emu.serve() as url, relay_to(url) as relay:
        client = sequin_orm.Client(
            TOKEN, f"http://127.0.0.1:{relay.port}", syncs={"salesforce": SYNC}
        )
        errors: list[BaseException] = []

        def run_thread(name: str) -> None:
            try:
                _worker(client, name, records[name], THREAD_ROUNDS)
            except BaseException as exc:  # reported below
                errors.append(exc)

        async def run_tasks() -> None:
            await asyncio.gather(
                *(
                    _task_worker(client, name, records[name], in_thread=i % 2 == 0)
                    for i, name in enumerate(task_names)
                )
            )

        threads = [threading.Thread(target=run_thread, args=(name,)) for name in thread_names]
        for thread in threads:
            thread.start()
        asyncio.run(run_tasks())  # while the threads run
        for thread in threads:
            thread.join()
        client.close()
        assert errors == []

    bodies = [r.json for r in emu.mutation_requests()]
    for body in bodies:
        owners = _owner_of_request(body, owner_of_id)
        assert len(owners) == 1, f"one request carried objects of {sorted(owners)}"

    # every worker's changes are there, each exactly once
    live = [r for r in emu.records(COLLECTION)]
    for name in workers:
        rounds = THREAD_ROUNDS if name in thread_names else 1
        created = [r for r in live if r["data"]["LastName"] == name]
        assert sorted(r["data"]["Title"] for r in created) == sorted(
            f"{name}/{n}/{i}" for n in range(rounds) for i in range(2)
        )
        updated, deleted = (
            next(r for r in live if r["upstream_id"] == s["upstream_id"]) for s in records[name][:2]
        )
        assert updated["data"]["Title"] == f"{name}/updated/{rounds - 1}"
        assert deleted["deleted"] is True

    kinds = [b["kind"] for b in bodies]
    assert kinds.count("delete") == len(workers)
    assert kinds.count("create") == THREADS * THREAD_ROUNDS + TASKS
    assert relay.peak <= POOL_LIMIT, f"{relay.peak} connections open at once"
    # Every connection is kept alive (max_keepalive_connections == max_connections): with
    # fewer, httpcore 1.0 closes and reopens connections under load (it counts all of them).
    assert relay.accepted <= POOL_LIMIT, f"{relay.accepted} distinct connections"
