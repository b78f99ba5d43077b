"""The v1 API routes: management objects, collections, records and mutations."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sequin_orm.emulator import clock, management, mutations, schemas
from sequin_orm.emulator.checks import require_object
from sequin_orm.emulator.jsonutil import JSONObject
from sequin_orm.emulator.protocol import (
    MUTATION_PATH,
    Request,
    Response,
    invalid_field,
    json_response,
    mutation_error,
    not_found,
    summary_error,
)
from sequin_orm.emulator.routing import Router
from sequin_orm.emulator.state import Credential, State, Sync
from sequin_orm.emulator.views import (
    consumer_json,
    credential_json,
    record_json,
    stream_json,
    sync_json,
)

router = Router()
"""Routes of ``/v1`` except the consume endpoints (``consuming``)."""

MAX_RECORDS_LIMIT = 1000
DEFAULT_RECORDS_LIMIT = 100


def body_of(request: Request) -> JSONObject:
    """The JSON object body of a management request, or the documented 400."""
    if not request.json_ok:
        raise summary_error(400, "Your request is invalid")
    return require_object({} if request.json is None else request.json)


def ok(value: Any) -> Response:
    """A 200 JSON response."""
    return json_response(200, value)


def listing(items: list[JSONObject]) -> Response:
    """A 200 ``{"data": [...]}`` list response."""
    return ok({"data": items})


def _get(table: dict[str, Any], key: str) -> Any:
    found = table.get(key)
    if found is None:
        raise not_found()
    return found


# -- mutations -------------------------------------------------------------------------------


@router.route("POST", MUTATION_PATH)
def run_mutation(state: State, request: Request) -> Response:
    """``POST /v1/mutations/run``."""
    if not request.json_ok:
        raise mutation_error("Error: Invalid request: the body is not valid JSON")
    return ok({"records": mutations.run(state, mutations.parse(request.json))})


# -- streams ---------------------------------------------------------------------------------


@router.route("POST", "/v1/streams")
def create_stream(state: State, request: Request) -> Response:
    """``POST /v1/streams``."""
    return ok(stream_json(management.create_stream(state, body_of(request)), state.org_id))


@router.route("GET", "/v1/streams")
def list_streams(state: State, request: Request) -> Response:
    """``GET /v1/streams``."""
    return listing([stream_json(s, state.org_id) for s in state.streams.values()])


@router.route("GET", "/v1/streams/{id}")
def get_stream(state: State, request: Request, stream_id: str) -> Response:
    """``GET /v1/streams/{id}``."""
    return ok(stream_json(_get(state.streams, stream_id), state.org_id))


# -- credentials -----------------------------------------------------------------------------


@router.route("POST", "/v1/credentials")
def import_credential(state: State, request: Request) -> Response:
    """``POST /v1/credentials`` (idempotent import)."""
    return ok(credential_json(management.import_credential(state, body_of(request))))


@router.route("GET", "/v1/credentials")
def list_credentials(state: State, request: Request) -> Response:
    """``GET /v1/credentials`` with ``provider`` and ``kind`` filters."""
    provider, kind = request.query.get("provider"), request.query.get("kind")
    wanted = management.metadata_filter(request.query)
    return listing(
        [
            credential_json(c)
            for c in state.credentials.values()
            if provider in (None, c.provider)
            and kind in (None, c.kind)
            and management.metadata_matches(c.metadata, wanted)
        ]
    )


@router.route("GET", "/v1/credentials/{id}")
def get_credential(state: State, request: Request, credential_id: str) -> Response:
    """``GET /v1/credentials/{id}``."""
    return ok(credential_json(_get(state.credentials, credential_id)))


@router.route("PATCH", "/v1/credentials/{id}")
def update_credential(state: State, request: Request, credential_id: str) -> Response:
    """``PATCH /v1/credentials/{id}``."""
    credential: Credential = _get(state.credentials, credential_id)
    management.update_credential(credential, body_of(request))
    return ok(credential_json(credential))


# -- syncs -----------------------------------------------------------------------------------


def _sync_json(state: State, sync: Sync) -> JSONObject:
    return sync_json(sync, state.credentials.get(sync.credential_id), state.org_id)


@router.route("POST", "/v1/syncs")
def create_sync(state: State, request: Request) -> Response:
    """``POST /v1/syncs``."""
    return ok(_sync_json(state, management.create_sync(state, body_of(request))))


@router.route("GET", "/v1/syncs")
def list_syncs(state: State, request: Request) -> Response:
    """``GET /v1/syncs`` with ``provider``, ``name``, ``stream_id`` and ``metadata`` filters."""
    query = request.query
    wanted = management.metadata_filter(query)
    return listing(
        [
            _sync_json(state, s)
            for s in state.syncs.values()
            if query.get("provider") in (None, s.provider)
            and query.get("name") in (None, s.name)
            and query.get("stream_id") in (None, s.stream_id)
            and management.metadata_matches(s.metadata, wanted)
        ]
    )


@router.route("GET", "/v1/syncs/{id}")
def get_sync(state: State, request: Request, sync_id: str) -> Response:
    """``GET /v1/syncs/{id}``."""
    return ok(_sync_json(state, _get(state.syncs, sync_id)))


@router.route("PATCH", "/v1/syncs/{id}")
def update_sync(state: State, request: Request, sync_id: str) -> Response:
    """``PATCH /v1/syncs/{id}``."""
    sync: Sync = _get(state.syncs, sync_id)
    management.update_sync(sync, body_of(request))
    return ok(_sync_json(state, sync))


@router.route("DELETE", "/v1/syncs/{id}")
def delete_sync(state: State, request: Request, sync_id: str) -> Response:
    """``DELETE /v1/syncs/{id}``: 200 with the deleted sync; its records stay in the stream."""
    sync: Sync = _get(state.syncs, sync_id)
    del state.syncs[sync_id]
    return ok(_sync_json(state, sync))


# -- HTTP consumers (management) -------------------------------------------------------------


@router.route("POST", "/v1/http-consumers")
def create_consumer(state: State, request: Request) -> Response:
    """``POST /v1/http-consumers``."""
    return ok(consumer_json(management.create_consumer(state, body_of(request))))


@router.route("GET", "/v1/http-consumers")
def list_consumers(state: State, request: Request) -> Response:
    """``GET /v1/http-consumers`` with a ``metadata`` filter."""
    wanted = management.metadata_filter(request.query)
    return listing(
        [
            consumer_json(c)
            for c in state.consumers.values()
            if management.metadata_matches(c.metadata, wanted)
        ]
    )


@router.route("GET", "/v1/http-consumers/{id}")
def get_consumer(state: State, request: Request, consumer_id: str) -> Response:
    """``GET /v1/http-consumers/{id}``."""
    return ok(consumer_json(_get(state.consumers, consumer_id)))


@router.route("PATCH", "/v1/http-consumers/{id}")
def update_consumer(state: State, request: Request, consumer_id: str) -> Response:
    """``PATCH /v1/http-consumers/{id}``."""
    consumer = _get(state.consumers, consumer_id)
    management.update_consumer(state, consumer, body_of(request))
    return ok(consumer_json(consumer))


@router.route("DELETE", "/v1/http-consumers/{id}")
def delete_consumer(state: State, request: Request, consumer_id: str) -> Response:
    """``DELETE /v1/http-consumers/{id}``: 200 with the deleted consumer."""
    consumer = _get(state.consumers, consumer_id)
    del state.consumers[consumer_id]
    state.cond.notify_all()
    return ok(consumer_json(consumer))


# -- collections -----------------------------------------------------------------------------


@router.route("GET", "/v1/collections/{credential_id}")
def list_collections(state: State, request: Request, credential_id: str) -> Response:
    """``GET /v1/collections/{credential_id}``: the collections of its provider."""
    credential: Credential = _get(state.credentials, credential_id)
    return listing(schemas.collections(credential.provider))


@router.route("GET", "/v1/collections/{credential_id}/{collection_id}")
def get_collection(
    state: State, request: Request, credential_id: str, collection_id: str
) -> Response:
    """``GET /v1/collections/{credential_id}/{collection_id}``."""
    credential: Credential = _get(state.credentials, credential_id)
    found = schemas.collection(credential.provider, collection_id)
    if found is None:
        raise not_found()
    return ok(found)


@router.route("POST", "/v1/collections/{credential_id}/refresh/start")
@router.route("GET", "/v1/collections/{credential_id}/refresh/status")
def collections_refresh(state: State, request: Request, credential_id: str) -> Response:
    """Start a refresh of the collections list, or its status: the emulator's list is fixed,
    so a refresh succeeds at once."""
    credential: Credential = _get(state.credentials, credential_id)
    stamp = clock.iso_micro(credential.updated_at)
    return ok(
        {
            "credential_id": credential.id,
            "last_started_at": stamp,
            "last_succeeded_at": stamp,
            "status": "succeeded",
            "error": None,
        }
    )


# -- records stream --------------------------------------------------------------------------


@router.route("GET", "/v1/records")
def list_records(state: State, request: Request) -> Response:
    """``GET /v1/records``: the stream in order, paged by an opaque ``cursor``.

    ``limit`` defaults to 100; above ``MAX_RECORDS_LIMIT`` (1000) the page holds 1000 records
    (the API's maximum is undocumented; the client never relies on a full page).
    """
    query = request.query
    after = decode_cursor(query.get("after_cursor"))
    limit = _limit(query.get("limit"))
    collection = query.get("collection_id", query.get("collection"))
    page: list[JSONObject] = []
    for record in state.records.values():
        if len(page) >= limit:
            break
        if (
            record.updated_idx > after
            and query.get("sync_id") in (None, record.sync_id)
            and (
                query.get("provider") in (None, record.provider)
                and collection in (None, record.collection_id)
            )
        ):
            page.append(record_json(record))
    cursor = encode_cursor(page[-1]["updated_idx"]) if page else query.get("after_cursor") or None
    return ok({"records": page, "cursor": cursor})


@router.route("GET", "/v1/events")
def list_events(state: State, request: Request) -> Response:
    """``GET /v1/events``: the change log (``created``/``updated``/``deleted``) with the
    filters and cursor of ``/v1/records``; the list key ``events`` is the emulator's choice
    (the docs page shows items only and says the endpoint is not public yet)."""
    query = request.query
    after = decode_cursor(query.get("after_cursor"))
    limit = _limit(query.get("limit"))
    collection = query.get("collection_id", query.get("collection"))
    page = [
        event
        for event in state.events
        if event.updated_idx > after
        and query.get("sync_id") in (None, event.body["sync_id"])
        and collection in (None, event.body["collection_id"])
        and query.get("provider") in (None, str(event.body["collection_id"]).partition(":")[0])
    ][:limit]
    cursor = encode_cursor(page[-1].updated_idx) if page else query.get("after_cursor") or None
    return ok({"events": [event.body for event in page], "cursor": cursor})


def encode_cursor(updated_idx: int) -> str:
    """The opaque cursor after the record at ``updated_idx``."""
    return base64.urlsafe_b64encode(str(updated_idx).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The ``updated_idx`` a cursor points after (``0`` for none)."""
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_field("after_cursor", "is not a cursor returned by this API") from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_RECORDS_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise invalid_field("limit", "must be a positive integer")
    return min(value, MAX_RECORDS_LIMIT)
