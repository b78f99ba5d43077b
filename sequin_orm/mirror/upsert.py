"""Writing by an external key through the mirror: ``upsert`` and ``get_or_create``.

::

    salesforce.Contact.objects.upsert(rows, key="Email")

For each chunk of rows, ONE query finds the records whose key matches; then ONE commit sends
creates for the rows that matched nothing and updates carrying only the fields that changed
(rows equal to their record send nothing). Running the same import twice creates nothing the
second time — as long as the mirror has caught up with the first run (a worker running, or
``read_your_writes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sequin_orm.errors import ModelError, NotFoundError
from sequin_orm.mirror.errors import MultipleRecordsError
from sequin_orm.mirror.query import QuerySet
from sequin_orm.model import Model
from sequin_orm.requestor import HasRequestor
from sequin_orm.results import CommitResult
from sequin_orm.session import Session

__all__ = ["CHUNK_SIZE", "get_or_create", "upsert_by_key"]

#: Rows looked up per query.
CHUNK_SIZE = 500

_M = TypeVar("_M", bound=Model)
_Key = tuple[Any, ...]


def upsert_by_key(
    query: QuerySet[_M],
    rows: Iterable[Mapping[str, Any]],
    *,
    key: str | Sequence[str],
    client: HasRequestor | None,
    chunk_size: int = CHUNK_SIZE,
) -> CommitResult:
    """Create or update ``rows`` matched on ``key`` (queries the mirror, then commits: hits
    the network). ``ModelError`` for a bad key or row, before any query."""
    model = query.model
    keys = _key_fields(model, key)
    checked = [_checked_row(model, row, keys, number) for number, row in enumerate(rows, 1)]
    session = Session(client)
    seen: dict[_Key, _M] = {}
    for start in range(0, len(checked), chunk_size):
        chunk = checked[start : start + chunk_size]
        found = _existing(query, keys, chunk)
        for row in chunk:
            row_key = tuple(row[name] for name in keys)
            obj = seen.get(row_key) or found.get(row_key)
            if obj is None:
                obj = model(**row)
            else:
                for name, value in row.items():
                    setattr(obj, name, value)  # an equal value changes nothing
            seen[row_key] = obj
            if obj.is_dirty:
                session.add(obj)
    return session.commit()


def _key_fields(model: type[Model], key: str | Sequence[str]) -> tuple[str, ...]:
    keys = (key,) if isinstance(key, str) else tuple(key)
    if not keys:
        raise ModelError("upsert() needs key= (a field name or a list of them)")
    for name in keys:
        spec_field = model._spec.by_name.get(name)
        if spec_field is None or spec_field.read_only:
            raise ModelError(f"upsert key {name!r} is not a writable field of {model.__name__}")
    return keys


def _checked_row(
    model: type[Model], row: Mapping[str, Any], keys: tuple[str, ...], number: int
) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise ModelError(f"upsert row {number} is a {type(row).__name__}, not a mapping")
    by_name = model._spec.by_name
    unknown = [n for n in row if n not in by_name or by_name[n].read_only]
    if unknown:
        raise ModelError(
            f"upsert row {number}: {model.__name__} has no writable field "
            + ", ".join(repr(n) for n in unknown)
        )
    missing = [n for n in keys if row.get(n) is None]
    if missing:
        raise ModelError(f"upsert row {number} has no value for the key {', '.join(missing)}")
    return dict(row)


def _existing(
    query: QuerySet[_M], keys: tuple[str, ...], chunk: list[dict[str, Any]]
) -> dict[_Key, _M]:
    """The records of a chunk's keys, by key (ONE query on the first key field)."""
    values = list(dict.fromkeys(row[keys[0]] for row in chunk))
    found: dict[_Key, _M] = {}
    for obj in query.filter(**{f"{keys[0]}__in": values}).detached():
        obj_key = tuple(getattr(obj, name) for name in keys)
        if obj_key in found:
            raise MultipleRecordsError(
                f"Several {query.model.collection_id} records have "
                f"{dict(zip(keys, obj_key, strict=True))}: upsert needs a unique key"
            )
        found[obj_key] = obj
    return found


def get_or_create(
    query: QuerySet[_M],
    lookups: Mapping[str, Any],
    defaults: Mapping[str, Any] | None,
    client: HasRequestor | None,
) -> tuple[_M, bool]:
    """``(record, False)`` when one matches ``lookups`` in the mirror (queries it), else a new
    object from the plain lookups and ``defaults``, saved (hits the network; enqueued inside
    an active session), and True."""
    try:
        return query.get(**lookups), False
    except NotFoundError:
        pass
    values = {k: v for k, v in lookups.items() if "__" not in k and k not in ("upstream_id",)}
    values.update(defaults or {})
    values.pop("sync_id", None)
    obj = query.model(**values)
    if client is None:
        obj.save()
    else:
        session = Session(client)
        session.add(obj)
        session.commit()
    return obj, True
