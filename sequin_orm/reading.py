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
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from sequin_orm.errors import (
    APIResponseValidationError,
    ForeignRecordWarning,
    ModelError,
    NotFoundError,
)
from sequin_orm.records import foreign_collection
from sequin_orm.requestor import ClientBound, HasRequestor
from sequin_orm.session import current_session

if TYPE_CHECKING:
    from sequin_orm.model import Model

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


class RecordManager(ClientBound, Generic[_M]):
    """``Model.objects``: read the records of one model's collection.

    Bound to the default client unless made with ``using(client)``. ``iter``, ``iter_records``,
    ``iter_pages`` and ``get`` hit the network (lazily, page by page).
    """

    def __init__(self, model: type[_M], client: HasRequestor | None = None) -> None:
        self.model = model
        self._bound = client

    def __repr__(self) -> str:
        return f"<RecordManager of {self.model.__name__} ({self.model.collection_id})>"

    def using(self, client: HasRequestor) -> RecordManager[_M]:
        """The same manager over another client."""
        return RecordManager(self.model, client)

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
        if not self.model.collection_id:
            raise ModelError(f"{self.model.__name__} has no collection_id")
        collection_id = self.model.collection_id
        provider = collection_id.partition(":")[0]
        cursor = after_cursor
        while True:
            params = records_params(
                collection_id, sync_id=sync_id, limit=limit, after_cursor=cursor, provider=provider
            )
            page = parse_records_page(
                self.requestor.http.request("GET", RECORDS_PATH, params=params), collection_id
            )
            if page.exhausted:
                return
            yield page
            if page.cursor is None or page.cursor == cursor:
                return
            cursor = page.cursor

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
        for record in self.iter_records(sync_id=sync_id, limit=limit, after_cursor=after_cursor):
            if include_deleted or record.get("deleted") is not True:
                yield load_record(self.model, record)

    def __iter__(self) -> Iterator[_M]:
        return self.iter()

    def get(self, upstream_id: str, *, sync_id: str | None = None) -> _M:
        """The record with this upstream id — **O(n)**: scans the collection.

        The v1 API has no get-by-upstream-id endpoint (``/v1/records`` filters only by sync,
        provider and collection), so this pages through ``iter()`` until it finds it. Fine for
        tests and small collections; keep a local copy (a consumer) for anything larger.
        Raises ``NotFoundError`` when no live record has that id.
        """
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
