"""``QuerySet``: a lazy, typed query over the mirrored records of one model.

::

    contacts = mirror.query(salesforce.Contact).filter(LastName__in=["Atreides", "Idaho"])
    for contact in contacts.order_by("-LastName")[:20]:     # one SELECT, when iterated
        ...

Every method that returns a ``QuerySet`` returns a new one and runs nothing; ``first``, ``get``,
``count``, ``exists``, iteration and an integer index query the database. Deleted records are
left out unless ``with_deleted()``. Objects come back clean, through the current session's
identity map when one is active (a changed object saves as an update).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from sequin_orm.errors import ModelError, NotFoundError
from sequin_orm.mirror.errors import MultipleRecordsError
from sequin_orm.mirror.lookups import condition, expression_of, target
from sequin_orm.mirror.rows import record_of
from sequin_orm.mirror.tables import records
from sequin_orm.model import Model
from sequin_orm.reading import load_record

if TYPE_CHECKING:
    from sequin_orm.mirror.core import Mirror

__all__ = ["QuerySet"]

_M = TypeVar("_M", bound=Model)


class QuerySet(Generic[_M]):
    """Mirrored records of ``model`` matching the filters so far (nothing runs until asked)."""

    def __init__(
        self,
        mirror: Mirror,
        model: type[_M],
        *,
        where: tuple[ColumnElement[bool], ...] = (),
        ordering: tuple[str, ...] = (),
        window: tuple[int, int | None] = (0, None),
        deleted: bool = False,
    ) -> None:
        if not model.collection_id:
            raise ModelError(f"{model.__name__} has no collection_id to query")
        self.mirror = mirror
        self.model = model
        self._where = where
        self._ordering = ordering
        self._window = window
        self._deleted = deleted

    def __repr__(self) -> str:
        return f"<QuerySet of {self.model.__name__}: {len(self._where)} condition(s)>"

    def _copy(self, **changes: Any) -> QuerySet[_M]:
        values: dict[str, Any] = {
            "where": self._where,
            "ordering": self._ordering,
            "window": self._window,
            "deleted": self._deleted,
        }
        values.update(changes)
        return QuerySet(self.mirror, self.model, **values)

    # -- building (no query) ---------------------------------------------------------------

    def filter(self, **lookups: Any) -> QuerySet[_M]:
        """Records matching every lookup (``Email="…"``, ``Amount__gte=10``)."""
        return self._copy(where=self._where + self._conditions(lookups))

    def exclude(self, **lookups: Any) -> QuerySet[_M]:
        """Records not matching all of the lookups."""
        if not lookups:
            return self
        return self._copy(where=(*self._where, sa.not_(sa.and_(*self._conditions(lookups)))))

    def order_by(self, *names: str) -> QuerySet[_M]:
        """Ordered by fields (``"-LastName"``: descending; empty values last); replaces an
        earlier ordering."""
        for name in names:
            target(self.model, name.removeprefix("-"))  # ModelError for an unknown field
        return self._copy(ordering=names)

    def with_deleted(self) -> QuerySet[_M]:
        """Deleted records (tombstones) too; they come back with ``deleted is True``."""
        return self._copy(deleted=True)

    @overload
    def __getitem__(self, index: int) -> _M: ...
    @overload
    def __getitem__(self, index: slice) -> QuerySet[_M]: ...
    def __getitem__(self, index: int | slice) -> _M | QuerySet[_M]:
        """``qs[:20]`` (no query) or ``qs[3]`` (queries; ``IndexError`` past the end)."""
        if isinstance(index, slice):
            return self._copy(window=self._slice(index))
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ModelError("A query set takes a non-negative integer index or a slice")
        found = list(self._copy(window=self._slice(slice(index, index + 1))))
        if not found:
            raise IndexError(index)
        return found[0]

    def _slice(self, index: slice) -> tuple[int, int | None]:
        start, stop = index.start or 0, index.stop
        if index.step not in (None, 1) or start < 0 or (stop is not None and stop < 0):
            raise ModelError("Query set slices take non-negative start and stop, no step")
        offset, limit = self._window
        start += offset
        stop = None if stop is None else offset + stop
        if limit is not None:
            end = offset + limit
            stop = end if stop is None else min(stop, end)
        return start, None if stop is None else max(stop - start, 0)

    # -- running (queries the mirror) --------------------------------------------------------

    def __iter__(self) -> Iterator[_M]:
        """The matching objects (one SELECT)."""
        for row in self._rows():
            yield load_record(self.model, record_of(row))

    def detached(self) -> list[_M]:
        """The matching objects as new objects outside any session (one SELECT)."""
        return [self.model.from_record(record_of(row)) for row in self._rows()]

    def _rows(self) -> list[Any]:
        return self.mirror.fetch_rows(self._select())

    def first(self) -> _M | None:
        """The first matching object, or None."""
        return next(iter(self[:1]), None)

    def get(self, **lookups: Any) -> _M:
        """The one object matching; ``NotFoundError`` if none, ``MultipleRecordsError`` if
        several."""
        found = list(self.filter(**lookups)[:2])
        if len(found) == 1:
            return found[0]
        described = ", ".join(f"{k}={v!r}" for k, v in lookups.items()) or "the filters"
        if not found:
            raise NotFoundError(
                f"No {self.model.collection_id} record in the mirror matches {described}",
                status_code=404,
                method="SELECT",
                path=f"mirror {self.model.collection_id}",
            )
        raise MultipleRecordsError(
            f"More than one {self.model.collection_id} record matches {described}; "
            "add lookups, or use filter()"
        )

    def count(self) -> int:
        """How many records match (one SELECT count)."""
        inner = self._select(columns=(records.c.upstream_id,), ordered=False).subquery()
        return int(self.mirror.fetch_scalar(sa.select(sa.func.count()).select_from(inner)))

    def exists(self) -> bool:
        """Whether any record matches (one SELECT … LIMIT 1)."""
        one = self._select(columns=(records.c.upstream_id,), ordered=False).limit(1)
        return self.mirror.fetch_scalar(one) is not None

    # -- SQL -------------------------------------------------------------------------------

    def _conditions(self, lookups: dict[str, Any]) -> tuple[ColumnElement[bool], ...]:
        dialect = self.mirror.dialect
        return tuple(condition(self.model, k, v, dialect) for k, v in lookups.items())

    def _select(
        self, columns: Sequence[Any] = (records,), *, ordered: bool = True
    ) -> sa.Select[Any]:
        query = sa.select(*columns).where(records.c.collection_id == self.model.collection_id)
        if not self._deleted:
            query = query.where(records.c.deleted.is_(False))
        query = query.where(*self._where)
        if ordered:
            query = query.order_by(*self._order())
        offset, limit = self._window
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return query

    def _order(self) -> list[Any]:
        dialect = self.mirror.dialect
        order: list[Any] = []
        for name in self._ordering:
            column = expression_of(target(self.model, name.removeprefix("-")), dialect)
            direction = column.desc() if name.startswith("-") else column.asc()
            order.append(direction.nulls_last())  # the same on both engines
        return [*order, records.c.upstream_id, records.c.sync_id]  # a stable order for slices
