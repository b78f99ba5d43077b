"""A scripted Mutation API for fault tests: answers in order, records what was sent.

Only for faults a server cannot produce on demand; behaviour tests use the emulator.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

import sequin_orm

Reply = httpx.Response | Exception | Callable[[dict[str, Any]], httpx.Response]
_ids = itertools.count(1)


def echo(body: dict[str, Any]) -> httpx.Response:
    """A faithful success: records in request order, new ids for creates."""
    records: list[dict[str, Any]] = []
    if body["kind"] == "delete":
        records = [{"upstream_id": u, "deleted": True, "data": {}} for u in body["upstream_ids"]]
    for item in body.get("records", []):
        upstream_id = item.get("upstream_id") or f"003{next(_ids):012d}AAA"
        records.append(
            {
                "upstream_id": upstream_id,
                "sync_id": body["sync_id"],
                "collection_id": body["collection_id"],
                "data": {**item["data"], "Id": upstream_id},
                "deleted": False,
            }
        )
    return httpx.Response(200, json={"records": records})


class FakeAPI:
    """Replies with ``script`` in order, then ``echo``; keeps every request body and timeout."""

    def __init__(self, *script: Reply) -> None:
        self.script = list(script)
        self.bodies: list[dict[str, Any]] = []
        self.read_timeouts: list[float | None] = []
        self._lock = threading.Lock()  # a commit may send from several threads

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        with self._lock:
            self.bodies.append(body)
            self.read_timeouts.append(request.extensions.get("timeout", {}).get("read"))
            reply: Reply = self.script.pop(0) if self.script else echo
        if isinstance(reply, Exception):
            raise reply
        return reply if isinstance(reply, httpx.Response) else reply(body)

    def client(self, **kwargs: Any) -> sequin_orm.Client:
        client = sequin_orm.Client(
            "test-token",
            "https://api.sequin.io",
            syncs={"salesforce": "sync-sf", "stripe": "sync-st", "hubspot": "sync-hs"},
            transport=httpx.MockTransport(self),
            **kwargs,
        )
        client.http.sleep = lambda seconds: None
        return client

    def kinds(self) -> list[str]:
        return [b["kind"] for b in self.bodies]


def error(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
