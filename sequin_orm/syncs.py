"""Syncs (``/v1/syncs``): the ``Sync`` resource, its ``RateLimit`` and the manager.

``Sync.objects`` uses the default client, ``client.syncs`` a given one::

    sync = Sync.objects.create(
        provider="stripe", stream_id=stream.id, name="Stripe (prod)",
        collection_ids=["stripe:customer"], credential={"properties": {...}},
    )
    sync.name = "Stripe (production)"
    sync.save()            # PATCH {"name": ...}: only changed updatable fields
    sync.disable()         # PATCH {"status": "disabled"}

Input is validated before any request (``ModelError`` listing every problem). Building bodies
and reading responses are pure functions; only the manager and the ``Sync`` methods named
``create``, ``list``, ``get``, ``save``, ``delete``, ``enable``, ``disable`` and ``refresh``
hit the network.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from sequin_orm.credentials import Credential, Health, credential_body, metadata_contains
from sequin_orm.errors import ConfigurationError, ModelError, ReadOnlyFieldError
from sequin_orm.requestor import (
    APICall,
    AsyncClientBound,
    AsyncRequestor,
    ClientBound,
    HasAsyncRequestor,
    HasRequestor,
    RequestorBase,
    ignore_answer,
)
from sequin_orm.retry import Safety
from sequin_orm.secrets import reveal
from sequin_orm.wire import (
    ClassManager,
    decode,
    decode_list,
    encode_query_json,
    path_segment,
    structure_input,
)

if TYPE_CHECKING:
    from typing_extensions import Required, Unpack

__all__ = [
    "SYNC_FREQUENCIES",
    "UPDATABLE_FIELDS",
    "AsyncSyncManager",
    "RateLimit",
    "Sync",
    "SyncFields",
    "SyncFilters",
    "SyncManager",
    "sync_create_body",
    "sync_update_body",
]

SYNCS_PATH = "/v1/syncs"
SYNC_FREQUENCIES = ("continuous", "4h")
SYNC_STATUSES = ("active", "disabled")
#: What ``PATCH /v1/syncs/{id}`` may change (docs: "You cannot update the credential,
#: provider, or stream_id").
UPDATABLE_FIELDS = (
    "name",
    "collection_ids",
    "rate_limit",
    "status",
    "max_age_days",
    "sync_frequency",
    "metadata",
)
_GUARDED_FIELDS = ("credential", "credential_id", "provider", "stream_id")


@attrs.define(kw_only=True)
class RateLimit:
    """A sync's rate limit: ``allowed_requests`` per ``interval`` (seconds, presumably), and
    ``max_concurrent_requests`` (0 presumably means unlimited; the docs give no units)."""

    allowed_requests: int | None = None
    interval: int | None = None
    max_concurrent_requests: int | None = None
    extra: dict[str, Any] = attrs.Factory(dict)


def _read_only(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> Any:
    reason = (
        "the API does not update the credential, provider or stream_id of a sync "
        "(create a new sync instead)"
        if attribute.name in _GUARDED_FIELDS
        else "it is set by the API"
    )
    raise ReadOnlyFieldError(f"Sync.{attribute.name} cannot be changed: {reason}")


def _to_rate_limit(value: RateLimit | Mapping[str, Any] | None) -> RateLimit | None:
    if value is None or isinstance(value, RateLimit):
        return value
    return structure_input(value, RateLimit, "rate_limit")


@attrs.define(kw_only=True)
class Sync:
    """A sync: a provider account (through a credential) synced into a stream.

    Objects come from ``Sync.objects`` (or ``client.syncs``). ``name``, ``collection_ids``,
    ``rate_limit``, ``status``, ``max_age_days``, ``sync_frequency`` and ``metadata`` can be
    changed and ``save()``-d; ``credential``, ``provider`` and ``stream_id`` cannot.
    Undeclared response keys are kept in ``extra``.
    """

    id: str = attrs.field(on_setattr=_read_only)
    provider: str | None = attrs.field(default=None, on_setattr=_read_only)
    stream_id: str | None = attrs.field(default=None, on_setattr=_read_only)
    name: str | None = None
    status: str | None = None
    org_id: str | None = attrs.field(default=None, on_setattr=_read_only)
    health: Health | None = attrs.field(default=None, on_setattr=_read_only)
    collection_ids: list[str] = attrs.Factory(list)
    rate_limit: RateLimit | None = attrs.field(default=None, converter=_to_rate_limit)
    credential_id: str | None = attrs.field(default=None, on_setattr=_read_only)
    credential: Credential | None = attrs.field(default=None, on_setattr=_read_only)
    max_age_days: int | float | None = None
    sync_frequency: str | None = None
    initial_backfill_completed_at: datetime.datetime | None = attrs.field(
        default=None, on_setattr=_read_only
    )
    metadata: dict[str, Any] = attrs.Factory(dict)
    external_id: str | None = attrs.field(default=None, on_setattr=_read_only)
    created_at: datetime.datetime | None = attrs.field(default=None, on_setattr=_read_only)
    updated_at: datetime.datetime | None = attrs.field(default=None, on_setattr=_read_only)
    extra: dict[str, Any] = attrs.Factory(dict)

    _client: HasRequestor | HasAsyncRequestor | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )
    _loaded: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False, eq=False)
    _deleted: bool = attrs.field(default=False, init=False, repr=False, eq=False)

    objects = ClassManager(lambda: SyncManager(None))

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_loaded", _snapshot(self))

    # -- change tracking (no I/O) --------------------------------------------------------

    @property
    def changed_fields(self) -> frozenset[str]:
        """Updatable fields that differ from what the API last said."""
        return frozenset(
            name for name in UPDATABLE_FIELDS if getattr(self, name) != self._loaded.get(name)
        )

    @property
    def is_dirty(self) -> bool:
        """True when ``save()`` has something to send."""
        return bool(self.changed_fields)

    @property
    def is_active(self) -> bool:
        """True when the sync runs (``status == "active"``)."""
        return self.status == "active"

    # -- network ---------------------------------------------------------------------------

    def save(self) -> Sync:
        """``PATCH /v1/syncs/{id}`` with the changed updatable fields; no request if none.

        Raises ``ModelError`` before any request when a value is invalid or the credential,
        provider or stream_id was changed in place.
        """
        body = sync_update_body(self)
        if body:
            self._absorb(self._manager._patch(self.id, body))
        return self

    def delete(self) -> None:
        """``DELETE /v1/syncs/{id}``; the object cannot be saved afterwards."""
        self._check_not_deleted()
        self._manager.delete(self.id)
        object.__setattr__(self, "_deleted", True)

    def enable(self) -> Sync:
        """``PATCH {"status": "active"}``; other unsaved local changes are kept, not sent."""
        return self._set_status("active")

    def disable(self) -> Sync:
        """``PATCH {"status": "disabled"}``; other unsaved local changes are kept, not sent."""
        return self._set_status("disabled")

    def refresh(self) -> Sync:
        """Re-read the sync (``GET``); local unsaved changes are discarded."""
        self._check_not_deleted()
        self._absorb(self._manager.get(self.id))
        return self

    # -- internals -------------------------------------------------------------------------

    @property
    def _manager(self) -> SyncManager:
        requestor = None if self._client is None else self._client.requestor
        if isinstance(requestor, AsyncRequestor):
            raise ConfigurationError(
                f"Sync {self.id} came from an AsyncClient: change it through that client, "
                "e.g. await client.syncs.update(sync.id, name=...)"
            )
        return SyncManager(requestor)

    def _check_not_deleted(self) -> None:
        if self._deleted:
            raise ModelError(f"Sync {self.id} was deleted")

    def _set_status(self, status: str) -> Sync:
        self._check_not_deleted()
        pending = {n: getattr(self, n) for n in self.changed_fields if n != "status"}
        self._absorb(self._manager._patch(self.id, {"status": status}))
        for name, value in pending.items():
            setattr(self, name, value)
        return self

    def _absorb(self, fresh: Sync) -> None:
        """Take every field of ``fresh`` (from the API); the object becomes clean."""
        for field in attrs.fields(Sync):
            if field.init:
                object.__setattr__(self, field.name, getattr(fresh, field.name))
        object.__setattr__(self, "_loaded", _snapshot(self))


def _snapshot(sync: Sync) -> dict[str, Any]:
    return {name: copy.deepcopy(getattr(sync, name)) for name in UPDATABLE_FIELDS + _GUARDED_FIELDS}


# --- validation and request bodies (pure) -----------------------------------------------------


class _Problems:
    """Collects every problem with the input, then raises one ``ModelError``."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[str] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append(f"{field} {reason}")

    def check(self) -> None:
        if self.items:
            raise ModelError(f"Invalid {self.what}: " + "; ".join(self.items))


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_json(problems: _Problems, field: str, value: Any) -> None:
    try:
        json.dumps(reveal(value))
    except (TypeError, ValueError):
        problems.add(field, "must be JSON-serializable")


def _check_collection_ids(problems: _Problems, value: Any, provider: str | None) -> None:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        problems.add("collection_ids", "must be a non-empty list of collection ids")
        return
    for item in value:
        if not isinstance(item, str):
            problems.add("collection_ids", "must hold strings")
            return
        prefix, sep, name = item.partition(":")
        if not sep or not name or (provider is not None and prefix != provider):
            expected = f"'{provider}:<collection>'" if provider else "'<provider>:<collection>'"
            problems.add("collection_ids", f"must look like {expected}, got {item!r}")


def _check_common(problems: _Problems, values: Mapping[str, Any], provider: str | None) -> None:
    """Checks shared by create and update, for the keys present in ``values``."""
    if "name" in values and not _is_text(values["name"]):
        problems.add("name", "must be a non-empty string")
    if "collection_ids" in values:
        _check_collection_ids(problems, values["collection_ids"], provider)
    max_age = values.get("max_age_days")
    if max_age is not None and not (_is_number(max_age) and max_age >= 0):
        problems.add("max_age_days", "must be a non-negative number or None (no age limit)")
    if "sync_frequency" in values and values["sync_frequency"] not in SYNC_FREQUENCIES:
        problems.add("sync_frequency", "must be 'continuous' or '4h'")
    if "status" in values and values["status"] not in SYNC_STATUSES:
        problems.add("status", "must be 'active' or 'disabled'")
    metadata = values.get("metadata")
    if metadata is not None:
        if isinstance(metadata, Mapping):
            _check_json(problems, "metadata", metadata)
        else:
            problems.add("metadata", "must be a dict")


def rate_limit_body(value: RateLimit | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON of a rate limit; a dict is validated and sent as given. ModelError if bad."""
    if isinstance(value, RateLimit):
        fields = {
            "allowed_requests": value.allowed_requests,
            "interval": value.interval,
            "max_concurrent_requests": value.max_concurrent_requests,
        }
        body = {**value.extra, **{k: v for k, v in fields.items() if v is not None}}
    elif isinstance(value, Mapping):
        body = dict(value)
    else:
        raise ModelError("rate_limit must be a RateLimit or a dict")
    for key in ("allowed_requests", "interval", "max_concurrent_requests"):
        item = body.get(key)
        if item is not None and not (isinstance(item, int) and not isinstance(item, bool)):
            raise ModelError(f"rate_limit.{key} must be an integer")
        if item is not None and item < 0:
            raise ModelError(f"rate_limit.{key} must be >= 0")
    return copy.deepcopy(body)


def _try(problems: _Problems, field: str, build: Any, value: Any) -> Any:
    try:
        return build(value)
    except ModelError as error:
        problems.add(field, f"is invalid: {error}")
        return None


def sync_create_body(
    *,
    provider: str,
    stream_id: str,
    name: str,
    collection_ids: Sequence[str],
    credential: Credential | Mapping[str, Any] | None = None,
    credential_id: str | None = None,
    rate_limit: RateLimit | Mapping[str, Any] | None = None,
    max_age_days: int | float | None = None,
    sync_frequency: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    external_id: str | None = None,
) -> dict[str, Any]:
    """The body of ``POST /v1/syncs`` (secrets revealed), or ModelError listing every problem.

    ``None`` arguments are left out. Dicts (credential, rate_limit, metadata) are sent as
    given, so the docs' JSON examples go through unchanged.
    """
    problems = _Problems("sync")
    for field, value in (("provider", provider), ("stream_id", stream_id)):
        if not _is_text(value):
            problems.add(field, "is required (a non-empty string)")
    known_provider = provider if _is_text(provider) else None
    values: dict[str, Any] = {
        "name": name,
        "collection_ids": collection_ids,
        "max_age_days": max_age_days,
    }
    if sync_frequency is not None:
        values["sync_frequency"] = sync_frequency
    if metadata is not None:
        values["metadata"] = metadata
    _check_common(problems, values, known_provider)
    if (credential is None) == (credential_id is None):
        problems.add("credential", "or credential_id is required (exactly one of them)")
    if credential_id is not None and not _is_text(credential_id):
        problems.add("credential_id", "must be a non-empty string")
    if external_id is not None and not isinstance(external_id, str):
        problems.add("external_id", "must be a string")
    cred = None if credential is None else _try(problems, "credential", credential_body, credential)
    limit = (
        None if rate_limit is None else _try(problems, "rate_limit", rate_limit_body, rate_limit)
    )
    problems.check()
    body: dict[str, Any] = {
        "provider": provider,
        "stream_id": stream_id,
        "name": name,
        "collection_ids": list(collection_ids),
        "rate_limit": limit,
        "credential": cred,
        "credential_id": credential_id,
        "max_age_days": max_age_days,
        "sync_frequency": sync_frequency,
        "metadata": None if metadata is None else reveal(dict(metadata)),
        "external_id": external_id,
    }
    return {key: value for key, value in body.items() if value is not None}


def sync_update_body(sync: Sync) -> dict[str, Any]:
    """The body of ``PATCH /v1/syncs/{id}``: the changed updatable fields ({} if none).

    ModelError before any request when a value is invalid, the sync was deleted, or a field the
    API cannot update (credential, provider, stream_id) was changed in place.
    """
    sync._check_not_deleted()
    guarded = [n for n in _GUARDED_FIELDS if getattr(sync, n) != sync._loaded.get(n)]
    if guarded:
        raise ModelError(
            f"Sync.{', '.join(guarded)} cannot be changed: the API does not update the "
            "credential, provider or stream_id of a sync"
        )
    changed = {
        name: getattr(sync, name) for name in UPDATABLE_FIELDS if name in sync.changed_fields
    }
    problems = _Problems("sync update")
    _check_common(problems, changed, sync.provider)
    if "rate_limit" in changed and changed["rate_limit"] is not None:
        changed["rate_limit"] = _try(problems, "rate_limit", rate_limit_body, changed["rate_limit"])
    if "metadata" in changed and changed["metadata"] is None:
        changed["metadata"] = {}
    problems.check()
    body: dict[str, Any] = reveal(copy.deepcopy(changed))
    return body


# --- the manager (the only part that does I/O) ------------------------------------------------


class SyncFields(TypedDict, total=False):
    """The fields of ``POST /v1/syncs`` (``provider``, ``stream_id``, ``name`` and
    ``collection_ids`` are required; exactly one of ``credential`` and ``credential_id``)."""

    provider: Required[str]
    stream_id: Required[str]
    name: Required[str]
    collection_ids: Required[Sequence[str]]
    credential: Credential | Mapping[str, Any] | None
    credential_id: str | None
    rate_limit: RateLimit | Mapping[str, Any] | None
    max_age_days: int | float | None
    sync_frequency: Literal["continuous", "4h"] | None
    metadata: Mapping[str, Any] | None
    external_id: str | None


class SyncFilters(TypedDict, total=False):
    """Filters of ``GET /v1/syncs``; ``metadata`` matches syncs whose metadata holds every
    given key and value."""

    provider: str | None
    name: str | None
    metadata: Mapping[str, Any] | None
    stream_id: str | None


class _SyncCalls:
    """The requests of ``/v1/syncs`` and how to read their answers (no I/O): what
    ``SyncManager`` and ``AsyncSyncManager`` share."""

    _bound: Any

    @property
    def requestor(self) -> RequestorBase:
        raise NotImplementedError  # ClientBound / AsyncClientBound, first in the subclasses

    def _create_call(self, fields: SyncFields) -> APICall[Sync]:
        body = sync_create_body(**fields)
        return APICall(
            "POST",
            SYNCS_PATH,
            self._reader("POST", SYNCS_PATH),
            json_body=body,
            safety=Safety.NOT_IDEMPOTENT,
            secrets=body,
        )

    def _list_call(self, filters: SyncFilters) -> APICall[list[Sync]]:
        metadata = filters.get("metadata")
        wanted = {
            "provider": filters.get("provider"),
            "name": filters.get("name"),
            "stream_id": filters.get("stream_id"),
        }
        params = {k: v for k, v in wanted.items() if v is not None}
        if metadata is not None:
            params["metadata"] = encode_query_json(metadata)

        def read(payload: Any) -> list[Sync]:
            syncs = decode_list(payload, Sync, method="GET", path=SYNCS_PATH)
            return [self._bind(s) for s in syncs if _matches(s, wanted, metadata)]

        return APICall("GET", SYNCS_PATH, read, params=params or None)

    def _get_call(self, sync_id: str) -> APICall[Sync]:
        path = _sync_path(sync_id)
        return APICall("GET", path, self._reader("GET", path))

    def _update_call(self, sync_id: str, changes: dict[str, Any]) -> APICall[Sync]:
        unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
        if unknown:
            raise ModelError(
                f"Cannot update {', '.join(unknown)}: updatable fields are "
                + ", ".join(UPDATABLE_FIELDS)
            )
        problems = _Problems("sync update")
        _check_common(problems, changes, None)
        if changes.get("rate_limit") is not None:
            changes["rate_limit"] = _try(
                problems, "rate_limit", rate_limit_body, changes["rate_limit"]
            )
        problems.check()
        if not changes:
            raise ModelError("Nothing to update")
        return self._patch_call(sync_id, reveal(changes))

    def _patch_call(self, sync_id: str, body: dict[str, Any]) -> APICall[Sync]:
        path = _sync_path(sync_id)
        return APICall(
            "PATCH", path, self._reader("PATCH", path), json_body=body, safety=Safety.IDEMPOTENT
        )

    def _delete_call(self, sync_id: str) -> APICall[None]:
        return APICall("DELETE", _sync_path(sync_id), ignore_answer, safety=Safety.IDEMPOTENT)

    def _reader(self, method: str, path: str) -> Callable[[Any], Sync]:
        return lambda payload: self._bind(decode(payload, Sync, method=method, path=path))

    def _bind(self, sync: Sync) -> Sync:
        object.__setattr__(sync, "_client", self._bound)
        limit = sync.rate_limit.max_concurrent_requests if sync.rate_limit else None
        self.requestor.note_rate_limit(sync.id, limit)  # commits to it honour the limit
        return sync


class SyncManager(ClientBound, _SyncCalls):
    """``/v1/syncs``: create, list, get, update and delete syncs. Every method hits the network.

    ``Sync.objects`` is bound to the default client (looked up at each call); ``client.syncs``
    to that client.
    """

    def create(self, **fields: Unpack[SyncFields]) -> Sync:
        """``POST /v1/syncs``; validated first (``ModelError``); never retried once sent.

        Pass exactly one of ``credential`` (a ``Credential`` or the documented dict) and
        ``credential_id`` (an existing credential).
        """
        return self.requestor.call(self._create_call(fields))

    def list(self, **filters: Unpack[SyncFilters]) -> list[Sync]:
        """``GET /v1/syncs``. Filters (``provider``, ``name``, ``stream_id``, ``metadata``) go
        to the server and are applied again here, since the docs say they are "coming soon" (a
        server may ignore them)."""
        return self.requestor.call(self._list_call(filters))

    def get(self, sync_id: str) -> Sync:
        """``GET /v1/syncs/{id}``; ``NotFoundError`` when there is none."""
        return self.requestor.call(self._get_call(sync_id))

    def update(self, sync_id: str, **changes: Any) -> Sync:
        """``PATCH /v1/syncs/{id}`` with the given updatable fields (validated first)."""
        return self.requestor.call(self._update_call(sync_id, changes))

    def delete(self, sync_id: str) -> None:
        """``DELETE /v1/syncs/{id}``."""
        self.requestor.call(self._delete_call(sync_id))

    def _patch(self, sync_id: str, body: dict[str, Any]) -> Sync:
        return self.requestor.call(self._patch_call(sync_id, body))


class AsyncSyncManager(AsyncClientBound, _SyncCalls):
    """``/v1/syncs`` through an ``AsyncClient``: ``SyncManager``'s methods, awaitable.

    The ``Sync`` objects it returns are data: change them through this manager
    (``await client.syncs.update(sync.id, name=...)``); their own ``save()``, ``delete()``,
    ``enable()``, ``disable()`` and ``refresh()`` are for syncs read with a ``Client``.
    """

    async def create(self, **fields: Unpack[SyncFields]) -> Sync:
        """``POST /v1/syncs``; see ``SyncManager.create()``."""
        return await self.requestor.call(self._create_call(fields))

    async def list(self, **filters: Unpack[SyncFilters]) -> list[Sync]:
        """``GET /v1/syncs``; see ``SyncManager.list()``."""
        return await self.requestor.call(self._list_call(filters))

    async def get(self, sync_id: str) -> Sync:
        """``GET /v1/syncs/{id}``; ``NotFoundError`` when there is none."""
        return await self.requestor.call(self._get_call(sync_id))

    async def update(self, sync_id: str, **changes: Any) -> Sync:
        """``PATCH /v1/syncs/{id}`` with the given updatable fields (validated first)."""
        return await self.requestor.call(self._update_call(sync_id, changes))

    async def delete(self, sync_id: str) -> None:
        """``DELETE /v1/syncs/{id}``."""
        await self.requestor.call(self._delete_call(sync_id))


def _sync_path(sync_id: str) -> str:
    return f"{SYNCS_PATH}/{path_segment(sync_id, 'sync_id')}"


def _matches(
    sync: Sync, filters: Mapping[str, str | None], metadata: Mapping[str, Any] | None
) -> bool:
    for key, wanted in filters.items():
        if wanted is not None and getattr(sync, key) not in (None, wanted):
            return False
    return metadata is None or metadata_contains(sync.metadata, metadata)
