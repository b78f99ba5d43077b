"""The Mutation API (``POST /v1/mutations/run``): parse, validate, apply, await consumers.

``run`` expects the caller to hold ``state.cond``; every failure is an ``ApiError`` with the
documented ``{"error": "Error: ...", "docs": [...]}`` body, raised before anything is applied
(the whole batch is all-or-nothing) except the await timeout, which comes after.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sequin_orm.emulator import clock, providers, upstream
from sequin_orm.emulator.jsonutil import JSONObject, as_list, as_object, is_int
from sequin_orm.emulator.protocol import ApiError, mutation_error
from sequin_orm.emulator.state import Record, State, Sync
from sequin_orm.emulator.views import record_json, sync_ref

KINDS = ("create", "update", "delete")
DEFAULT_AWAIT_TIMEOUT_MS = 30000
DOCS = {kind: f"https://sequin.io/docs/mutations/{kind}" for kind in KINDS}


@dataclass(frozen=True)
class Mutation:
    """A well-formed mutation request."""

    kind: str
    sync_id: str
    collection_id: str
    records: list[JSONObject]
    upstream_ids: list[str]
    await_consumer_ids: list[str]
    await_timeout_ms: int

    @property
    def size(self) -> int:
        """How many records (or upstream ids) the request carries."""
        return len(self.upstream_ids) if self.kind == "delete" else len(self.records)


def parse(body: Any) -> Mutation:
    """Check the request shape; raise a 400 describing the first problem."""
    obj = as_object(body)
    if obj is None:
        raise _bad("the body must be a JSON object")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise _bad(f"`kind` must be one of create, update, delete (got {kind!r})")
    sync_id, collection_id = obj.get("sync_id"), obj.get("collection_id")
    for key, value in (("sync_id", sync_id), ("collection_id", collection_id)):
        if not isinstance(value, str) or not value:
            raise _bad(f"`{key}` is required")
    return Mutation(
        kind=str(kind),
        sync_id=str(sync_id),
        collection_id=str(collection_id),
        records=_records(obj, str(kind)) if kind != "delete" else [],
        upstream_ids=_strings(obj, "upstream_ids") if kind == "delete" else [],
        await_consumer_ids=_await_ids(obj),
        await_timeout_ms=_await_timeout(obj),
    )


def run(state: State, mutation: Mutation) -> list[JSONObject]:
    """Validate against the state, apply, await consumers; the records in request order."""
    sync = _sync(state, mutation.sync_id, mutation.collection_id)
    provider = sync.provider
    limit = providers.batch_limit(provider)
    if mutation.size > limit:
        raise mutation_error(
            f"Error: Batch too large: {mutation.size} records, "
            f"the limit for {providers.display_name(provider)} is {limit}"
        )
    for consumer_id in mutation.await_consumer_ids:
        if consumer_id not in state.consumers:
            raise mutation_error(f"Error: Consumer not found: {consumer_id}")
    applied = _APPLY[mutation.kind](state, sync, mutation)
    _await_consumers(state, mutation, applied)
    return [record_json(record) for record in applied]


def _sync(state: State, sync_id: str, collection_id: str) -> Sync:
    sync = state.syncs.get(sync_id)
    if sync is None:
        raise mutation_error(f"Error: Sync not found: {sync_id}")
    if sync.status != "active":
        raise mutation_error("Error: Sync is disabled")
    if collection_id not in sync.collection_ids:
        raise mutation_error(f"Error: Collection {collection_id} is not part of sync {sync.id}")
    return sync


def insert(
    state: State, sync_id: str, collection_id: str, data: JSONObject, upstream_id: str | None
) -> Record:
    """Add a record as if it had been synced from upstream (no validation of ``data``)."""
    sync = _sync(state, sync_id, collection_id)
    if upstream_id is not None and state.find_record(sync_id, collection_id, upstream_id):
        raise mutation_error(f"Error: Record already exists: {upstream_id}")
    return _new_record(state, sync, collection_id, data, upstream_id)


def _create(state: State, sync: Sync, mutation: Mutation) -> list[Record]:
    for item in mutation.records:
        _validate(sync, mutation, item["data"], creating=True)
    return [
        _new_record(state, sync, mutation.collection_id, item["data"], None)
        for item in mutation.records
    ]


def _new_record(
    state: State, sync: Sync, collection_id: str, sent: JSONObject, upstream_id: str | None
) -> Record:
    now = clock.utcnow()
    object_name = collection_id.partition(":")[2]
    upstream_id = upstream_id or state.upstream_ids.new(sync.provider, object_name)
    record = Record(
        id=str(uuid.uuid4()),
        sync_id=sync.id,
        collection_id=collection_id,
        provider=sync.provider,
        stream_id=sync.stream_id,
        upstream_id=upstream_id,
        data=upstream.created_data(sync.provider, object_name, sent, upstream_id, now),
        deleted=False,
        inserted_at=now,
        upstream_created_at=now,
        upstream_updated_at=now,
        updated_idx=state.next_idx(),
        sync=sync_ref(sync),
    )
    state.publish(record, record_json(record), "created")
    return record


def _update(state: State, sync: Sync, mutation: Mutation) -> list[Record]:
    targets = [_existing(state, sync, mutation, item["upstream_id"]) for item in mutation.records]
    for item in mutation.records:
        _validate(sync, mutation, item["data"], creating=False)
    object_name = mutation.collection_id.partition(":")[2]
    for record, item in zip(targets, mutation.records, strict=True):
        now = clock.utcnow()
        record.data = upstream.updated_data(
            sync.provider, object_name, record.data, item["data"], now
        )
        _touch(state, sync, record, now)
    return targets


def _delete(state: State, sync: Sync, mutation: Mutation) -> list[Record]:
    targets = [
        _existing(state, sync, mutation, upstream_id, allow_deleted=True)
        for upstream_id in mutation.upstream_ids
    ]
    for record in targets:
        if not record.deleted:
            record.deleted = True
            _touch(state, sync, record, clock.utcnow(), "deleted")
    return targets


_APPLY = {"create": _create, "update": _update, "delete": _delete}


def _touch(state: State, sync: Sync, record: Record, now: datetime, event: str = "updated") -> None:
    record.upstream_updated_at = now
    record.updated_idx = state.next_idx()
    record.sync = sync_ref(sync)
    state.publish(record, record_json(record), event)


def _existing(
    state: State, sync: Sync, mutation: Mutation, upstream_id: str, *, allow_deleted: bool = False
) -> Record:
    record = state.find_record(sync.id, mutation.collection_id, upstream_id)
    if record is None or (record.deleted and not allow_deleted):
        raise _upstream(
            sync.provider, f"entity is deleted or does not exist: {upstream_id}", mutation.kind
        )
    return record


def _validate(sync: Sync, mutation: Mutation, data: JSONObject, *, creating: bool) -> None:
    message = providers.validate(mutation.collection_id, data, creating=creating)
    if message is not None:
        raise _upstream(sync.provider, message, mutation.kind)


def _upstream(provider: str, message: str, kind: str) -> ApiError:
    name = providers.display_name(provider)
    return mutation_error(f"Error: {name} validation error: `{message}`", doc=DOCS[kind])


def _await_consumers(state: State, mutation: Mutation, applied: list[Record]) -> None:
    if not mutation.await_consumer_ids:
        return
    versions = [(r.id, r.updated_idx, r.attributes()) for r in applied]
    deadline = time.monotonic() + mutation.await_timeout_ms / 1000
    while True:
        waiting = [
            consumer_id
            for consumer_id in mutation.await_consumer_ids
            if (consumer := state.consumers.get(consumer_id)) is not None
            and not all(
                consumer.has_acked(record_id, idx)
                for record_id, idx, attributes in versions
                if consumer.matches(attributes)
            )
        ]
        remaining = deadline - time.monotonic()
        if not waiting:
            return
        if remaining <= 0:
            raise mutation_error(
                "Error: Timed out waiting for consumers: " + ", ".join(waiting), status=500
            )
        state.cond.wait(remaining)


def _records(obj: JSONObject, kind: str) -> list[JSONObject]:
    items = as_list(obj.get("records"))
    if not items:
        hint = " (the list key is `records`, not `data`)" if "data" in obj else ""
        raise _bad(f"`records` must be a non-empty list{hint}")
    records: list[JSONObject] = []
    for index, item in enumerate(items):
        record = as_object(item)
        data = as_object(record.get("data")) if record else None
        if record is None or data is None:
            raise _bad(f"`records[{index}].data` must be an object")
        upstream_id = record.get("upstream_id")
        if kind == "update" and (not isinstance(upstream_id, str) or not upstream_id):
            raise _bad(f"`records[{index}].upstream_id` is required for updates")
        records.append({"upstream_id": upstream_id, "data": data})
    return records


def _strings(obj: JSONObject, key: str) -> list[str]:
    items = as_list(obj.get(key))
    if not items or not all(isinstance(item, str) and item for item in items):
        raise _bad(f"`{key}` must be a non-empty list of strings")
    return [str(item) for item in items]


def _await_ids(obj: JSONObject) -> list[str]:
    if obj.get("await_consumer_ids") is None:
        return []
    items = as_list(obj["await_consumer_ids"])
    if items is None or not all(isinstance(item, str) for item in items):
        raise _bad("`await_consumer_ids` must be a list of consumer ids")
    return [str(item) for item in items]


def _await_timeout(obj: JSONObject) -> int:
    value = obj.get("await_consumers_timeout")
    if value is None:
        return DEFAULT_AWAIT_TIMEOUT_MS
    if not is_int(value) or value < 0:
        raise _bad("`await_consumers_timeout` must be a non-negative integer (milliseconds)")
    return int(value)


def _bad(reason: str) -> ApiError:
    return mutation_error(f"Error: Invalid request: {reason}")
