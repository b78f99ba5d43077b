"""Management API operations on the state: streams, credentials, syncs and HTTP consumers.

Every function expects the caller to hold ``state.cond``; bad input raises ``ApiError``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sequin_orm.emulator import clock, providers, schemas
from sequin_orm.emulator.checks import Checker
from sequin_orm.emulator.delivery import FILTER_KEYS, KINDS, Consumer
from sequin_orm.emulator.ids import new_uuid
from sequin_orm.emulator.jsonutil import JSONObject, as_object, is_int
from sequin_orm.emulator.protocol import invalid_field
from sequin_orm.emulator.state import Credential, State, Stream, Sync
from sequin_orm.emulator.views import record_json

SYNC_FREQUENCIES = ("continuous", "4h")
SYNC_STATUSES = ("active", "disabled")
SYNC_UPDATABLE = (
    "name",
    "collection_ids",
    "rate_limit",
    "status",
    "max_age_days",
    "sync_frequency",
    "metadata",
)
DELIVER_POLICIES = ("all", "new", "last", "1h")
#: ``deliver_policy: "1h"`` replays the changes of the last hour.
RECENT = timedelta(hours=1)
CONSUMER_UPDATABLE = (
    "deliver_policy",
    "ack_wait_ms",
    "max_deliver",
    "max_ack_pending",
    "name",
    "metadata",
)
CREDENTIAL_UPDATABLE = ("name", "metadata")


# -- streams ---------------------------------------------------------------------------------


def create_stream(state: State, body: JSONObject, *, stream_id: str | None = None) -> Stream:
    """``POST /v1/streams``: a stream with a unique ``slug``."""
    check = Checker(body)
    slug = check.string("slug", required=True)
    if slug and any(s.slug == slug for s in state.streams.values()):
        check.fail("slug", "has already been taken")
    _unique_id(check, state.streams, stream_id)
    check.done()
    now = clock.utcnow()
    stream = Stream(stream_id or new_uuid(), str(slug), now, now)
    state.streams[stream.id] = stream
    return stream


# -- credentials -----------------------------------------------------------------------------


def import_credential(
    state: State, body: JSONObject, *, key: str = "", credential_id: str | None = None
) -> Credential:
    """``POST /v1/credentials``: idempotent on identical ``properties``."""
    check = Checker(body)
    properties = check.obj("properties")
    kind = properties.get("kind") if properties else None
    provider = providers.provider_of_kind(kind) if isinstance(kind, str) else None
    if properties is None:
        check.fail("properties", "can't be blank")
    elif provider is None:
        check.fail("properties.kind", "must name a known credential kind, e.g. stripe_key")
    name = check.string("name")
    oauth_app_id = check.string("oauth_app_id")
    metadata = check.obj("metadata") or {}
    _unique_id(check, state.credentials, credential_id)
    _prefix_errors(check, key)
    check.done()
    assert properties is not None and provider is not None and isinstance(kind, str)
    if credential_id is None:
        for existing in state.credentials.values():
            if existing.provider == provider and existing.properties == properties:
                return existing
    now = clock.utcnow()
    label = name if name is not None else properties.get("name")
    credential = Credential(
        credential_id or new_uuid(),
        provider,
        kind,
        label if isinstance(label, str) else None,
        copy.deepcopy(properties),
        oauth_app_id,
        copy.deepcopy(metadata),
        now,
        now,
    )
    state.credentials[credential.id] = credential
    return credential


def update_credential(credential: Credential, body: JSONObject) -> None:
    """``PATCH /v1/credentials/{id}``: ``name`` and ``metadata`` only."""
    check = Checker(body)
    check.only(CREDENTIAL_UPDATABLE)
    name = check.string("name")
    metadata = check.obj("metadata")
    check.done()
    if "name" in body:
        credential.name = name
    if metadata is not None:
        credential.metadata = copy.deepcopy(metadata)
    credential.updated_at = clock.utcnow()


def _unique_id(check: Checker, table: Mapping[str, Any], wanted: str | None) -> None:
    """Explicit ids (state helpers only) must be new."""
    if wanted is not None and wanted in table:
        check.fail("id", "has already been taken")


def _prefix_errors(check: Checker, key: str) -> None:
    if key:
        check.errors = {f"{key}.{field}": reasons for field, reasons in check.errors.items()}


# -- syncs -----------------------------------------------------------------------------------


def create_sync(state: State, body: JSONObject, *, sync_id: str | None = None) -> Sync:
    """``POST /v1/syncs``."""
    check = Checker(body)
    provider = check.string("provider", required=True, choices=providers.PROVIDERS)
    stream_id = check.string("stream_id", required=True)
    if stream_id is not None and stream_id not in state.streams:
        check.fail("stream_id", "does not exist")
    name = check.string("name", required=True)
    collection_ids = _collection_ids(check, provider)
    rate_limit = _rate_limit(check, provider)
    frequency = check.string("sync_frequency", choices=SYNC_FREQUENCIES) or "continuous"
    max_age_days = check.number_or_null("max_age_days")
    metadata = check.obj("metadata") or {}
    external_id = check.string("external_id")
    _unique_id(check, state.syncs, sync_id)
    check.done()
    assert provider is not None and stream_id is not None and name is not None
    credential = _sync_credential(state, body, provider)
    now = clock.utcnow()
    sync = Sync(
        sync_id or new_uuid(),
        provider,
        stream_id,
        name,
        collection_ids,
        rate_limit,
        credential.id,
        "active",
        max_age_days,
        frequency,
        copy.deepcopy(metadata),
        external_id,
        now,
        now,
    )
    state.syncs[sync.id] = sync
    return sync


def update_sync(sync: Sync, body: JSONObject) -> None:
    """``PATCH /v1/syncs/{id}``: credential, provider and stream_id cannot change."""
    check = Checker(body)
    check.only(SYNC_UPDATABLE)
    name = check.string("name")
    if "name" in body and name is None:
        check.fail("name", "can't be blank")
    collection_ids = _collection_ids(check, sync.provider) if "collection_ids" in body else None
    rate_limit = _rate_limit(check, sync.provider) if "rate_limit" in body else None
    status = check.string("status", choices=SYNC_STATUSES)
    frequency = check.string("sync_frequency", choices=SYNC_FREQUENCIES)
    max_age_days = check.number_or_null("max_age_days")
    metadata = check.obj("metadata")
    check.done()
    sync.name = name or sync.name
    sync.collection_ids = collection_ids or sync.collection_ids
    sync.rate_limit = rate_limit or sync.rate_limit
    sync.status = status or sync.status
    sync.sync_frequency = frequency or sync.sync_frequency
    if "max_age_days" in body:
        sync.max_age_days = max_age_days
    if metadata is not None:
        sync.metadata = copy.deepcopy(metadata)
    sync.updated_at = clock.utcnow()


def _collection_ids(check: Checker, provider: str | None) -> list[str]:
    ids = check.strings("collection_ids")
    if provider is None:
        return ids
    # Airtable collection ids are per base (airtable:<table id>): any one is accepted
    known = schemas.collection_ids(provider) if provider != "airtable" else frozenset()
    for collection_id in ids:
        if not collection_id.startswith(provider + ":"):
            check.fail("collection_ids", f"{collection_id} is not a {provider} collection")
        elif known and collection_id not in known:
            check.fail("collection_ids", f"{collection_id} is not a known collection")
    if len(set(ids)) != len(ids):
        check.fail("collection_ids", "must not repeat a collection")
    return ids


def _rate_limit(check: Checker, provider: str | None) -> dict[str, int]:
    given = check.obj("rate_limit")
    if given is None:
        return providers.default_rate_limit(provider or "")
    limit: dict[str, int] = {}
    for key, minimum in (("allowed_requests", 1), ("interval", 1), ("max_concurrent_requests", 0)):
        value = given.get(key, 0 if key == "max_concurrent_requests" else None)
        if not is_int(value) or value < minimum:
            check.fail(f"rate_limit.{key}", f"must be an integer >= {minimum}")
        else:
            limit[key] = int(value)
    return limit


def _sync_credential(state: State, body: JSONObject, provider: str) -> Credential:
    inline, credential_id = body.get("credential"), body.get("credential_id")
    if (inline is None) == (credential_id is None):
        raise invalid_field("credential", "give exactly one of credential or credential_id")
    if inline is not None:
        return _inline_credential(state, inline, provider)
    found = state.credentials.get(credential_id) if isinstance(credential_id, str) else None
    if found is None:
        raise invalid_field("credential_id", "does not exist")
    if found.provider != provider:
        raise invalid_field("credential_id", f"is a {found.provider} credential, not {provider}")
    return found


def _inline_credential(state: State, inline: Any, provider: str) -> Credential:
    body = as_object(inline)
    if body is None:
        raise invalid_field("credential", "must be an object")
    kind = (as_object(body.get("properties")) or {}).get("kind")
    other = providers.provider_of_kind(kind) if isinstance(kind, str) else None
    if other is not None and other != provider:
        raise invalid_field("credential.properties.kind", f"is a {other} kind, not {provider}")
    return import_credential(state, body, key="credential")


# -- HTTP consumers --------------------------------------------------------------------------


def create_consumer(state: State, body: JSONObject, *, consumer_id: str | None = None) -> Consumer:
    """``POST /v1/http-consumers``; the queue is filled according to ``deliver_policy``."""
    check = Checker(body)
    stream_id = check.string("stream_id", required=True)
    if stream_id is not None and stream_id not in state.streams:
        check.fail("stream_id", "does not exist")
    settings = _consumer_settings(check, {})
    filters = _filters(check)
    kind = check.string("kind", choices=KINDS) or "record"
    _unique_id(check, state.consumers, consumer_id)
    check.done()
    now = clock.utcnow()
    consumer = Consumer(
        id=consumer_id or new_uuid(),
        stream_id=str(stream_id),
        filters=filters,
        created_at=now,
        updated_at=now,
        kind=kind,
        **settings,
    )
    state.consumers[consumer.id] = consumer
    refill(state, consumer)
    return consumer


def update_consumer(state: State, consumer: Consumer, body: JSONObject) -> None:
    """``PATCH /v1/http-consumers/{id}``; a new ``deliver_policy`` replays per that policy."""
    check = Checker(body)
    check.only(CONSUMER_UPDATABLE)
    current = {key: getattr(consumer, key) for key in CONSUMER_UPDATABLE}
    settings = _consumer_settings(check, current)
    check.done()
    policy_changed = settings["deliver_policy"] != consumer.deliver_policy
    for key, value in settings.items():
        setattr(consumer, key, value)
    consumer.updated_at = clock.utcnow()
    if policy_changed:
        refill(state, consumer)
    state.cond.notify_all()


def refill(state: State, consumer: Consumer) -> None:
    """Empty the consumer's queue and queue what its policy asks for: the stream's records
    (record consumers) or the logged changes (event consumers); ``all``, the ``last`` one,
    those of the last hour (``1h``) or none (``new``)."""
    consumer.clear()
    if consumer.deliver_policy == "new":
        return
    since = clock.utcnow() - RECENT if consumer.deliver_policy == "1h" else None
    attributes = {r.id: r.attributes() for r in state.records.values()}
    if consumer.kind == "event":
        queued = [
            (e.record_id, e.updated_idx, e.body)
            for e in state.events
            if consumer.matches(attributes.get(e.record_id, {}))
            and (since is None or e.inserted_at >= since)
        ]
    else:
        queued = [
            (r.id, r.updated_idx, record_json(r))
            for r in state.records.values()
            if consumer.matches(attributes[r.id])
            and (since is None or r.upstream_updated_at >= since)
        ]
    if consumer.deliver_policy == "last":
        queued = queued[-1:]
    for record_id, updated_idx, body in queued:
        consumer.offer(record_id, updated_idx, body, 0.0)
    state.cond.notify_all()


def _consumer_settings(check: Checker, current: dict[str, Any]) -> dict[str, Any]:
    name = check.string("name")
    policy = check.string("deliver_policy", choices=DELIVER_POLICIES)
    metadata = check.obj("metadata")
    return {
        "name": name if "name" in check.body else current.get("name"),
        "deliver_policy": policy or current.get("deliver_policy", "all"),
        "ack_wait_ms": check.integer("ack_wait_ms", current.get("ack_wait_ms", 30000), minimum=1),
        "max_deliver": check.integer(
            "max_deliver", current.get("max_deliver", -1), minimum=1, allow=-1
        ),
        "max_ack_pending": check.integer(
            "max_ack_pending", current.get("max_ack_pending", 1000), minimum=1
        ),
        "metadata": copy.deepcopy(metadata)
        if metadata is not None
        else current.get("metadata", {}),
    }


def _filters(check: Checker) -> dict[str, str]:
    given = check.obj("filters") or {}
    for key, value in given.items():
        if key not in FILTER_KEYS:
            check.fail(f"filters.{key}", "is not a filter; use " + ", ".join(FILTER_KEYS))
        elif not isinstance(value, str):
            check.fail(f"filters.{key}", "must be a string")
    shown = {key: str(given.get(key, "*")) for key in FILTER_KEYS if key != "resource_id"}
    if "resource_id" in given:  # in the overview's example, not in the listed objects
        shown["resource_id"] = str(given["resource_id"])
    return shown


# -- list filters ----------------------------------------------------------------------------


def metadata_filter(query: Mapping[str, str]) -> JSONObject | None:
    """The ``metadata`` query parameter (a JSON object), or ``None`` when absent."""
    raw = query.get("metadata")
    if raw is None:
        return None
    try:
        value = as_object(json.loads(raw))
    except ValueError:
        value = None
    if value is None:
        raise invalid_field("metadata", "must be a JSON object")
    return value


def metadata_matches(metadata: dict[str, Any], wanted: JSONObject | None) -> bool:
    """Whether ``metadata`` holds every key/value of ``wanted``."""
    return wanted is None or all(metadata.get(k) == v for k, v in wanted.items())
