"""Credentials (``/v1/credentials``) and the ``Health`` object shared by management resources.

``Credential.objects`` uses the default client, ``client.credentials`` a given one::

    cred = Credential.objects.create(properties={"kind": "stripe_key", "secret": "sk_test_…"})
    Credential.objects.update(cred.id, name="Stripe (test)")

Secret property values (``secret``, ``refresh_token`` …) are ``Secret`` objects: masked in
``repr`` and logs, revealed only in the body of the request that creates the credential.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from sequin_orm.errors import ModelError
from sequin_orm.requestor import APICall, AsyncClientBound, ClientBound
from sequin_orm.retry import Safety
from sequin_orm.secrets import reveal, wrap_properties
from sequin_orm.wire import (
    ClassManager,
    decode,
    decode_list,
    encode_query_json,
    path_segment,
    structure_input,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "AsyncCredentialManager",
    "Credential",
    "CredentialFilters",
    "CredentialManager",
    "CredentialOptions",
    "Health",
    "credential_create_body",
    "credential_update_body",
    "metadata_contains",
]

CREDENTIALS_PATH = "/v1/credentials"


@attrs.define(kw_only=True)
class Health:
    """Health of a sync, credential or consumer ("coming soon" in the docs; parsed loosely).

    Three documented shapes fill different fields: ``{status, sync_id}`` (a sync),
    ``{status, credential: Health, provider: Health}`` (a sync, detailed) and
    ``{status, notes, time}`` (a credential, OAuth app or consumer). Status values seen:
    ``healthy``, ``ok``, ``warn``, ``error``.
    """

    status: str | None = None
    sync_id: str | None = None
    notes: list[str] = attrs.Factory(list)
    time: datetime.datetime | None = None
    credential: Health | None = None
    provider: Health | None = None
    extra: dict[str, Any] = attrs.Factory(dict)

    @property
    def is_ok(self) -> bool:
        """True for the statuses that mean all is well (``healthy``, ``ok``)."""
        return self.status in ("healthy", "ok")


@attrs.define(kw_only=True)
class Credential:
    """A credential: how Sequin authenticates to the provider.

    ``properties`` is polymorphic by ``properties["kind"]`` (``stripe_key``, ``salesforce``,
    ``hubspot_oauth2`` …; the docs list no closed set). Build one to pass to
    ``Sync.objects.create(credential=...)`` or ``Credential.objects.create(...)``; objects
    loaded from the API carry ``id``, ``health`` and masked secrets.
    """

    properties: dict[str, Any] = attrs.field(factory=dict, converter=wrap_properties)
    oauth_app_id: str | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    id: str | None = None
    provider: str | None = None
    kind: str | None = None
    oauth_app: dict[str, Any] | None = None
    health: Health | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.Factory(dict)

    objects = ClassManager(lambda: CredentialManager(None))

    @property
    def credential_kind(self) -> str | None:
        """``kind``, from the top level or (as in the docs' examples) from ``properties``."""
        kind = self.kind or self.properties.get("kind")
        return kind if isinstance(kind, str) else None


# --- request bodies (pure) --------------------------------------------------------------------


def _check_properties(properties: Any) -> None:
    if not isinstance(properties, Mapping) or not properties:
        raise ModelError("credential properties must be a non-empty dict (with a 'kind')")
    if not isinstance(properties.get("kind"), str) or not properties["kind"]:
        raise ModelError("credential properties need a 'kind' string, e.g. 'stripe_key'")


def _check_metadata(metadata: Any, what: str = "metadata") -> None:
    if metadata is not None and not isinstance(metadata, Mapping):
        raise ModelError(f"{what} must be a dict")


def credential_body(credential: Credential | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON of a new credential (in a sync or an import), secrets revealed; ModelError if bad.

    A dict is validated, then sent as given, so the docs' JSON examples go through unchanged;
    a ``Credential`` sends its set fields (and ``extra``).
    """
    if isinstance(credential, Mapping):
        parsed = structure_input(credential, Credential, "credential")
        body: dict[str, Any] = reveal(dict(credential))
    elif isinstance(credential, Credential):
        parsed = credential
        body = reveal(_new_credential_fields(credential))
    else:
        raise ModelError("credential must be a Credential or a dict")
    if parsed.id is not None:
        raise ModelError("This credential already exists: pass credential_id=... instead")
    _check_properties(parsed.properties)
    _check_metadata(parsed.metadata, "credential metadata")
    return body


def _new_credential_fields(credential: Credential) -> dict[str, Any]:
    fields = {
        "name": credential.name,
        "properties": credential.properties,
        "oauth_app_id": credential.oauth_app_id,
        "metadata": credential.metadata,
    }
    return {**credential.extra, **{k: v for k, v in fields.items() if v is not None}}


def credential_create_body(
    properties: Mapping[str, Any],
    *,
    oauth_app_id: str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of ``POST /v1/credentials`` (import), secrets revealed; ModelError if bad."""
    _check_properties(properties)
    _check_metadata(metadata)
    if name is not None and not isinstance(name, str):
        raise ModelError("name must be a string")
    if oauth_app_id is not None and not isinstance(oauth_app_id, str):
        raise ModelError("oauth_app_id must be a string")
    fields = {
        "name": name,
        "properties": dict(properties),
        "oauth_app_id": oauth_app_id,
        "metadata": None if metadata is None else dict(metadata),
    }
    body: dict[str, Any] = reveal({k: v for k, v in fields.items() if v is not None})
    return body


_UNSET: Any = object()


def credential_update_body(*, name: Any = _UNSET, metadata: Any = _UNSET) -> dict[str, Any]:
    """The body of ``PATCH /v1/credentials/{id}``: only ``name`` and ``metadata`` can change."""
    body: dict[str, Any] = {}
    if name is not _UNSET:
        if name is not None and not isinstance(name, str):
            raise ModelError("name must be a string or None")
        body["name"] = name
    if metadata is not _UNSET:
        _check_metadata(metadata)
        body["metadata"] = None if metadata is None else dict(metadata)
    if not body:
        raise ModelError("Nothing to update: pass name= and/or metadata=")
    return body


# --- the manager (the only part that does I/O) ------------------------------------------------


class CredentialFilters(TypedDict, total=False):
    """Filters of ``GET /v1/credentials``."""

    provider: str | None
    kind: str | None
    metadata: Mapping[str, Any] | None


class CredentialOptions(TypedDict, total=False):
    """What ``POST /v1/credentials`` takes besides the ``properties``."""

    oauth_app_id: str | None
    name: str | None
    metadata: Mapping[str, Any] | None


class _CredentialCalls:
    """The requests of ``/v1/credentials`` and how to read their answers (no I/O)."""

    @staticmethod
    def _list_call(filters: CredentialFilters) -> APICall[list[Credential]]:
        provider, kind, metadata = (
            filters.get("provider"),
            filters.get("kind"),
            filters.get("metadata"),
        )
        params: dict[str, str] = {}
        if provider is not None:
            params["provider"] = provider
        if kind is not None:
            params["kind"] = kind
        if metadata is not None:
            params["metadata"] = encode_query_json(metadata)

        def read(payload: Any) -> list[Credential]:
            found = decode_list(payload, Credential, method="GET", path=CREDENTIALS_PATH)
            return [c for c in found if _matches(c, provider, kind, metadata)]

        return APICall("GET", CREDENTIALS_PATH, read, params=params or None)

    @staticmethod
    def _get_call(credential_id: str) -> APICall[Credential]:
        path = _credential_path(credential_id)
        return APICall("GET", path, _reader("GET", path))

    @staticmethod
    def _create_call(
        properties: Mapping[str, Any], options: CredentialOptions
    ) -> APICall[Credential]:
        body = credential_create_body(properties, **options)
        return APICall(
            "POST",
            CREDENTIALS_PATH,
            _reader("POST", CREDENTIALS_PATH),
            json_body=body,
            safety=Safety.IDEMPOTENT,
            secrets=body,
        )

    @staticmethod
    def _update_call(credential_id: str, name: Any, metadata: Any) -> APICall[Credential]:
        body = credential_update_body(name=name, metadata=metadata)
        path = _credential_path(credential_id)
        return APICall(
            "PATCH", path, _reader("PATCH", path), json_body=body, safety=Safety.IDEMPOTENT
        )


class CredentialManager(ClientBound, _CredentialCalls):
    """``/v1/credentials``: list, get, create (import) and update. Every method hits the network."""

    def list(self, **filters: Unpack[CredentialFilters]) -> list[Credential]:
        """``GET /v1/credentials`` by ``provider``, ``kind`` and ``metadata``, filtered by the
        server and again here (filters are "coming soon" in the docs, so they may be ignored
        upstream)."""
        return self.requestor.call(self._list_call(filters))

    def get(self, credential_id: str) -> Credential:
        """``GET /v1/credentials/{id}``; ``NotFoundError`` when there is none."""
        return self.requestor.call(self._get_call(credential_id))

    def create(
        self, properties: Mapping[str, Any], **options: Unpack[CredentialOptions]
    ) -> Credential:
        """``POST /v1/credentials``: import a credential (an idempotent upsert upstream)."""
        return self.requestor.call(self._create_call(properties, options))

    def update(
        self, credential_id: str, *, name: Any = _UNSET, metadata: Any = _UNSET
    ) -> Credential:
        """``PATCH /v1/credentials/{id}`` of ``name`` and/or ``metadata``."""
        return self.requestor.call(self._update_call(credential_id, name, metadata))


class AsyncCredentialManager(AsyncClientBound, _CredentialCalls):
    """``/v1/credentials`` through an ``AsyncClient``: ``CredentialManager``'s methods,
    awaitable."""

    async def list(self, **filters: Unpack[CredentialFilters]) -> list[Credential]:
        """``GET /v1/credentials``; see ``CredentialManager.list()``."""
        return await self.requestor.call(self._list_call(filters))

    async def get(self, credential_id: str) -> Credential:
        """``GET /v1/credentials/{id}``; ``NotFoundError`` when there is none."""
        return await self.requestor.call(self._get_call(credential_id))

    async def create(
        self, properties: Mapping[str, Any], **options: Unpack[CredentialOptions]
    ) -> Credential:
        """``POST /v1/credentials``: import a credential (an idempotent upsert upstream)."""
        return await self.requestor.call(self._create_call(properties, options))

    async def update(
        self, credential_id: str, *, name: Any = _UNSET, metadata: Any = _UNSET
    ) -> Credential:
        """``PATCH /v1/credentials/{id}`` of ``name`` and/or ``metadata``."""
        return await self.requestor.call(self._update_call(credential_id, name, metadata))


def _credential_path(credential_id: str) -> str:
    return f"{CREDENTIALS_PATH}/{path_segment(credential_id, 'credential_id')}"


def _reader(method: str, path: str) -> Callable[[Any], Credential]:
    return lambda payload: decode(payload, Credential, method=method, path=path)


def _matches(
    credential: Credential,
    provider: str | None,
    kind: str | None,
    metadata: Mapping[str, Any] | None,
) -> bool:
    if provider is not None and credential.provider not in (None, provider):
        return False
    if kind is not None and credential.credential_kind not in (None, kind):
        return False
    return metadata is None or metadata_contains(credential.metadata, metadata)


def metadata_contains(actual: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether every key of ``wanted`` is in ``actual`` with the same value."""
    actual = actual or {}
    return all(key in actual and actual[key] == value for key, value in wanted.items())
