"""Planning a commit: which mutation requests to send, in which order (pure: no I/O).

Per ``(sync_id, collection_id)``: at most one create, one update and one delete request,
chunked by the provider's limit. Creates come in dependency waves (an object referenced by
another new object is created first), then updates, then deletes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

import attrs

from sequin_orm.errors import ModelError
from sequin_orm.record import Record, create_payloads, update_payloads

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


class Pending(dict[str, list["Model"]]):
    """Objects of one kind waiting in a session, by the sync they are written to, in the
    order they were added: ``pending[sync_id].append(obj)``. Groups rather than a tuple per
    object: a commit keeps no small object per object alive while it plans."""

    def __missing__(self, sync_id: str) -> list[Model]:
        group: list[Model] = []
        self[sync_id] = group
        return group


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
    creates: Pending,
    updates: Pending,
    deletes: Pending,
    *,
    batch_size: Callable[[type[Model]], int],
    awaiting: Await | None = None,
    awaiting_of: Mapping[Model, Await] | None = None,
    references: Mapping[Model, Sequence[Model]],
) -> list[Step]:
    """The ordered requests of a commit. Raises ``ModelError`` for a reference cycle.

    ``awaiting``: the consumers every request waits for; ``awaiting_of``: those of the objects
    saved with their own (a request waits for those of all its objects). ``references``:
    each object's ``unsaved_references()`` (objects without any may be left out).
    """
    waves = _create_waves(creates, references)
    stages: list[tuple[Kind, Pending]] = [("create", wave) for wave in waves]
    stages.append(("update", updates))
    stages.append(("delete", deletes))
    steps: list[Step] = []
    for stage, (kind, pending) in enumerate(stages):
        for sync_id, objects in pending.items():
            for collection_id, members in _by_collection(objects).items():
                size = batch_size(type(members[0]))
                for start in range(0, len(members), size):
                    chunk = tuple(members[start : start + size])
                    step_await = _awaiting(chunk, awaiting, awaiting_of)
                    steps.append(Step(kind, sync_id, collection_id, chunk, step_await, stage))
    return steps


def unsaved_references(obj: Model) -> list[Model]:
    """Objects ``obj`` references through reference fields that have no upstream id yet."""
    values = obj._values
    spec = obj._spec
    if spec.reference_keys.isdisjoint(values):
        return []  # no reference set: the common case
    # every Record at run time is a Model (the class users declare); the check needs the base
    # (in declaration order: the order in which cascaded objects are created)
    return [
        cast("Model", value)
        for value in (values.get(field.key) for field in spec.references)
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
        return create_payloads(step.objects)
    if step.kind == "update":
        return update_payloads(step.objects)
    return None


def _create_waves(creates: Pending, references: Mapping[Model, Sequence[Model]]) -> list[Pending]:
    """Split creates into waves; every object's unsaved references are in earlier waves."""
    needs: dict[Model, list[Model]] = {}
    if any(references.values()):
        new_objects = {obj for objects in creates.values() for obj in objects}
        for obj, refs in references.items():
            earlier = [ref for ref in refs if ref in new_objects]
            if earlier and obj in new_objects:
                needs[obj] = earlier
    if not needs:  # the common case: no new object refers to another
        return [creates] if creates else []
    remaining = creates
    waves: list[Pending] = []
    done: set[Model] = set()
    while remaining:
        wave = _kept(remaining, lambda obj: all(ref in done for ref in needs.get(obj, ())))
        if not wave:
            names = {type(obj).__name__ for objects in remaining.values() for obj in objects}
            raise ModelError(
                f"Reference cycle among new objects ({', '.join(sorted(names))}): nothing was sent"
            )
        waves.append(wave)
        for objects in wave.values():
            done.update(objects)
        remaining = _kept(remaining, lambda obj: obj not in done)
    return waves


def _kept(pending: Pending, keep: Callable[[Model], bool]) -> Pending:
    """The objects of ``pending`` that ``keep`` accepts, still grouped by sync."""
    kept = Pending()
    for sync_id, objects in pending.items():
        for obj in objects:
            if keep(obj):
                kept[sync_id].append(obj)
    return kept


def _by_collection(objects: list[Model]) -> dict[str, list[Model]]:
    """``objects`` by collection id, in order."""
    collections = list(map(_COLLECTION, objects))
    if collections.count(collections[0]) == len(collections):  # in C: the common case
        return {collections[0]: objects}
    groups: dict[str, list[Model]] = {}
    for collection_id, obj in zip(collections, objects, strict=True):
        groups.setdefault(collection_id, []).append(obj)
    return groups


def _awaiting(
    chunk: Sequence[Model], awaiting: Await | None, awaiting_of: Mapping[Model, Await] | None
) -> Await | None:
    """The consumers a request for ``chunk`` waits for."""
    if awaiting_of:
        for options in filter(None, map(awaiting_of.get, chunk)):
            awaiting = options.merged(awaiting)
    return awaiting


_COLLECTION: Callable[[Model], str] = operator.attrgetter("collection_id")
