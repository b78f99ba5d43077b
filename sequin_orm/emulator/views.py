"""JSON shapes of every entity, as the API returns them (secrets masked)."""

from __future__ import annotations

import copy
from typing import Any

from sequin_orm.emulator import clock
from sequin_orm.emulator.delivery import Consumer
from sequin_orm.emulator.jsonutil import JSONObject
from sequin_orm.emulator.state import Credential, Record, Stream, Sync

MASK = "***********"
#: Credential properties shown in clear; every other property value is masked.
NON_SECRET_PROPERTIES = frozenset(
    {"kind", "name", "test", "sandbox", "instance_url", "hub_id", "region", "environment"}
)
SECRET_KEYS = frozenset(
    {
        "secret",
        "secret_key",
        "refresh_token",
        "access_token",
        "password",
        "client_secret",
        "api_key",
        "private_key",
    }
)
SECRET_SUFFIXES = ("_secret", "_token", "password")


def is_secret(key: str) -> bool:
    """Whether a credential property holds a secret that responses mask: any key but the
    allow-listed ``NON_SECRET_PROPERTIES``."""
    return key not in NON_SECRET_PROPERTIES


def mask(properties: JSONObject) -> JSONObject:
    """``properties`` with every secret value replaced by ``***********``."""
    return {k: _mask_all(v) if is_secret(k) else v for k, v in properties.items()}


def _mask_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    return value if value is None or isinstance(value, bool) else MASK


def scrub(value: Any, parent: Any = None) -> Any:
    """A copy of a request body fit for the request log: credential ``properties`` (a sync's
    ``credential``, or ``properties`` with a ``kind``) masked as in responses, and every value
    under a secret key name (``password``, ``*_token`` but ``ack_token`` …) masked."""
    if isinstance(value, dict):
        out: JSONObject = {}
        for key, item in value.items():
            if (
                key == "properties"
                and isinstance(item, dict)
                and (parent == "credential" or "kind" in item)
            ):
                out[key] = mask(item)
            elif _secret_name(key) and item is not None:
                out[key] = MASK
            else:
                out[key] = scrub(item, key)
        return out
    if isinstance(value, list):
        return [scrub(item, parent) for item in value]
    return value


def _secret_name(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    name = key.lower()
    return name != "ack_token" and (name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES))


def stream_json(stream: Stream, org_id: str) -> JSONObject:
    """A stream object."""
    return {
        "id": stream.id,
        "slug": stream.slug,
        "org_id": org_id,
        "created_at": clock.management(stream.created_at),
        "updated_at": clock.management(stream.updated_at),
    }


def credential_json(credential: Credential) -> JSONObject:
    """A credential object with masked secrets."""
    oauth_app: JSONObject = (
        {"kind": "sequin"}
        if credential.oauth_app_id is None
        else {"kind": "custom", "id": credential.oauth_app_id}
    )
    return {
        "id": credential.id,
        "provider": credential.provider,
        "kind": credential.kind,
        "name": credential.name,
        "properties": mask(credential.properties),
        "oauth_app_id": credential.oauth_app_id,
        "oauth_app": oauth_app,
        "health": {"status": "ok", "notes": [], "time": clock.management(credential.updated_at)},
        "metadata": copy.deepcopy(credential.metadata),
        "created_at": clock.management(credential.created_at),
        "updated_at": clock.management(credential.updated_at),
    }


def sync_json(sync: Sync, credential: Credential | None, org_id: str) -> JSONObject:
    """A sync object with its credential embedded."""
    return {
        "id": sync.id,
        "provider": sync.provider,
        "stream_id": sync.stream_id,
        "name": sync.name,
        "status": sync.status,
        "org_id": org_id,
        "health": {"status": "healthy", "sync_id": sync.id},
        "collection_ids": list(sync.collection_ids),
        "rate_limit": dict(sync.rate_limit),
        "credential_id": sync.credential_id,
        "credential": None if credential is None else credential_json(credential),
        "max_age_days": sync.max_age_days,
        "sync_frequency": sync.sync_frequency,
        "initial_backfill_completed_at": clock.management(sync.created_at),
        "metadata": copy.deepcopy(sync.metadata),
        "external_id": sync.external_id,
        "created_at": clock.management(sync.created_at),
        "updated_at": clock.management(sync.updated_at),
    }


def sync_ref(sync: Sync) -> JSONObject:
    """The ``sync`` object embedded in records."""
    return {
        "id": sync.id,
        "external_id": sync.external_id,
        "metadata": copy.deepcopy(sync.metadata),
    }


def record_json(record: Record) -> JSONObject:
    """A record (nested ``sync`` and flat ``sync_id`` both present)."""
    return {
        "id": record.id,
        "upstream_id": record.upstream_id,
        "collection_id": record.collection_id,
        "provider": record.provider,
        "stream_id": record.stream_id,
        "sync": copy.deepcopy(record.sync),
        "sync_id": record.sync_id,
        "data": copy.deepcopy(record.data),
        "deleted": record.deleted,
        "inserted_at": clock.iso_micro(record.inserted_at),
        "upstream_created_at": clock.iso_micro(record.upstream_created_at),
        "upstream_updated_at": clock.iso_micro(record.upstream_updated_at),
        "updated_idx": record.updated_idx,
    }


def consumer_json(consumer: Consumer) -> JSONObject:
    """An HTTP consumer object (with ``kind`` only for an event consumer: the documented
    object has no such key)."""
    extra: JSONObject = {"kind": consumer.kind} if consumer.kind != "record" else {}
    return extra | {
        "id": consumer.id,
        "stream_id": consumer.stream_id,
        "name": consumer.name,
        "deliver_policy": consumer.deliver_policy,
        "ack_wait_ms": consumer.ack_wait_ms,
        "max_deliver": consumer.max_deliver,
        "max_ack_pending": consumer.max_ack_pending,
        "filters": dict(consumer.filters),
        "metadata": copy.deepcopy(consumer.metadata),
        "created_at": clock.management(consumer.created_at),
        "updated_at": clock.management(consumer.updated_at),
    }
