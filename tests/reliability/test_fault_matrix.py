"""Every mutation kind under every fault, over loopback HTTP against the emulator.

For each cell of ``fault_cases.CASES``: two objects of the faulted kind and one bystander of
each other kind are committed in one session while the emulator injects the fault on the
faulted kind. Checked: the requests the emulator received (or the client's attempts, when
nothing listens), the error of each outcome, each object clean/dirty/unknown, what the emulator
holds afterwards — then, after resolving as docs/sessions.md says (an ``unknown`` create is
looked up and ``reset_unknown()`` only when absent; then ``commit()`` again), that every change
is applied exactly once: no duplicate record, no lost change.
"""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import Outcome, Session, State
from sequin_orm.config import Timeouts
from sequin_orm.emulator import Emulator
from sequin_orm.errors import CommitError
from sequin_orm.models import salesforce

from . import fault_cases as fc
from .make_fault_matrix_doc import DOC_PATH, render

TOKEN = "matrix-token-7c1e"
SYNC = "sync-sf"
COLLECTION = "salesforce:contact"


class CountingTransport(httpx.BaseTransport):
    """A real HTTP transport that counts attempts per mutation kind (the server may see none)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.attempts: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.attempts[str(body.get("kind"))] += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Item:
    """One object of a case and what its change is."""

    kind: fc.Kind
    obj: salesforce.Contact
    marker: str  # its LastName, unique in the emulator
    upstream_id: str | None = None  # of the existing record (update, delete)
    new_email: str | None = None  # what the update sets


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _make_item(emu: Emulator, kind: fc.Kind, marker: str) -> Item:
    if kind == "create":
        return Item(kind, salesforce.Contact(LastName=marker, Email=f"{marker}@matrix.org"), marker)
    record = emu.create_record(
        SYNC, COLLECTION, {"LastName": marker, "Email": f"old-{marker}@matrix.org"}
    )
    obj = salesforce.Contact.from_record(record)
    item = Item(kind, obj, marker, upstream_id=str(record["upstream_id"]))
    if kind == "update":
        item.new_email = f"new-{marker}@matrix.org"
        obj.Email = item.new_email
    return item


def _enqueue(session: Session, item: Item, awaiting: dict[str, Any]) -> None:
    if item.kind == "delete":
        session.delete(item.obj, **awaiting)
    else:
        session.add(item.obj, **awaiting)


def _named(emu: Emulator, marker: str) -> list[dict[str, Any]]:
    return [r for r in emu.records(COLLECTION) if r["data"].get("LastName") == marker]


def _by_id(emu: Emulator, upstream_id: str | None) -> dict[str, Any]:
    (record,) = [r for r in emu.records(COLLECTION) if r["upstream_id"] == upstream_id]
    return record


def _applied(emu: Emulator, item: Item) -> bool:
    if item.kind == "create":
        found = _named(emu, item.marker)
        assert len(found) <= 1, f"duplicate record for {item.marker}"
        return len(found) == 1
    record = _by_id(emu, item.upstream_id)
    if item.kind == "update":
        return bool(record["data"].get("Email") == item.new_email)
    return bool(record["deleted"])


def _state(session: Session, item: Item) -> fc.ObjectState:
    """clean: nothing left to send; dirty: the next commit sends it; unknown: is_unknown."""
    obj = item.obj
    if obj.is_unknown:
        return "unknown"
    if item.kind == "create":
        return "dirty" if obj.is_new else "clean"
    if item.kind == "update":
        assert obj.state is State.PERSISTENT
        return "dirty" if obj.is_dirty else "clean"
    if obj.state is State.DELETED:
        return "clean"
    assert obj in session.deleted, "a failed delete left the session: its change would be lost"
    return "dirty"


def _sent_markers(emu: Emulator, requests: list[Any], items: list[Item]) -> set[str]:
    """Markers of the objects that ``requests`` carried."""
    by_id = {item.upstream_id: item.marker for item in items if item.upstream_id}
    markers: set[str] = set()
    for request in requests:
        body = request.json
        if body["kind"] == "create":
            markers.update(r["data"]["LastName"] for r in body["records"])
        elif body["kind"] == "update":
            markers.update(by_id[r["upstream_id"]] for r in body["records"])
        else:
            markers.update(by_id[u] for u in body["upstream_ids"])
    return markers


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _held_by_stop(expected: fc.Expected, kind: fc.Kind, other: fc.Kind) -> bool:
    """Whether a bystander of kind ``other`` is in a stage after a request that stopped the
    commit (creates, then updates, then deletes)."""
    return expected.stops and fc.KINDS.index(other) > fc.KINDS.index(kind)


def _matched_by_id(kind: fc.Kind, fault: fc.Fault, targets: list[Item]) -> list[Item]:
    """Targets an answer with a record left out still names: updates and deletes are matched
    by ``upstream_id``, so only the object whose record is missing (the last) is unknown."""
    if fault.id != "wrong-count" or kind == "create":
        return []
    return targets[:-1]


def check_cell(kind: fc.Kind, fault: fc.Fault, expected: fc.Expected) -> None:
    emu = Emulator(token=TOKEN)
    emu.create_sync("salesforce", [COLLECTION], id=SYNC)
    refused = fault.category == "refused"
    awaiting: dict[str, Any] = {}
    if fault.category == "await":
        consumer = emu.create_consumer()  # never receives, never acks
        awaiting = {
            "await_consumer_ids": [consumer["id"]],
            "await_consumers_timeout": fc.AWAIT_TIMEOUT_MS,
        }
    targets = [_make_item(emu, kind, f"{kind}-{fault.id}-{i}") for i in range(2)]
    bystander_kinds: list[fc.Kind] = [] if refused else [k for k in fc.KINDS if k != kind]
    bystanders = [_make_item(emu, k, f"{k}-bystander-{fault.id}") for k in bystander_kinds]
    items = targets + bystanders
    records_before = len(emu.records())
    creates = sum(item.kind == "create" for item in items)

    with ExitStack() as stack:
        port = _free_port()
        url = f"http://127.0.0.1:{port}" if refused else stack.enter_context(emu.serve())
        transport = CountingTransport()
        timeout: float | Timeouts = 5.0
        if fault.id.startswith("read-timeout"):
            timeout = Timeouts(connect=5.0, read=fc.READ_TIMEOUT, write=5.0, pool=5.0)
        client = sequin_orm.Client(
            TOKEN,
            url,
            syncs={"salesforce": SYNC},
            transport=transport,
            timeout=timeout,
            max_retries=fc.MAX_RETRIES,
        )
        stack.callback(client.close)
        waits: list[float] = []
        client.http.sleep = waits.append
        if fault.inject:
            emu.inject(kind=kind, times=fault.times, **fault.inject)

        session = Session(client)
        for item in items:
            _enqueue(session, item, awaiting if item in targets else {})

        # -- the first commit, under the fault ---------------------------------------------
        if expected.raises:
            with pytest.raises(CommitError) as raised:
                session.commit()
            result = raised.value.result
        else:
            result = session.commit()

        if refused:
            assert transport.attempts[kind] == expected.requests
            assert emu.mutation_requests() == []
        else:
            assert len(emu.mutation_requests(kind)) == expected.requests
            for other in bystander_kinds:
                sent = 0 if _held_by_stop(expected, kind, other) else 1
                assert len(emu.mutation_requests(other)) == sent, f"bystander {other}"
        if fault.category in ("retried", "refused") or expected.retried:
            assert len(waits) == expected.requests - 1
        if "retry_after" in fault.inject:
            assert waits == [fc.RETRY_AFTER] * (expected.requests - 1)

        matched = _matched_by_id(kind, fault, targets)
        for item in matched:  # an update or delete the short answer still names
            assert result.outcome_of(item.obj) == (item.obj, fc.SUCCESS[kind], None)
            assert _state(session, item) == "clean"
        for item in [t for t in targets if t not in matched]:
            outcome = result.outcome_of(item.obj)
            assert outcome is not None
            assert outcome.outcome is expected.outcome
            if expected.error is None:
                assert outcome.error is None
            else:
                assert type(outcome.error) is expected.error
            assert _state(session, item) == expected.state
        for item in bystanders:
            outcome = result.outcome_of(item.obj)
            assert outcome is not None
            if _held_by_stop(expected, kind, item.kind):  # a later stage, never sent
                assert type(outcome.error) is expected.error
                assert _state(session, item) == "dirty" and not _applied(emu, item)
                continue
            assert outcome.error is None
            assert _state(session, item) == "clean"
            assert _applied(emu, item)

        if expected.applied:  # a late (timed-out) request is applied when its latency is over
            assert _wait_until(lambda: all(_applied(emu, item) for item in targets))
        else:
            assert not any(_applied(emu, item) for item in targets if item not in matched)

        # -- resolving, as docs/sessions.md says -------------------------------------------
        emu.clear_faults()
        adopted: set[str] = set()
        for item in targets:
            if item.obj.is_unknown:
                found = _named(emu, item.marker)
                assert len(found) in (0, 1)
                if found:
                    adopted.add(item.marker)  # it was created: never send it again
                else:
                    item.obj.reset_unknown()
        pending = {
            item.marker
            for item in items
            if _state(session, item) == "dirty" or (item.obj.is_new and item.kind == "create")
        }
        if refused:
            stack.enter_context(emu.serve(port=port))
        before = len(emu.mutation_requests())
        again = session.commit()
        assert again.ok
        assert _sent_markers(emu, emu.mutation_requests()[before:], items) == pending

        # -- every change applied exactly once -----------------------------------------------
        for item in items:
            assert _applied(emu, item), f"lost change: {item.marker}"
            if item.marker in adopted:
                assert item.obj.is_unknown
                continue
            assert _state(session, item) == "clean"
            if item.kind == "create":
                (record,) = _named(emu, item.marker)
                assert item.obj.upstream_id == record["upstream_id"]
        assert len(emu.records()) == records_before + creates
        assert all(
            not r["deleted"]
            for item in items
            if item.kind == "create"
            for r in _named(emu, item.marker)
        )


def _params() -> Iterator[Any]:
    """Every cell with its documented outcome; a cell in ``DISAGREEMENTS`` twice: the documented
    outcome as a strict xfail, and what the library does today."""
    for kind, fault in fc.CASES:
        cell_id = f"{fault.id}-{kind}"
        disagreement = fc.DISAGREEMENTS.get((kind, fault.id))
        if disagreement is None:
            yield pytest.param(kind, fault, fc.documented(kind, fault), id=cell_id)
            continue
        yield pytest.param(
            kind,
            fault,
            fc.documented(kind, fault),
            id=f"{cell_id}-documented",
            marks=pytest.mark.xfail(strict=True, reason=disagreement.note),
        )
        yield pytest.param(kind, fault, disagreement.observed, id=f"{cell_id}-observed")


@pytest.mark.parametrize(("kind", "fault", "expected"), list(_params()))
def test_fault_cell(kind: fc.Kind, fault: fc.Fault, expected: fc.Expected) -> None:
    check_cell(kind, fault, expected)


def test_every_outcome_of_the_docs_table_is_exercised() -> None:
    outcomes = {fc.documented(k, f).outcome for k, f in fc.CASES}
    assert outcomes == set(Outcome)
    states = {fc.documented(k, f).state for k, f in fc.CASES}
    assert states == {"clean", "dirty", "unknown"}


def test_the_committed_doc_is_up_to_date() -> None:
    assert Path(DOC_PATH).read_text(encoding="utf-8") == render(), (
        "docs/fault-matrix.md is stale: run `python -m tests.reliability.make_fault_matrix_doc`"
    )
