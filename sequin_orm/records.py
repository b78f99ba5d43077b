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
    sync_id = get("sync_id")
    if not sync_id:
        sync = get("sync")
        sync_id = sync.get("id") if isinstance(sync, dict) else None
    updated_idx = get("updated_idx")
    deleted = get("deleted")
    return (
        _str(get("upstream_id")),
        _str(get("id")),
        _str(sync_id),
        _str(get("upstream_created_at")),
        _str(get("upstream_updated_at")),
        updated_idx if isinstance(updated_idx, int) and not isinstance(updated_idx, bool) else None,
        bool(deleted) if deleted is not None else None,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
