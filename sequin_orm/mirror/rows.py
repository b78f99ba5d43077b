"""Records (Sequin's JSON) to rows of ``sequin_records`` and back (pure, no database)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from sequin_orm.fields import format_datetime, parse_datetime
from sequin_orm.records import read_meta

__all__ = ["ApplyResult", "Malformed", "latest_rows", "record_of", "row_of"]

#: The primary key of a row.
Key = tuple[str, str, str]


@attrs.frozen
class ApplyResult:
    """What one batch did: ``stored`` records written (older versions change nothing),
    ``acked`` ack tokens settled after the commit, and the ``refused`` ``(what, why)``."""

    stored: int = 0
    acked: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


class Malformed(ValueError):
    """Why a record cannot be stored; ``what`` names it as well as it can."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why


def row_of(record: Any, mirrored_at: datetime.datetime) -> dict[str, Any]:
    """The row for a record, or ``Malformed`` (missing ids, ``data`` not an object …)."""
    if not isinstance(record, Mapping):
        raise Malformed("a message", "it holds no record object (an event consumer?)")
    upstream_id, record_id, sync_id, created_at, updated_at, updated_idx, deleted = read_meta(
        record
    )
    collection_id = record.get("collection_id")
    what = f"record {upstream_id or '?'} of {collection_id or '?'}"
    missing = [
        name
        for name, value in (
            ("upstream_id", upstream_id),
            ("collection_id", collection_id if isinstance(collection_id, str) else None),
            ("sync_id", sync_id),
            ("updated_idx", updated_idx),
        )
        if not value and value != 0
    ]
    if missing:
        raise Malformed(what, f"missing {', '.join(missing)}")
    data = record.get("data")
    if not isinstance(data, dict):
        raise Malformed(what, f"data is a {type(data).__name__}, not a JSON object")
    return {
        "sync_id": sync_id,
        "collection_id": collection_id,
        "upstream_id": upstream_id,
        "data": data,
        "updated_idx": updated_idx,
        "deleted": bool(deleted),
        "upstream_created_at": parse_datetime(created_at) if created_at else None,
        "upstream_updated_at": parse_datetime(updated_at) if updated_at else None,
        "record_id": record_id,
        "mirrored_at": mirrored_at,
    }


def latest_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key, the one with the highest ``updated_idx`` (an upsert statement may not
    touch a row twice), in key order (concurrent writers lock rows in one order: no
    deadlock)."""
    latest: dict[Key, dict[str, Any]] = {}
    for row in rows:
        key = (row["sync_id"], row["collection_id"], row["upstream_id"])
        kept = latest.get(key)
        if kept is None or row["updated_idx"] > kept["updated_idx"]:
            latest[key] = row
    return [latest[key] for key in sorted(latest)]


def record_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The Sequin record a row holds, as ``Model.from_record`` reads it."""
    created, updated = row["upstream_created_at"], row["upstream_updated_at"]
    return {
        "id": row["record_id"],
        "sync_id": row["sync_id"],
        "collection_id": row["collection_id"],
        "upstream_id": row["upstream_id"],
        "data": row["data"],
        "updated_idx": row["updated_idx"],
        "deleted": row["deleted"],
        "upstream_created_at": format_datetime(created) if created else None,
        "upstream_updated_at": format_datetime(updated) if updated else None,
    }
