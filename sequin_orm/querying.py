"""The mirror as the lower layers see it: what ``Model.objects`` and a session ask of it.

The mirror itself (``sequin_orm.mirror``, on SQLAlchemy) sits above the models and the
consumers it uses; a ``Requestor`` only carries it as a ``MirrorHook`` (``Client(mirror=…)``,
``configure(mirror=…)``), so ``reading.py`` and ``session.py`` reach it without importing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sequin_orm.plan import Await

if TYPE_CHECKING:
    from sequin_orm.model import Model
    from sequin_orm.requestor import HasRequestor
    from sequin_orm.results import CommitResult

__all__ = ["MirrorHook", "QuerySetLike", "awaiting_with_mirror"]

_M = TypeVar("_M", bound="Model")
_M_co = TypeVar("_M_co", bound="Model", covariant=True)


class QuerySetLike(Protocol[_M_co]):
    """A lazy query over the mirrored records of one model (``sequin_orm.mirror.QuerySet``)."""

    def filter(self, **lookups: Any) -> QuerySetLike[_M_co]: ...
    def exclude(self, **lookups: Any) -> QuerySetLike[_M_co]: ...
    def order_by(self, *names: str) -> QuerySetLike[_M_co]: ...
    def with_deleted(self) -> QuerySetLike[_M_co]: ...
    def first(self) -> _M_co | None: ...
    def get(self, **lookups: Any) -> _M_co: ...
    def count(self) -> int: ...
    def exists(self) -> bool: ...
    def __iter__(self) -> Iterator[_M_co]: ...


class MirrorHook(Protocol):
    """What a ``Requestor`` knows of the mirror configured with its client."""

    @property
    def consumer_id(self) -> str | None: ...

    @property
    def read_your_writes(self) -> bool: ...

    def query(self, model: type[_M]) -> QuerySetLike[_M]: ...

    def upsert(
        self,
        model: type[Model],
        rows: Iterable[Mapping[str, Any]],
        *,
        key: str | Sequence[str],
        client: HasRequestor | None = None,
    ) -> CommitResult: ...

    def get_or_create(
        self,
        model: type[_M],
        lookups: Mapping[str, Any],
        *,
        defaults: Mapping[str, Any] | None = None,
        client: HasRequestor | None = None,
    ) -> tuple[_M, bool]: ...


def awaiting_with_mirror(mirror: MirrorHook | None, awaiting: Await | None) -> Await | None:
    """``awaiting`` plus the mirror's consumer when it wants read-your-writes."""
    if mirror is None or not mirror.read_your_writes or not mirror.consumer_id:
        return awaiting
    return Await((mirror.consumer_id,)).merged(awaiting)
