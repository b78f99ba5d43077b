"""Record metadata: the part of a Sequin record around its ``data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: ``(upstream_id, record_id, sync_id, upstream_created_at, upstream_updated_at,
#: updated_idx, deleted)``; None where the record does not say.
_Str = str | None
MetaValues = tuple[_Str, _Str, _Str, _Str, _Str, int | None, bool | None]


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
