"""Streams (``/v1/streams``): where syncs write and consumers read.

``Stream.objects.create(slug="dev")`` and ``Stream.objects.list()`` use the default client,
``client.streams`` a given one. Only creating and listing are known (the docs show no get,
update or delete).
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from sequin_orm.errors import ModelError
from sequin_orm.requestor import ClientBound
from sequin_orm.retry import Safety
from sequin_orm.wire import ClassManager, decode, decode_list

__all__ = ["Stream", "StreamManager", "stream_create_body"]

STREAMS_PATH = "/v1/streams"


@attrs.define(kw_only=True)
class Stream:
    """A stream: a partition of synced data (e.g. ``dev`` and ``prod``); ``slug`` is unique."""

    id: str
    slug: str | None = None
    org_id: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.Factory(dict)

    objects = ClassManager(lambda: StreamManager(None))


def stream_create_body(slug: str) -> dict[str, Any]:
    """The body of ``POST /v1/streams``, or ModelError for a bad slug."""
    if not isinstance(slug, str) or not slug.strip():
        raise ModelError("slug must be a non-empty string")
    return {"slug": slug}


class StreamManager(ClientBound):
    """``/v1/streams``: create and list. Every method hits the network."""

    def create(self, slug: str) -> Stream:
        """``POST /v1/streams``; the slug is unique per account (a second create fails)."""
        body = stream_create_body(slug)
        payload = self.requestor.http.request(
            "POST", STREAMS_PATH, json_body=body, safety=Safety.NOT_IDEMPOTENT
        )
        return decode(payload, Stream, method="POST", path=STREAMS_PATH)

    def list(self) -> list[Stream]:
        """``GET /v1/streams``."""
        payload = self.requestor.http.request("GET", STREAMS_PATH)
        return decode_list(payload, Stream, method="GET", path=STREAMS_PATH)
