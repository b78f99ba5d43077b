"""Record dicts as Sequin sends them, for the mirror's tests."""

from __future__ import annotations

from typing import Any

SF = "sync-sf"


def record(
    upstream_id: str,
    updated_idx: int = 1,
    *,
    deleted: bool = False,
    collection_id: str = "salesforce:contact",
    sync_id: str = SF,
    **data: Any,
) -> dict[str, Any]:
    """A record of ``collection_id`` with ``data`` (``LastName`` defaults to ``"Atreides"``)."""
    return {
        "id": f"rec-{upstream_id}",
        "upstream_id": upstream_id,
        "collection_id": collection_id,
        "sync_id": sync_id,
        "data": {"LastName": "Atreides", **data},
        "deleted": deleted,
        "updated_idx": updated_idx,
        "upstream_created_at": "2024-11-10T18:39:00.070453Z",
        "upstream_updated_at": "2024-11-10T18:40:00.000000Z",
    }
