"""A session against a server that misbehaves at random, at the worst moments.

Hypothesis drives random adds, assignments, deletes and commits; the fake Mutation API
behind them, for each request, answers properly or applies the write and then fails, fails
without applying, drops the connection, answers with the records reordered, answers with a
body that cannot be read, or raises an interruption. After every step:

- never more upstream records than objects created (no duplicate create);
- every change is either confirmed upstream or still pending locally (no lost change);
- an object's upstream id, once known, never changes.

A fake (not the emulator): these faults must strike after the server applied the write and
before the client sees the answer, at random, which no server does on demand.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import httpx
import orjson
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

import sequin_orm
from sequin_orm import Session, State
from sequin_orm.errors import APIError, CommitError
from sequin_orm.models import salesforce

SYNC = "sync-sf"
COLLECTION = "salesforce:contact"
FAULTS = (
    "ok",
    "ok",
    "ok",
    "applied-then-502",
    "applied-then-timeout",
    "applied-then-bad-body",
    "applied-then-interrupt",
    "reordered",
    "reordered",
    "429",
    "refused",
)


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt or a cancellation (not caught by ``except Exception``)."""


class ChaosAPI:
    """The Mutation API over an in-memory store, misbehaving as ``rng`` says."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.store: dict[str, dict[str, Any]] = {}  # upstream_id -> {"data", "deleted"}
        self._ids = itertools.count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fault = self.rng.choice(FAULTS)
        if fault == "429":
            return httpx.Response(429, json={"error": "Too many requests", "docs": []})
        if fault == "refused":
            raise httpx.ConnectError("refused")
        records = self._apply(orjson.loads(request.content))
        if fault == "applied-then-502":
            return httpx.Response(502, json={"error": "Bad gateway", "docs": []})
        if fault == "applied-then-timeout":
            raise httpx.ReadTimeout("slow")
        if fault == "applied-then-bad-body":
            return httpx.Response(200, content=b'{"records": [')
        if fault == "applied-then-interrupt":
            raise Interrupt
        if fault == "reordered" and orjson.loads(request.content)["kind"] != "create":
            records.reverse()  # creates come back in request order: the API says so
        return httpx.Response(200, content=orjson.dumps({"records": records}))

    def _apply(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        kind = body["kind"]
        if kind == "delete":
            for upstream_id in body["upstream_ids"]:
                self.store[upstream_id]["deleted"] = True
            return [self._record(u) for u in body["upstream_ids"]]
        if kind == "create":
            ids = []
            for item in body["records"]:
                upstream_id = f"003{next(self._ids):012d}AAA"
                self.store[upstream_id] = {"data": dict(item["data"]), "deleted": False}
                ids.append(upstream_id)
            return [self._record(u) for u in ids]
        for item in body["records"]:
            self.store[item["upstream_id"]]["data"].update(item["data"])
        return [self._record(item["upstream_id"]) for item in body["records"]]

    def _record(self, upstream_id: str) -> dict[str, Any]:
        stored = self.store[upstream_id]
        return {
            "upstream_id": upstream_id,
            "sync_id": SYNC,
            "collection_id": COLLECTION,
            "deleted": stored["deleted"],
            "data": dict(stored["data"]),
        }

    def with_marker(self, marker: str) -> list[str]:
        return [u for u, r in self.store.items() if r["data"].get("LastName") == marker]


FIELDS = ("FirstName", "Title", "Email")
values = st.none() | st.text(alphabet="abcxyz", min_size=1, max_size=4)


class ChaosSession(RuleBasedStateMachine):
    objects = Bundle("objects")

    def __init__(self) -> None:
        super().__init__()
        self.api = ChaosAPI(random.Random(0))
        client = sequin_orm.Client(
            "chaos-token",
            "https://api.sequin.io",
            syncs={"salesforce": SYNC},
            transport=httpx.MockTransport(self.api),
            max_retries=1,
        )
        client.http.sleep = lambda seconds: None
        self.session = Session(client)
        self.markers = (f"M{i}" for i in itertools.count())
        self.all: list[salesforce.Contact] = []
        self.first_ids: dict[salesforce.Contact, str] = {}

    @rule(seed=st.integers(0, 2**32 - 1))
    def reseed(self, seed: int) -> None:  # re-seeding at random keeps the faults reproducible
        self.api.rng.seed(seed)

    @rule(target=objects)
    def new(self) -> salesforce.Contact:
        obj = salesforce.Contact(LastName=next(self.markers))
        self.session.add(obj)
        self.all.append(obj)
        return obj

    @rule(obj=objects, name=st.sampled_from(FIELDS), value=values)
    def assign(self, obj: salesforce.Contact, name: str, value: str | None) -> None:
        if obj.state in (State.NEW, State.PERSISTENT) and obj not in self.session.deleted:
            setattr(obj, name, value)
            self.session.add(obj)

    @rule(obj=objects)
    def delete(self, obj: salesforce.Contact) -> None:
        if obj.state is State.PERSISTENT and obj not in self.session.deleted:
            self.session.delete(obj)

    @rule()
    def commit(self) -> None:
        try:
            self.session.commit()
        except (CommitError, Interrupt):
            pass
        except APIError as error:  # a request-independent refusal
            assert error.result is not None

    @rule(obj=objects)
    def resolve_unknown(self, obj: salesforce.Contact) -> None:
        """What docs/sessions.md tells a user: check upstream, reset only when absent."""
        if obj.is_unknown and not self.api.with_marker(str(obj.LastName)):
            obj.reset_unknown()
            self.session.add(obj)

    @invariant()
    def no_duplicate_create(self) -> None:
        markers = [r["data"].get("LastName") for r in self.api.store.values()]
        assert len(markers) == len(set(markers)) <= len(self.all)

    @invariant()
    def identities_never_repointed(self) -> None:
        for obj in self.all:
            if obj.upstream_id is not None:
                assert self.first_ids.setdefault(obj, obj.upstream_id) == obj.upstream_id

    @invariant()
    def no_lost_change(self) -> None:
        for obj in self.all:
            stored = [self.api.store[u] for u in self.api.with_marker(str(obj.LastName))]
            if obj.state is State.NEW:
                assert not stored, "a new object is upstream: the next commit would duplicate it"
            elif obj.state is State.PERSISTENT:
                (record,) = stored
                assert self.api.store[str(obj.upstream_id)] is record
                pending = obj.changed_fields
                for name in FIELDS:
                    upstream = record["data"].get(name)
                    assert name in pending or upstream == getattr(obj, name), name
                if record["deleted"]:
                    assert obj in self.session.deleted or obj.state is State.DELETED
            elif obj.state is State.DELETED:
                (record,) = stored
                assert record["deleted"]


TestChaosSession = ChaosSession.TestCase
TestChaosSession.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
