"""What a save, a delete or a commit did, object by object."""

from __future__ import annotations

import enum
import operator
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

import attrs

from sequin_orm.errors import SequinError

if TYPE_CHECKING:
    from sequin_orm.model import Model

__all__ = ["CommitResult", "ObjectOutcome", "Outcome", "SaveResult", "outcomes"]


class Outcome(enum.Enum):
    """What happened to one object in a commit."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    FAILED = "failed"  # not applied; the object keeps its changes and is sent again next commit
    UNKNOWN = "unknown"  # may have been applied; see Model.is_unknown


class ObjectOutcome(NamedTuple):
    """One object's outcome, with the error when there was one.

    An object can be ``UPDATED`` or ``DELETED`` and still carry an error: the write was
    applied but awaiting consumers timed out. A tuple: a commit builds one per object.
    """

    obj: Model
    outcome: Outcome
    error: SequinError | None = None


_ERROR = operator.attrgetter("error")


def outcomes(objects: Iterable[Model], outcome: Outcome) -> list[ObjectOutcome]:
    """``ObjectOutcome(obj, outcome)`` of each object, without error. Built in C (a commit
    makes one per object; the named tuple's own ``__new__`` is a Python call)."""
    fields = zip(objects, repeat(outcome), repeat(None))
    return list(map(tuple.__new__, repeat(ObjectOutcome), fields))


@attrs.frozen
class CommitResult:
    """Every object's outcome, in the order requests were sent."""

    outcomes: tuple[ObjectOutcome, ...] = ()
    requests_sent: int = 0

    @property
    def ok(self) -> bool:
        """True when every object was applied and nothing reported an error."""
        return not any(map(_ERROR, self.outcomes))  # errors are exceptions: never falsy

    def _objects(self, outcome: Outcome) -> list[Model]:
        return [o.obj for o in self.outcomes if o.outcome is outcome]

    @property
    def created(self) -> list[Model]:
        return self._objects(Outcome.CREATED)

    @property
    def updated(self) -> list[Model]:
        return self._objects(Outcome.UPDATED)

    @property
    def deleted(self) -> list[Model]:
        return self._objects(Outcome.DELETED)

    @property
    def failed(self) -> list[Model]:
        return self._objects(Outcome.FAILED)

    @property
    def unknown(self) -> list[Model]:
        return self._objects(Outcome.UNKNOWN)

    @property
    def errors(self) -> list[SequinError]:
        """Distinct errors, in order."""
        if self.ok:
            return []  # the common case, found in C
        seen: dict[int, SequinError] = {}
        for o in self.outcomes:
            if o.error is not None:
                seen.setdefault(id(o.error), o.error)
        return list(seen.values())

    def outcome_of(self, obj: Model) -> ObjectOutcome | None:
        return next((o for o in self.outcomes if o.obj is obj), None)

    def __iter__(self) -> Iterator[ObjectOutcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def summary(self) -> str:
        counts = {k.value: len(self._objects(k)) for k in Outcome}
        parts = [f"{n} {name}" for name, n in counts.items() if n]
        return f"{', '.join(parts) or 'nothing to do'} in {self.requests_sent} request(s)"


class SaveResult(NamedTuple):
    """What ``save()`` or ``delete()`` did.

    ``pending`` is True inside a session: the change was only enqueued. A tuple: a session
    returns one per ``save()``.
    """

    upstream_id: str | None
    created: bool = False
    updated: bool = False
    deleted: bool = False
    pending: bool = False
    field_names: frozenset[str] = frozenset()

    @property
    def saved(self) -> bool:
        """True when a request changed the record."""
        return self.created or self.updated or self.deleted


_NO_FIELDS: frozenset[str] = frozenset()


def pending_result(upstream_id: str | None) -> SaveResult:
    """``SaveResult(upstream_id, pending=True)``, built in C (the named tuple's own
    ``__new__`` is a Python call, and a session returns one per ``save()``)."""
    if upstream_id is None:
        return _PENDING_NEW
    return tuple.__new__(SaveResult, (upstream_id, False, False, False, True, _NO_FIELDS))


_PENDING_NEW = tuple.__new__(SaveResult, (None, False, False, False, True, _NO_FIELDS))
