"""Shared helpers for the emulator's tests (a unique module name, so no clash with other tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sequin_orm.emulator import Emulator

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MUTATE = "/v1/mutations/run"
MutationFn = Callable[..., httpx.Response]


def in_process(emulator: Emulator) -> httpx.Client:
    """An authenticated client over the in-process transport."""
    return httpx.Client(transport=emulator.transport(), base_url="http://sequin.test", headers=AUTH)


def error_of(response: httpx.Response) -> str:
    """The message of a Mutation API error body, checking its documented shape."""
    body = response.json()
    assert set(body) == {"error", "docs"} and body["docs"], body
    return str(body["error"])


def summary_of(response: httpx.Response) -> str:
    """The message of a Management API error body."""
    body = response.json()
    assert "summary" in body, body
    return str(body["summary"])


def mutation(kind: str, sync_id: str, collection_id: str, **fields: Any) -> dict[str, Any]:
    """A mutation request body."""
    return {"kind": kind, "sync_id": sync_id, "collection_id": collection_id, **fields}


#: The documented record fields (shared/sequin-api.md §3), plus the examples' flat ``sync_id``.
RECORD_KEYS = frozenset(
    {
        "id",
        "upstream_id",
        "collection_id",
        "provider",
        "stream_id",
        "sync",
        "sync_id",
        "data",
        "deleted",
        "inserted_at",
        "upstream_created_at",
        "upstream_updated_at",
        "updated_idx",
    }
)

#: An HTTP consumer object's keys (§4.7, ``GET /v1/http-consumers/{id}`` and the list's
#: ``filters``).
CONSUMER_KEYS = frozenset(
    {
        "id",
        "stream_id",
        "name",
        "deliver_policy",
        "ack_wait_ms",
        "max_deliver",
        "max_ack_pending",
        "filters",
        "metadata",
        "created_at",
        "updated_at",
    }
)
