"""The unit of work: collect changes, then send them as the fewest mutation requests.

``plan.py`` decides what to send and ``flow.py`` what every answer means; ``UnitOfWork`` keeps a
session's bookkeeping (what is pending, who owns an object) and builds the flow of a commit.
``Session`` drives that flow with ``drivers.drive`` and ``AsyncSession`` with
``drivers.adrive``: the two differ only in how they wait.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from sequin_orm.config import Settings
from sequin_orm.drivers import Progress, adrive, drive
from sequin_orm.errors import (
    AuthenticationError,
    CommitError,
    ConfigurationError,
    ModelError,
    PermissionDeniedError,
)
from sequin_orm.flow import CommitFlow
from sequin_orm.identity import IdentityMap
from sequin_orm.plan import (
    PLAIN,
    Await,
    AwaitKwargs,
    Pending,
    Step,
    WriteKwargs,
    WriteOptions,
    plan_commit,
    unsaved_references,
)
from sequin_orm.querying import awaiting_with_mirror
from sequin_orm.record import DELETED, NEW, PERSISTENT, UNKNOWN, Record, check_sendable
from sequin_orm.requestor import (
    AsyncRequestor,
    HasAsyncRequestor,
    HasRequestor,
    Requestor,
    async_requestor_of,
    requestor_of,
)
from sequin_orm.results import CommitResult, SaveResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.model import Model  # the public type; the session itself needs a Record

__all__ = ["AsyncSession", "Session", "UnitOfWork", "current_session"]

_M = TypeVar("_M", bound="Model")
_current: ContextVar[UnitOfWork | None] = ContextVar("sequin_orm_session", default=None)


def current_session() -> Session | AsyncSession | None:
    """The session of the current context (thread or asyncio task), if one is active."""
    return cast("Session | AsyncSession | None", _current.get())


class UnitOfWork:
    """What ``Session`` and ``AsyncSession`` share: pending objects, ownership, the identity
    map, the plan and the flow of a commit. Nothing here does I/O."""

    def __init__(self, *, sync_id: str | None = None) -> None:
        self.sync_id = sync_id
        self._tracked: dict[Model, WriteOptions] = {}
        self._deletes: dict[Model, WriteOptions] = {}
        self._identity = IdentityMap()
        self._tokens: list[Token[UnitOfWork | None]] = []
        self._committing = threading.Lock()
        self._ref = weakref.ref(self)
        #: What the last commit did, also when it was interrupted (None before any commit).
        self.last_result: CommitResult | None = None

    # -- context -------------------------------------------------------------------------

    def activate(self) -> None:
        """Make this the current session, without the commit or rollback of a ``with`` block.

        For integrations that decide themselves what happens to pending changes (a request,
        an app context). Pair every call with ``deactivate()`` in the same context.
        """
        self._tokens.append(_current.set(self))

    def deactivate(self) -> None:
        """Undo the last ``activate()``: the previous session is current again; sends nothing."""
        _current.reset(self._tokens.pop())

    # -- adding and removing objects -----------------------------------------------------

    def add(self, obj: Model, **options: Unpack[WriteKwargs]) -> None:
        """Track ``obj``: it is created or updated at the next commit (no request now)."""
        checked = WriteOptions.of(**options) if options else PLAIN
        state = obj._state
        if state is not NEW and state is not PERSISTENT:
            _check_savable(obj)
        owner = obj._owner
        if owner is self._ref:
            if self._tracked.get(obj) is checked:
                return  # saved again as it was (its identity is in the map: see _plan)
        elif owner is None:
            obj._owner = self._ref
        else:
            self._own(obj)
        if checked.sync_id is not None:
            _bind_sync(obj, checked.sync_id)
        if state is PERSISTENT:
            self._remember_identity(obj)
        if self._deletes:
            self._deletes.pop(obj, None)
        self._tracked[obj] = checked

    def delete(self, obj: Model, **options: Unpack[WriteKwargs]) -> None:
        """Mark ``obj`` for deletion at the next commit; a new object is simply dropped."""
        checked = WriteOptions.of(**options) if options else PLAIN
        state = obj._state
        if state is DELETED:
            raise ModelError(f"This {type(obj).__name__} is already deleted")
        if state is UNKNOWN:
            raise ModelError(_UNKNOWN_MESSAGE)
        if state is NEW:
            if obj not in self._tracked:
                raise ModelError(f"Cannot delete a {type(obj).__name__} that was never saved")
            del self._tracked[obj]
            return
        self._own(obj)
        if checked.sync_id is not None:
            _bind_sync(obj, checked.sync_id)
        self._remember_identity(obj)
        self._tracked.pop(obj, None)
        self._deletes[obj] = checked

    def expunge(self, obj: Model) -> None:
        """Stop tracking ``obj`` (its pending changes are not sent by this session); another
        session may then take it."""
        self._tracked.pop(obj, None)
        self._deletes.pop(obj, None)
        self._identity.discard(obj)
        if obj._owner is self._ref:
            obj._owner = None

    def _own(self, obj: Model) -> None:
        """Make this session the one ``obj`` is pending in; refuse if another has it pending."""
        owner = obj._owner
        if owner is self._ref:
            return
        other = owner() if owner is not None else None
        if other is not None and other._has_pending(obj):
            raise ModelError(
                f"This {type(obj).__name__} has changes pending in another Session; commit or "
                "roll back that session, or call its expunge(obj), before adding it here"
            )
        obj._owner = self._ref

    def _has_pending(self, obj: Model) -> bool:
        """Whether a commit of this session would send something for ``obj``."""
        if obj._owner is not self._ref:
            return False
        if obj in self._deletes:
            return True
        return obj in self and obj.is_dirty  # tracked, or kept in the identity map

    def _owns(self, obj: Model) -> bool:
        """Whether this session may send ``obj`` (no other live session took it)."""
        owner = obj._owner
        return owner is None or owner is self._ref or owner() is None

    def get(self, collection_id: str, upstream_id: str, sync_id: str) -> Model | None:
        """The tracked object with this identity, if any (no request)."""
        return self._identity.get(sync_id, collection_id, upstream_id)

    def load(self, cls: type[_M], record: Mapping[str, Any]) -> _M:
        """The object for a record, through the identity map (no request).

        A record already tracked refreshes the tracked object unless it has local changes
        (assigned, or sent by a request whose answer has not come back). The object keeps
        ``record["data"]`` as its last-known data (no copy): do not change it.
        """
        obj = cls._load(record, adopt=True)
        existing = self._identity.get_like(obj)
        if isinstance(existing, cls):
            if existing._equals_last_known():
                existing._absorb_record(record)
            return existing
        _check_savable(obj)
        self._remember_identity(obj)  # only there: saved when it changes (see _dirty_objects)
        return obj

    # -- views ---------------------------------------------------------------------------

    @property
    def new(self) -> tuple[Model, ...]:
        """Objects to create at the next commit."""
        return tuple(o for o in self._tracked if o.state is NEW and self._owns(o))

    @property
    def dirty(self) -> tuple[Model, ...]:
        """Persistent objects with changes to send."""
        return tuple(o for o in self._dirty_objects() if o._state is PERSISTENT)

    @property
    def deleted(self) -> tuple[Model, ...]:
        """Objects to delete at the next commit."""
        return tuple(o for o in self._deletes if self._owns(o))

    def __contains__(self, obj: object) -> bool:
        if obj in self._tracked or obj in self._deletes:
            return True
        return isinstance(obj, Record) and self._identity.get_like(cast("Model", obj)) is obj

    # -- commit and rollback -------------------------------------------------------------

    @contextmanager
    def _committing_flow(
        self, awaiting: Await | None, requestor: Requestor | AsyncRequestor
    ) -> Iterator[CommitFlow]:
        """The flow of one commit, for a driver to run inside the block.

        Refuses a second commit at once; plans before any request (raising ``ModelError`` or
        ``ConfigurationError`` for what cannot be sent); whatever interrupts the driver leaves
        the requests still out marked as possibly sent; the result is kept in ``last_result``.
        """
        if not self._committing.acquire(blocking=False):
            raise ModelError(
                "This Session is already committing (from another thread or task, or commit() "
                "was called again from inside the commit); a session commits once at a time"
            )
        try:
            settings = requestor.settings
            awaiting = awaiting_with_mirror(requestor.mirror, awaiting)  # read-your-writes
            steps, unknown = self._plan(awaiting, settings)
            if steps:
                settings.require_token()  # before any request is built
            flow = CommitFlow(
                steps,
                identity=self._identity,
                policy=settings.retry,
                jitter=requestor.http.jitter,
                not_created=unknown,
            )
            try:
                yield flow
            except BaseException as interruption:
                flow.abandon(interruption)  # whatever is still out may have been sent
                raise
            finally:
                self.last_result = flow.result()
                self._forget_deleted()
        finally:
            self._committing.release()

    def rollback(self) -> None:
        """Forget pending changes: new objects leave the session, others revert (no request)."""
        if self._committing.locked():
            raise ModelError("rollback() while this Session is committing")
        for obj in self._dirty_objects():
            if obj.state is NEW:
                self.expunge(obj)
            else:
                obj._revert()
        for obj in self._deletes:
            if self._owns(obj):
                obj._revert()
        self._deletes.clear()

    # -- internals -----------------------------------------------------------------------

    def _plan(self, awaiting: Await | None, settings: Settings) -> tuple[list[Step], list[Model]]:
        """The commit's requests, and the new objects referenced but not to be created (their
        create is unknown). Raises ``ModelError`` for what cannot be sent, before any request."""
        saved = self._dirty_objects()
        references, unknown = self._cascade_references(saved)
        default_sync = _DefaultSyncs(self, settings)
        creates, updates, deletes = Pending(), Pending(), Pending()
        awaiting_of: dict[Model, Await] = {}
        tracked = self._tracked
        check_sendable(saved)
        for obj in saved:
            entry = tracked.get(obj, PLAIN)  # only loaded: saved as it is
            state = obj._state
            if state is NEW:
                creates[obj._sync_id or entry.sync_id or default_sync[type(obj)]].append(obj)
            elif state is PERSISTENT:
                sync_id = obj._sync_id or self._bind_to(
                    obj, entry.sync_id or default_sync[type(obj)]
                )
                updates[sync_id].append(obj)
            if entry.awaiting is not None:
                awaiting_of[obj] = entry.awaiting
        for obj, entry in self._deletes.items():
            if self._owns(obj):
                sync_id = obj._sync_id or self._bind_to(
                    obj, entry.sync_id or default_sync[type(obj)]
                )
                deletes[sync_id].append(obj)
                if entry.awaiting is not None:
                    awaiting_of[obj] = entry.awaiting
        steps = plan_commit(
            creates,
            updates,
            deletes,
            batch_size=lambda cls: settings.batch_size_for(cls.provider, cls.batch_size),
            awaiting=awaiting,
            awaiting_of=awaiting_of,
            references=references,
        )
        return steps, unknown

    def _forget_deleted(self) -> None:
        """After a commit: deleted objects leave the session."""
        for obj in [o for o in self._deletes if o._state is DELETED]:
            self.expunge(obj)

    def _cascade_references(
        self, saved: list[Model]
    ) -> tuple[dict[Model, list[Model]], list[Model]]:
        """Unsaved objects referenced by saved ones are created too (save-update cascade):
        tracked (and owned), and added to ``saved``. Returns the unsaved references of each
        object that has some, and the referenced objects whose create is unknown (objects
        referring to them are held back, not sent)."""
        references: dict[Model, list[Model]] = {}
        unknown: list[Model] = []
        # objects with a reference field set (the first check of unsaved_references, inline:
        # most objects have none)
        queue = [obj for obj in saved if not obj._spec.reference_keys.isdisjoint(obj._values)]
        while queue:
            obj = queue.pop()
            refs = unsaved_references(obj)
            if not refs:
                continue
            references[obj] = refs
            for ref in refs:
                if ref.state is UNKNOWN:
                    unknown.append(ref)
                elif ref not in self._tracked:
                    self._own(ref)
                    self._tracked[ref] = PLAIN
                    saved.append(ref)
                    queue.append(ref)
        return references, unknown

    def _dirty_objects(self) -> list[Model]:
        """What a commit saves: objects with something to send that no other session took,
        those added first, then those only loaded (``load()`` puts objects in the identity
        map alone: a dict entry less per object). Their options: ``_tracked.get(obj, PLAIN)``
        (a list of pairs would keep a tuple per object alive through the commit, and each
        collection of the garbage collector would walk it)."""
        ref, tracked, deletes = self._ref, self._tracked, self._deletes
        # is_dirty and self._owns(obj), inline for the common cases: a commit asks them of
        # every object of the session (an object still holding its last-known data as values,
        # without extra, nothing assigned, is clean without a call)
        saved = [
            obj
            for obj in tracked
            if (
                (state := obj._state) is NEW
                or (
                    state is PERSISTENT
                    and (
                        obj._changed is not None
                        or ((obj._values is not obj._raw or obj._extra) and obj.is_dirty)
                    )
                )
            )
            and ((owner := obj._owner) is ref or owner is None or owner() is None)
        ]
        saved += [
            obj
            for obj in self._identity
            if obj not in tracked and obj not in deletes and obj.is_dirty and self._owns(obj)
        ]
        return saved

    def _default_sync(self, cls: type[Model], settings: Settings) -> str:
        """The sync of objects that name none: the session's, else their provider's."""
        if self.sync_id:
            return self.sync_id
        if not cls.provider:
            raise ConfigurationError(f"{cls.__name__} has no provider: pass sync_id=")
        return settings.sync_for(cls.provider)

    def _bind_to(self, obj: Model, sync_id: str) -> str:
        """A persistent object that names no sync (``Model.ref()``) belongs to the one it is
        written to (returned), and now has an identity in this session (``ModelError`` when
        another object has it: both would be sent)."""
        obj._bind_sync(sync_id)
        self._remember_identity(obj)
        return sync_id

    def _remember_identity(self, obj: Model) -> None:
        existing = self._identity.add(obj)
        if existing is not obj:
            raise ModelError(
                f"Another {type(obj).__name__} with upstream_id {obj.upstream_id!r} is already "
                "in this session"
            )


class _DefaultSyncs(dict[type, str]):
    """Model class -> the sync of its objects that name none (the object's own sync, then the
    one it was saved with, come first): looked up once per class and commit."""

    def __init__(self, session: UnitOfWork, settings: Settings) -> None:
        super().__init__()
        self._session = session
        self._settings = settings

    def __missing__(self, cls: type[Model]) -> str:
        default = self[cls] = self._session._default_sync(cls, settings=self._settings)
        return default


class Session(UnitOfWork):
    """A unit of work over one client.

    ``with Session() as s:`` makes it the current session: ``obj.save()`` and ``obj.delete()``
    only enqueue, and the block commits on a clean exit and rolls back on an exception.
    """

    def __init__(self, client: HasRequestor | None = None, *, sync_id: str | None = None) -> None:
        super().__init__(sync_id=sync_id)
        self._client = client

    @property
    def requestor(self) -> Requestor:
        """The client's requestor (the default client's when none was given)."""
        return requestor_of(self._client)

    def __enter__(self) -> Session:
        self.activate()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self.deactivate()

    def commit(
        self, *, progress: Progress | None = None, **awaiting: Unpack[AwaitKwargs]
    ) -> CommitResult:
        """Send every pending change (hits the network) and return each object's outcome.

        Raises ``ModelError``/``ConfigurationError`` before any request for bad input; the
        ``AuthenticationError``/``PermissionDeniedError`` that refused the commit; or
        ``CommitError`` when some request failed. Either carries the result (``.result``),
        which is also kept in ``last_result``. ``progress(done, total)`` is called after each
        answer (see ``sequin_orm.progress``).
        """
        result = self.flush(WriteOptions.of(**awaiting).awaiting, progress=progress)
        _raise_for(result)
        return result

    def flush(
        self, awaiting: Await | None = None, *, progress: Progress | None = None
    ) -> CommitResult:
        """Like ``commit()`` but returns failures in the result instead of raising.

        An exception that interrupts it (KeyboardInterrupt, cancellation) propagates after
        the result so far is kept in ``last_result``.
        """
        requestor = self.requestor  # one client for the whole commit
        with self._committing_flow(awaiting, requestor) as flow:
            drive(flow, requestor, progress)
        assert self.last_result is not None
        return self.last_result


class AsyncSession(UnitOfWork):
    """The async twin of ``Session``: the same unit of work and the same plan, committed with
    ``await``. ``async with AsyncSession() as s:`` makes it the current session of the task;
    ``obj.save()``/``await obj.asave()`` enqueue into it."""

    def __init__(
        self, client: HasAsyncRequestor | None = None, *, sync_id: str | None = None
    ) -> None:
        super().__init__(sync_id=sync_id)
        self._client = client

    @property
    def requestor(self) -> AsyncRequestor:
        """The client's requestor (the default async client's when none was given)."""
        return async_requestor_of(self._client)

    async def __aenter__(self) -> AsyncSession:
        self.activate()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.commit()
            else:
                self.rollback()
        finally:
            self.deactivate()

    async def commit(
        self, *, progress: Progress | None = None, **awaiting: Unpack[AwaitKwargs]
    ) -> CommitResult:
        """Send every pending change (hits the network); see ``Session.commit()``."""
        result = await self.flush(WriteOptions.of(**awaiting).awaiting, progress=progress)
        _raise_for(result)
        return result

    async def flush(
        self, awaiting: Await | None = None, *, progress: Progress | None = None
    ) -> CommitResult:
        """Like ``commit()`` but returns failures in the result; see ``Session.flush()``."""
        requestor = self.requestor
        with self._committing_flow(awaiting, requestor) as flow:
            await adrive(flow, requestor, progress)
        assert self.last_result is not None
        return self.last_result


_UNKNOWN_MESSAGE = (
    "The create of this object may have been applied but no answer came back; check upstream, "
    "then call obj.reset_unknown() to send it again (or load the created record)"
)


def _check_savable(obj: Model) -> None:
    state = obj._state
    if state is DELETED:
        raise ModelError(f"This {type(obj).__name__} was deleted; it cannot be saved again")
    if state is UNKNOWN:
        raise ModelError(_UNKNOWN_MESSAGE)


def _bind_sync(obj: Model, sync_id: str) -> None:
    if obj.state is not NEW and obj.sync_id not in (None, sync_id):
        raise ModelError(f"This {type(obj).__name__} belongs to sync {obj.sync_id}, not {sync_id}")
    obj._bind_sync(sync_id)


# --- save() and delete() of a single object --------------------------------------------------

#: The session of the current context, if any: what ``Model.save()`` and ``delete()`` ask
#: first (``ContextVar.get``, a C call: no frame per object). They enqueue with its ``add``
#: and ``delete`` (which subclasses may extend) and return ``pending_result``.
active_unit_of_work = _current.get


def save_object(obj: Model, options: WriteKwargs) -> SaveResult:
    """``Model.save()`` outside a session: send one mutation now (or none if unchanged)."""
    return _send_solo(_solo_save(obj, options, Session))


async def asave_object(obj: Model, options: WriteKwargs) -> SaveResult:
    """``Model.asave()`` outside a session: send one mutation now (or none if unchanged)."""
    return await _asend_solo(_solo_save(obj, options, AsyncSession))


def delete_object(obj: Model, options: WriteKwargs) -> SaveResult:
    """``Model.delete()`` outside a session: send one delete now."""
    return _send_solo(_solo_delete(obj, options, Session))


async def adelete_object(obj: Model, options: WriteKwargs) -> SaveResult:
    """``Model.adelete()`` outside a session: send one delete now."""
    return await _asend_solo(_solo_delete(obj, options, AsyncSession))


def _send_solo(solo: SaveResult | _Solo[Session]) -> SaveResult:
    if isinstance(solo, SaveResult):
        return solo
    with solo:
        return solo.outcome(solo.session.flush())


async def _asend_solo(solo: SaveResult | _Solo[AsyncSession]) -> SaveResult:
    if isinstance(solo, SaveResult):
        return solo
    with solo:
        return solo.outcome(await solo.session.flush())


_U = TypeVar("_U", bound=UnitOfWork)


class _Solo(Generic[_U]):
    """A one-object unit of work to send now; ``with`` it so the object leaves it after."""

    def __init__(self, session: _U, obj: Model, result: Callable[[], SaveResult]) -> None:
        self.session = session
        self._obj = obj
        self._result = result

    def outcome(self, committed: CommitResult) -> SaveResult:
        """The save's result; raises the first error of the commit."""
        errors = committed.errors
        if errors:
            raise errors[0]
        return self._result()

    def __enter__(self) -> _Solo[_U]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.expunge(self._obj)


def _solo_save(
    obj: Model, options: WriteKwargs, session_type: Callable[[], _U]
) -> SaveResult | _Solo[_U]:
    """Outside a session: say that nothing is to be sent (the result), or a one-object
    unit of work to send."""
    WriteOptions.of(**options)  # bad options are refused even when nothing is sent
    _check_savable(obj)
    if not obj.is_dirty:
        return SaveResult(obj.upstream_id)
    was_new = obj.is_new
    names = frozenset(obj.changed_fields)
    solo = session_type()
    solo.add(obj, **options)
    return _Solo(
        solo,
        obj,
        lambda: SaveResult(
            obj.upstream_id, created=was_new, updated=not was_new, field_names=names
        ),
    )


def _solo_delete(
    obj: Model, options: WriteKwargs, session_type: Callable[[], _U]
) -> SaveResult | _Solo[_U]:
    """Like ``_solo_save`` for a delete."""
    if obj.state is NEW:
        raise ModelError(f"Cannot delete a {type(obj).__name__} that was never saved")
    solo = session_type()
    solo.delete(obj, **options)
    return _Solo(solo, obj, lambda: SaveResult(obj.upstream_id, deleted=True))


def _raise_for(result: CommitResult) -> None:
    """Raise what a commit with failures raises: the error that refused it as a whole
    (401/403), else a ``CommitError`` led by the first underlying error."""
    errors = result.errors
    if not errors:
        return
    first = errors[0]
    refusal = next(
        (e for e in errors if isinstance(e, AuthenticationError | PermissionDeniedError)), None
    )
    if refusal is not None:
        refusal.result = result
        raise refusal
    raise CommitError(f"{first} (commit incomplete: {result.summary()})", result) from first
