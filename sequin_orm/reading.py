"""Reading records: ``Model.objects`` pages ``GET /v1/records`` by cursor.

::

    for contact in salesforce.Contact.objects.iter(sync_id=sync.id):
        print(contact.Email)

Paging rule: a page's ``cursor`` is sent back as ``after_cursor`` until a page comes back
**empty** (or without a new cursor). A page shorter than ``limit`` does not end the walk: the
server's maximum ``limit`` is undocumented and may be lower than the one asked for, so a short
page proves nothing and stopping there could silently drop records. The cost is one extra,
empty request at the end.

Objects come back clean. Inside an active ``Session`` they go through its identity map
(``session.load``): reading a record the session already holds returns that object. Outside a
session each record is a new object (``Model.from_record``).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from sequin_orm.errors import (
    APIResponseValidationError,
    ConfigurationError,
    ForeignRecordWarning,
    ModelError,
    NotFoundError,
)
from sequin_orm.records import foreign_collection
from sequin_orm.requestor import (
    APICall,
    AsyncRequestor,
    HasAsyncRequestor,
    HasRequestor,
    Requestor,
    default_async_requestor,
    default_requestor,
)
from sequin_orm.session import current_session

if TYPE_CHECKING:
    from sequin_orm.model import Model
    from sequin_orm.querying import MirrorHook, QuerySetLike
    from sequin_orm.results import CommitResult

__all__ = ["RECORDS_PATH", "RecordManager", "RecordPage", "load_record", "parse_records_page"]

RECORDS_PATH = "/v1/records"
DEFAULT_PAGE_SIZE = 100

_M = TypeVar("_M", bound="Model")


@attrs.frozen
class RecordPage:
    """One page of ``GET /v1/records``: raw records and the cursor to ask for the next page.

    ``skipped`` counts the records of other collections the server sent anyway (left out of
    ``records``, with a ``ForeignRecordWarning``).
    """

    records: tuple[dict[str, Any], ...]
    cursor: str | None
    skipped: int = 0

    @property
    def exhausted(self) -> bool:
        """True when the server sent no record at all: the walk ends here."""
        return not self.records and not self.skipped


def parse_records_page(payload: Any, collection_id: str = "") -> RecordPage:
    """A ``RecordPage`` from ``{"records": [...], "cursor": ...}`` (or ``{"data": [...]}``).

    With ``collection_id``, records naming another collection are skipped and counted in
    ``page.skipped`` (a ``ForeignRecordWarning`` says how many): a server that ignores the
    collection filter never makes a ``stripe:subscription`` load as a Salesforce Contact.
    """
    if not isinstance(payload, Mapping):
        raise APIResponseValidationError(
            "Expected an object with 'records' in the response", method="GET", path=RECORDS_PATH
        )
    records = payload.get("records", payload.get("data"))
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise APIResponseValidationError(
            "Expected a list of records in the response", method="GET", path=RECORDS_PATH
        )
    cursor = payload.get("cursor")
    kept = tuple(dict(r) for r in records if foreign_collection(r, collection_id) is None)
    skipped = len(records) - len(kept)
    if skipped:
        warnings.warn(
            f"GET {RECORDS_PATH} for {collection_id} returned {skipped} record(s) of other "
            "collections; they were skipped",
            ForeignRecordWarning,
            stacklevel=2,
        )
    return RecordPage(kept, cursor if isinstance(cursor, str) else None, skipped)


def records_params(
    collection_id: str,
    *,
    sync_id: str | None,
    limit: int,
    after_cursor: str | None,
    provider: str | None = None,
) -> dict[str, Any]:
    """Query parameters of one ``GET /v1/records`` request; ModelError for bad values.

    ``provider`` is the documented ``provider`` filter; it must be the collection's provider.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ModelError("limit must be a positive integer")
    if sync_id is not None and (not isinstance(sync_id, str) or not sync_id):
        raise ModelError("sync_id must be a non-empty string")
    if provider is not None and (
        not isinstance(provider, str) or provider != collection_id.partition(":")[0]
    ):
        raise ModelError(f"provider must be the provider of {collection_id}, got {provider!r}")
    params: dict[str, Any] = {"collection_id": collection_id, "limit": limit}
    if provider is not None:
        params["provider"] = provider
    if sync_id is not None:
        params["sync_id"] = sync_id
    if after_cursor is not None:
        params["after_cursor"] = after_cursor
    return params


def load_record(cls: type[_M], record: Mapping[str, Any]) -> _M:
    """A clean model from a record: through the current session's identity map if one is
    active, else a new object. Deleted records never join a session."""
    session = current_session()
    if session is None or record.get("deleted") is True:
        return cls.from_record(record)
    return session.load(cls, record)


class _Pager:
    """Where a walk through ``/v1/records`` stands: the request for the next page, and
    whether a page that came back ends the walk (see the module docs)."""

    def __init__(self, collection_id: str, params: dict[str, Any]) -> None:
        self._collection_id = collection_id
        self._params = params
        self._done = False

    def next_call(self) -> APICall[RecordPage] | None:
        if self._done:
            return None
        return APICall("GET", RECORDS_PATH, self._read, params=dict(self._params))

    def take(self, page: RecordPage) -> bool:
        """Whether ``page`` is one to hand out; moves the cursor on."""
        cursor = self._params.get("after_cursor")
        self._done = page.exhausted or page.cursor is None or page.cursor == cursor
        self._params["after_cursor"] = page.cursor
        return not page.exhausted

    def _read(self, payload: Any) -> RecordPage:
        return parse_records_page(payload, self._collection_id)


class RecordManager(Generic[_M]):
    """``Model.objects``: read the records of one model's collection.

    Bound to the default client unless made with ``using(client)`` (a ``Client``, or an
    ``AsyncClient`` for ``aiter()``). ``iter``, ``iter_records``, ``iter_pages``, ``get`` and
    ``aiter`` hit the network (lazily, page by page).
    """

    def __init__(
        self, model: type[_M], client: HasRequestor | HasAsyncRequestor | None = None
    ) -> None:
        self.model = model
        self._bound = client

    def __repr__(self) -> str:
        return f"<RecordManager of {self.model.__name__} ({self.model.collection_id})>"

    def using(self, client: HasRequestor | HasAsyncRequestor) -> RecordManager[_M]:
        """The same manager over another client (an ``AsyncClient`` for ``aiter()``)."""
        return RecordManager(self.model, client)

    @property
    def requestor(self) -> Requestor:
        """The bound client's requestor, else the default one."""
        requestor = default_requestor() if self._bound is None else self._bound.requestor
        if isinstance(requestor, AsyncRequestor):
            raise ConfigurationError(
                "This manager is bound to an AsyncClient: read with `async for obj in "
                f"{self.model.__name__}.objects.using(client).aiter()`"
            )
        return requestor

    @property
    def async_requestor(self) -> AsyncRequestor:
        """The bound async client's requestor, else the default one of the running loop."""
        requestor = default_async_requestor() if self._bound is None else self._bound.requestor
        if not isinstance(requestor, AsyncRequestor):
            raise ConfigurationError(
                "aiter() needs an AsyncClient: "
                f"{self.model.__name__}.objects.using(sequin_orm.AsyncClient(...)).aiter()"
            )
        return requestor

    def iter_pages(
        self,
        *,
        sync_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        after_cursor: str | None = None,
    ) -> Iterator[RecordPage]:
        """Pages of raw records, lazily; stops at the first empty page (see module docs).

        Sends the documented ``collection_id`` and ``provider`` filters, and still checks every
        record: one of another collection is skipped with a ``ForeignRecordWarning`` (counted
        in ``page.skipped``), never loaded as this model. Keep ``page.cursor`` to resume later
        with ``after_cursor=``.
        """
        pager = self._pager(sync_id, limit, after_cursor)
        while (call := pager.next_call()) is not None:
            page = self.requestor.call(call)
            if pager.take(page):
                yield page

    async def aiter_pages(
        self,
        *,
        sync_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        after_cursor: str | None = None,
    ) -> AsyncIterator[RecordPage]:
        """The async twin of ``iter_pages()``."""
        pager = self._pager(sync_id, limit, after_cursor)
        while (call := pager.next_call()) is not None:
            page = await self.async_requestor.call(call)
            if pager.take(page):
                yield page

    def iter_records(
        self,
        *,
        sync_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        after_cursor: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Raw record dicts, deleted ones included, page after page (lazily)."""
        for page in self.iter_pages(sync_id=sync_id, limit=limit, after_cursor=after_cursor):
            yield from page.records

    def iter(
        self,
        *,
        sync_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        after_cursor: str | None = None,
        include_deleted: bool = False,
    ) -> Iterator[_M]:
        """Model objects, page after page (lazily); ``sync_id=None`` reads every sync.

        Deleted records (tombstones in the stream) are skipped unless ``include_deleted``;
        those come back with ``obj.deleted is True`` and outside any session.
        """
        for page in self.iter_pages(sync_id=sync_id, limit=limit, after_cursor=after_cursor):
            yield from self._models(page, include_deleted)

    async def aiter(
        self,
        *,
        sync_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        after_cursor: str | None = None,
        include_deleted: bool = False,
    ) -> AsyncIterator[_M]:
        """The async twin of ``iter()``: ``async for c in Contact.objects.aiter(): ...``
        (the default async client, or ``objects.using(async_client).aiter()``)."""
        pages = self.aiter_pages(sync_id=sync_id, limit=limit, after_cursor=after_cursor)
        async for page in pages:
            for obj in self._models(page, include_deleted):
                yield obj

    def __iter__(self) -> Iterator[_M]:
        return self.iter()

    def _pager(self, sync_id: str | None, limit: int, after_cursor: str | None) -> _Pager:
        collection_id = self.model.collection_id
        if not collection_id:
            raise ModelError(f"{self.model.__name__} has no collection_id")
        provider = collection_id.partition(":")[0]
        params = records_params(
            collection_id,
            sync_id=sync_id,
            limit=limit,
            after_cursor=after_cursor,
            provider=provider,
        )
        return _Pager(collection_id, params)

    def _models(self, page: RecordPage, include_deleted: bool) -> Iterator[_M]:
        for record in page.records:
            if include_deleted or record.get("deleted") is not True:
                yield load_record(self.model, record)

    def get(
        self, upstream_id: str | None = None, *, sync_id: str | None = None, **lookups: Any
    ) -> _M:
        """The one record matching: with a mirror, one query there (``get(Email=…)``,
        ``get(upstream_id=…)``); ``NotFoundError`` when none does, ``MultipleRecordsError``
        when several do.

        Without a mirror only ``get(upstream_id)`` works, and it is **O(n)**: the v1 API has no
        get-by-upstream-id endpoint, so this pages through ``iter()`` until it finds it.
        """
        mirror = self.requestor.mirror
        if mirror is not None:
            if upstream_id is not None:
                lookups["upstream_id"] = upstream_id
            if sync_id is not None:
                lookups["sync_id"] = sync_id
            return mirror.query(self.model).get(**lookups)
        if lookups:
            self._mirror()  # raises: lookups need a mirror
        return self._scan_for(upstream_id, sync_id)

    def _scan_for(self, upstream_id: str | None, sync_id: str | None) -> _M:
        """``get(upstream_id)`` without a mirror: pages the collection (hits the network)."""
        if not isinstance(upstream_id, str) or not upstream_id:
            raise ModelError("upstream_id must be a non-empty string")
        for record in self.iter_records(sync_id=sync_id):
            if record.get("upstream_id") == upstream_id and record.get("deleted") is not True:
                return load_record(self.model, record)
        raise NotFoundError(
            f"No {self.model.collection_id} record with upstream_id {upstream_id!r}",
            status_code=404,
            method="GET",
            path=RECORDS_PATH,
        )

    # -- the mirror (sequin_orm.mirror): queries on your own database -----------------------

    def _mirror(self) -> MirrorHook:
        mirror = self.requestor.mirror
        if mirror is None:
            raise ConfigurationError(
                f"{self.model.__name__}.objects.filter() and friends query a mirror of your "
                "records, and none is configured: create one with "
                "sequin_orm.mirror.Mirror(url, consumer_id=...), fill it (mirror.backfill(), "
                "mirror.run()), then pass it as configure(mirror=...) or Client(mirror=...)"
            )
        return mirror

    def all(self) -> QuerySetLike[_M]:
        """Every live mirrored record of this model, as a lazy query (no query yet)."""
        return self._mirror().query(self.model)

    def filter(self, **lookups: Any) -> QuerySetLike[_M]:
        """Records matching every lookup (``Email="…"``, ``LastName__in=[…]``): lazy."""
        return self.all().filter(**lookups)

    def exclude(self, **lookups: Any) -> QuerySetLike[_M]:
        """Records not matching the lookups: lazy."""
        return self.all().exclude(**lookups)

    def order_by(self, *names: str) -> QuerySetLike[_M]:
        """Every record, ordered (``"-LastName"`` descending): lazy."""
        return self.all().order_by(*names)

    def first(self) -> _M | None:
        """The first record (by upstream id), or None (queries the mirror)."""
        return self.all().first()

    def count(self) -> int:
        """How many live records the mirror holds (queries the mirror)."""
        return self.all().count()

    def exists(self) -> bool:
        """Whether the mirror holds any live record of this model (queries the mirror)."""
        return self.all().exists()

    def upsert(
        self, rows: Iterable[Mapping[str, Any]], *, key: str | Sequence[str]
    ) -> CommitResult:
        """Create the rows whose ``key`` field(s) match no record, update the others with only
        the fields that changed: one mirror query per chunk, then one commit (hits the
        network). Returns the ``CommitResult``."""
        return self._mirror().upsert(self.model, rows, key=key, client=self.requestor)

    def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookups: Any
    ) -> tuple[_M, bool]:
        """``(obj, False)`` for the record matching ``lookups`` in the mirror, else
        ``(new object saved with lookups and defaults, True)``."""
        mirror = self._mirror()
        return mirror.get_or_create(self.model, lookups, defaults=defaults, client=self.requestor)
