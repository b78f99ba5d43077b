"""``Model``: a ``Record`` that talks to the API through sessions: ``save()``, ``delete()``,
their async twins ``asave()`` and ``adelete()``, ``objects`` (reading). Generated and
hand-written model classes derive from it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

from sequin_orm.reading import RecordManager
from sequin_orm.record import DELETED, NEW, PERSISTENT, UNKNOWN, Record, State, ref_record
from sequin_orm.results import SaveResult, pending_result
from sequin_orm.session import (
    active_unit_of_work,
    adelete_object,
    asave_object,
    delete_object,
    save_object,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.plan import WriteKwargs

__all__ = ["DELETED", "NEW", "PERSISTENT", "UNKNOWN", "Model", "State"]

_M = TypeVar("_M", bound="Model")


class _RecordsAccessor:
    """``Model.objects``: the ``RecordManager`` (reading.py) of the class it is read from."""

    def __get__(self, obj: object, owner: type[_M]) -> RecordManager[_M]:
        return RecordManager(owner)


class Model(Record):
    """Base class of every Sequin model (generated or hand-written)."""

    __slots__ = ()

    #: Reads records of this model's collection: ``Contact.objects.iter(...)`` (reading.py).
    objects: ClassVar[_RecordsAccessor] = _RecordsAccessor()

    @classmethod
    def ref(cls: type[_M], upstream_id: str, *, sync_id: str | None = None) -> _M:
        """A persistent object for the record ``upstream_id`` that holds no data yet (no request).

        Assign fields and ``save()`` to update only those, or ``delete()`` it, without reading
        the record first. Its fields read as None until an answer fills them. ``sync_id``: the
        sync it belongs to (else the session's or the provider's default).
        """
        return cls._load(ref_record(cls, upstream_id, sync_id), adopt=True)

    def save(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """Create or update the record (hits the network outside a session).

        Outside a session: one mutation now, or none when nothing changed. Inside an active
        ``Session``: enqueue and return at once (``result.pending``). Options: ``sync_id``,
        ``await_consumer_ids``, ``await_consumers_timeout``.
        """
        session = active_unit_of_work()
        if session is None:
            return save_object(self, options)
        if options:
            session.add(self, **options)
        else:  # a plain call: unpacking an empty dict costs a generic call
            session.add(self)
        return pending_result(self._upstream_id)

    def delete(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """Delete the record (hits the network outside a session; enqueues inside one)."""
        session = active_unit_of_work()
        if session is None:
            return delete_object(self, options)
        session.delete(self, **options)
        return pending_result(self._upstream_id)

    async def asave(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """The async twin of ``save()``: one mutation now through the default async client,
        or enqueue into the active session (``AsyncSession`` or ``Session``)."""
        if active_unit_of_work() is not None:  # enqueued: nothing to wait for
            return Model.save(self, **options)  # not an override: asave() never called it
        return await asave_object(self, options)

    async def adelete(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """The async twin of ``delete()``."""
        if active_unit_of_work() is not None:  # enqueued: nothing to wait for
            return Model.delete(self, **options)  # not an override: adelete() never called it
        return await adelete_object(self, options)
