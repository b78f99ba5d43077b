"""Record metadata: the part of a Sequin record around its ``data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class RecordMeta(NamedTuple):
    """What Sequin says about a record besides its data (read-only on models).

    A tuple: small and cheap to build, since every loaded object holds one.
    """

    upstream_id: str | None = None
    record_id: str | None = None
    sync_id: str | None = None
    collection_id: str | None = None
    upstream_created_at: str | None = None
    upstream_updated_at: str | None = None
    updated_idx: int | None = None
    deleted: bool = False

    @classmethod
    def from_record(
        cls, record: Mapping[str, Any], previous: RecordMeta | None = None
    ) -> RecordMeta:
        """Read the metadata of a record; keys the record lacks keep their previous value.

        Tolerates the documented drift: a flat ``sync_id`` or a nested ``sync`` object.
        """
        base = previous or _EMPTY
        sync = record.get("sync")
        sync_id = record.get("sync_id") or (sync.get("id") if isinstance(sync, dict) else None)
        updated_idx = record.get("updated_idx")
        return cls(
            upstream_id=_str(record.get("upstream_id")) or base.upstream_id,
            record_id=_str(record.get("id")) or base.record_id,
            sync_id=_str(sync_id) or base.sync_id,
            collection_id=_str(record.get("collection_id")) or base.collection_id,
            upstream_created_at=_str(record.get("upstream_created_at")) or base.upstream_created_at,
            upstream_updated_at=_str(record.get("upstream_updated_at")) or base.upstream_updated_at,
            updated_idx=updated_idx if isinstance(updated_idx, int) else base.updated_idx,
            deleted=bool(record.get("deleted", base.deleted)),
        )


_EMPTY = RecordMeta()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
