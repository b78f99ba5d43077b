"""Record metadata: the part of a Sequin record around its ``data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

#: ``(upstream_id, record_id, sync_id, upstream_created_at, upstream_updated_at,
#: updated_idx, deleted)``; None where the record does not say.
_Str = str | None
MetaValues = tuple[_Str, _Str, _Str, _Str, _Str, int | None, bool | None]

#: Separates the packed metadata (see ``pack_meta``); a value holding it is kept in a tuple.
_SEP = "\x00"


def read_meta(record: Mapping[str, Any]) -> MetaValues:
    """What Sequin says about a record besides its data (models keep it in slots).

    Tolerates the documented drift: a flat ``sync_id`` or a nested ``sync`` object. Values of
    the wrong type read as absent.
    """
    get = record.get
    upstream_id, record_id = get("upstream_id"), get("id")
    created_at, updated_at = get("upstream_created_at"), get("upstream_updated_at")
    sync_id = get("sync_id")
    if not sync_id:
        sync = get("sync")
        sync_id = sync.get("id") if isinstance(sync, dict) else None
    updated_idx = get("updated_idx")
    deleted = get("deleted")
    # inline checks rather than a helper: every loaded or saved object goes through here
    return (
        upstream_id if upstream_id and isinstance(upstream_id, str) else None,
        record_id if record_id and isinstance(record_id, str) else None,
        sync_id if sync_id and isinstance(sync_id, str) else None,
        created_at if created_at and isinstance(created_at, str) else None,
        updated_at if updated_at and isinstance(updated_at, str) else None,
        updated_idx if isinstance(updated_idx, int) and not isinstance(updated_idx, bool) else None,
        bool(deleted) if deleted is not None else None,
    )


def fold_key(key: str) -> str:
    """A key without case or underscores: ``activity_date`` and ``ActivityDate`` fold alike."""
    return key.replace("_", "").lower()


def foreign_collection(record: Mapping[str, Any], collection_id: str) -> str | None:
    """The ``collection_id`` a record names when it is not ``collection_id`` (else None).

    A record that names no collection is taken as the one asked for; an empty
    ``collection_id`` (a model class without one) accepts every record.
    """
    named = record.get("collection_id")
    if not collection_id or named is None or named == collection_id:
        return None
    return named if isinstance(named, str) else repr(named)


#: ``(stream_id, inserted_at, sync external_id, sync metadata as JSON text)``
MoreValues = tuple[_Str, _Str, _Str, _Str]
NO_MORE: MoreValues = (None, None, None, None)


def read_more(record: Mapping[str, Any]) -> MoreValues:
    """The rest of a record's metadata: ``stream_id``, ``inserted_at`` (``created_at`` in the
    ``/v1/records`` example) and the sync's ``external_id`` and ``metadata`` (JSON text, so it
    packs into one string); None where the record does not say."""
    get = record.get
    stream_id, inserted_at = get("stream_id"), get("inserted_at") or get("created_at")
    external_id = metadata = None
    sync = get("sync")
    if isinstance(sync, dict):
        external_id, metadata = sync.get("external_id"), sync.get("metadata")
    return (
        stream_id if stream_id and isinstance(stream_id, str) else None,
        inserted_at if inserted_at and isinstance(inserted_at, str) else None,
        external_id if external_id and isinstance(external_id, str) else None,
        _metadata_text(metadata),
    )


def _metadata_text(metadata: Any) -> str | None:
    """A sync's metadata as compact JSON text (most syncs have none: no encoding then)."""
    if not isinstance(metadata, dict):
        return None
    return orjson.dumps(metadata).decode() if metadata else "{}"


#: ``(record_id, upstream_created_at, upstream_updated_at, updated_idx, *MoreValues)``
_Unpacked = tuple[_Str, _Str, _Str, int | None, _Str, _Str, _Str, _Str]
Packed = str | _Unpacked


def pack_meta(
    record_id: str | None,
    created_at: str | None,
    updated_at: str | None,
    updated_idx: int | None,
    more: MoreValues = NO_MORE,
) -> Packed:
    """The rarely read metadata of a record as ONE string (None parts empty).

    A loaded object keeps it in one slot: one string costs about 140 bytes less than three
    strings and an int, per object (read back by ``unpack_meta``, only when asked for).
    """
    idx = "" if updated_idx is None else str(updated_idx)
    head = f"{record_id or ''}{_SEP}{created_at or ''}{_SEP}{updated_at or ''}{_SEP}{idx}"
    if more == NO_MORE:
        text, separators = head, 3
    else:
        stream_id, inserted_at, external_id, metadata = more
        text = (
            f"{head}{_SEP}{stream_id or ''}{_SEP}{inserted_at or ''}{_SEP}"
            f"{external_id or ''}{_SEP}{metadata or ''}"
        )
        separators = 7
    if text.count(_SEP) != separators:  # a value holds the separator: keep the values apart
        return (record_id, created_at, updated_at, updated_idx, *more)
    return text


def unpack_all(packed: Packed | None) -> _Unpacked:
    """``(record_id, upstream_created_at, upstream_updated_at, updated_idx, stream_id,
    inserted_at, sync external_id, sync metadata JSON)``."""
    if packed is None:
        return (None, None, None, None, *NO_MORE)
    if isinstance(packed, tuple):
        return packed
    parts = packed.split(_SEP)
    record_id, created_at, updated_at, idx = parts[:4]
    more = tuple(m or None for m in parts[4:8]) if len(parts) > 4 else NO_MORE
    return (
        record_id or None,
        created_at or None,
        updated_at or None,
        int(idx) if idx else None,
        more[0],
        more[1],
        more[2],
        more[3],
    )


def unpack_meta(packed: Packed | None) -> tuple[_Str, _Str, _Str, int | None]:
    """``(record_id, upstream_created_at, upstream_updated_at, updated_idx)``."""
    values = unpack_all(packed)
    return values[0], values[1], values[2], values[3]


def sync_metadata(packed: Packed | None) -> dict[str, Any] | None:
    """The sync's ``metadata`` of a packed record metadata (a new dict), or None."""
    text = unpack_all(packed)[7]
    return None if text is None else dict(orjson.loads(text))
