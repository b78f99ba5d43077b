"""Planning a commit: which mutation requests to send, in which order (pure: no I/O).

Per ``(sync_id, collection_id)``: at most one create, one update and one delete request,
chunked by the provider's limit. Creates come in dependency waves (an object referenced by
another new object is created first), then updates, then deletes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

import attrs

from sequin_orm.errors import ModelError
from sequin_orm.record import Record

if TYPE_CHECKING:
    from sequin_orm.model import Model

Kind = Literal["create", "update", "delete"]


@attrs.frozen
class Await:
    """Consumers a request waits for (``await_consumer_ids``/``await_consumers_timeout``)."""

    consumer_ids: tuple[str, ...] = ()
    timeout_ms: int | None = None

    def merged(self, other: Await | None) -> Await:
        if other is None:
            return self
        ids = tuple(dict.fromkeys(self.consumer_ids + other.consumer_ids))
        timeouts = [t for t in (self.timeout_ms, other.timeout_ms) if t is not None]
        return Await(ids, max(timeouts) if timeouts else None)


class AwaitKwargs(TypedDict, total=False):
    """The options of ``Session.commit()``: consumers every request waits for."""

    await_consumer_ids: list[str] | None
    await_consumers_timeout: int | None


class WriteKwargs(AwaitKwargs, total=False):
    """The options of ``save()``, ``delete()``, ``Session.add()`` and ``Session.delete()``."""

    sync_id: str | None


@attrs.frozen
class WriteOptions:
    """How one object is written: to which sync, and which consumers to wait for."""

    sync_id: str | None = None
    awaiting: Await | None = None

    @classmethod
    def of(
        cls,
        *,
        sync_id: str | None = None,
        await_consumer_ids: list[str] | None = None,
        await_consumers_timeout: int | None = None,
    ) -> WriteOptions:
        """Checked options (``ModelError`` for a bad combination, before any request)."""
        awaiting = await_of(await_consumer_ids, await_consumers_timeout)
        if sync_id is None and awaiting is None:
            return PLAIN
        return cls(sync_id, awaiting)


PLAIN = WriteOptions()  # shared by every object written without options


def await_of(consumer_ids: list[str] | None, timeout_ms: int | None) -> Await | None:
    """The consumers to await, checked; None when there are none."""
    if not consumer_ids:
        if timeout_ms is not None:
            raise ModelError("await_consumers_timeout needs await_consumer_ids")
        return None
    if timeout_ms is not None and timeout_ms < 0:
        raise ModelError("await_consumers_timeout is a number of milliseconds >= 0")
    return Await(tuple(consumer_ids), timeout_ms)


#: An object waiting in a session: ``(obj, sync_id, awaiting)``, the sync it is written to and
#: the consumers its request waits for. A plain tuple: a commit builds one per object, and a
#: named tuple's constructor is a Python call.
Pending = tuple["Model", str, "Await | None"]


@attrs.frozen
class Step:
    """One mutation request: a chunk of objects of one kind, sync and collection.

    Steps of one ``stage`` need no answer to each other: a stage is a wave of creates, the
    updates or the deletes, and a later stage may refer to objects an earlier one created.
    """

    kind: Kind
    sync_id: str
    collection_id: str
    objects: tuple[Model, ...]
    awaiting: Await | None = None
    stage: int = 0


def plan_commit(
    creates: Sequence[Pending],
    updates: Sequence[Pending],
    deletes: Sequence[Pending],
    *,
    batch_size: Callable[[type[Model]], int],
    awaiting: Await | None = None,
    references: Mapping[Model, Sequence[Model]],
) -> list[Step]:
    """The ordered requests of a commit. Raises ``ModelError`` for a reference cycle.

    ``references``: each object's ``unsaved_references()`` (objects without any may be left
    out).
    """
    waves = _create_waves(creates, references)
    stages: list[tuple[Kind, Sequence[Pending]]] = [("create", wave) for wave in waves]
    stages.append(("update", updates))
    stages.append(("delete", deletes))
    steps: list[Step] = []
    for stage, (kind, pending) in enumerate(stages):
        steps += _chunked(kind, pending, batch_size, awaiting, stage)
    return steps


def unsaved_references(obj: Model) -> list[Model]:
    """Objects ``obj`` references through reference fields that have no upstream id yet."""
    values = obj._values
    keys = obj._spec.reference_keys
    if values.keys().isdisjoint(keys):
        return []  # no reference set: the common case
    # every Record at run time is a Model (the class users declare); the check needs the base
    return [
        cast("Model", value)
        for value in map(values.get, keys)
        if isinstance(value, Record) and value._upstream_id is None
    ]


def mutation_body(step: Step, payloads: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    """The JSON body of ``POST /v1/mutations/run`` for a step.

    ``payloads`` are the ``data`` objects of a create or update, one per object.
    """
    body: dict[str, Any] = {
        "kind": step.kind,
        "sync_id": step.sync_id,
        "collection_id": step.collection_id,
    }
    if step.kind == "delete":
        body["upstream_ids"] = [obj._upstream_id for obj in step.objects]
    elif step.kind == "create":
        body["records"] = [{"data": data} for data in payloads or ()]
    else:
        body["records"] = [
            {"upstream_id": obj._upstream_id, "data": data}
            for obj, data in zip(step.objects, payloads or (), strict=True)
        ]
    if step.awaiting is not None and step.awaiting.consumer_ids:
        body["await_consumer_ids"] = list(step.awaiting.consumer_ids)
        if step.awaiting.timeout_ms is not None:
            body["await_consumers_timeout"] = step.awaiting.timeout_ms
    return body


def payloads_of(step: Step) -> list[dict[str, Any]] | None:
    """The ``data`` to send for each object of a create or update step (None for deletes)."""
    if step.kind == "create":
        return [obj.create_data() for obj in step.objects]
    if step.kind == "update":
        return [obj.update_data() for obj in step.objects]
    return None


def _create_waves(
    creates: Sequence[Pending], references: Mapping[Model, Sequence[Model]]
) -> list[list[Pending]]:
    """Split creates into waves; every object's unsaved references are in earlier waves."""
    needs: dict[Model, list[Model]] = {}
    if any(references.values()):
        new_objects = set(map(_OBJ, creates))
        for obj, *_ in creates:
            refs = [ref for ref in references.get(obj, ()) if ref in new_objects]
            if refs:
                needs[obj] = refs
    if not needs:  # the common case: no new object refers to another
        return [list(creates)] if creates else []
    remaining = list(creates)
    waves: list[list[Pending]] = []
    done: set[Model] = set()
    while remaining:
        wave = [p for p in remaining if all(ref in done for ref in needs.get(p[0], ()))]
        if not wave:
            names = ", ".join(sorted({type(obj).__name__ for obj, *_ in remaining}))
            raise ModelError(f"Reference cycle among new objects ({names}): nothing was sent")
        waves.append(wave)
        done.update(map(_OBJ, wave))
        remaining = [p for p in remaining if p[0] not in done]
    return waves


def _chunked(
    kind: Kind,
    pending: Iterable[Pending],
    batch_size: Callable[[type[Model]], int],
    awaiting: Await | None,
    stage: int,
) -> list[Step]:
    pending = list(pending)
    # (sync_id, collection_id) of each, in C
    keys = list(zip(map(_SYNC, pending), map(_COLLECTION, map(_OBJ, pending)), strict=True))
    groups: dict[tuple[str, str], list[Pending]] = {}
    if len(set(keys)) == 1:
        groups[keys[0]] = pending  # the common case: one sync and collection
    else:
        for key, p in zip(keys, pending, strict=True):
            groups.setdefault(key, []).append(p)
    steps: list[Step] = []
    for (sync_id, collection_id), members in groups.items():
        size = batch_size(type(members[0][0]))
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            step_await = awaiting
            for options in filter(None, map(_AWAITING, chunk)):
                step_await = options.merged(step_await)
            objects = tuple(map(_OBJ, chunk))
            steps.append(Step(kind, sync_id, collection_id, objects, step_await, stage))
    return steps


_OBJ: Callable[[Pending], Model] = operator.itemgetter(0)
_SYNC: Callable[[Pending], str] = operator.itemgetter(1)
_AWAITING: Callable[[Pending], Await | None] = operator.itemgetter(2)
_COLLECTION: Callable[[Model], str] = operator.attrgetter("collection_id")
