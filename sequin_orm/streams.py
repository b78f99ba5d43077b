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
from sequin_orm.requestor import APICall, AsyncClientBound, ClientBound
from sequin_orm.retry import Safety
from sequin_orm.wire import ClassManager, decode, decode_list

__all__ = ["AsyncStreamManager", "Stream", "StreamManager", "stream_create_body"]

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


class _StreamCalls:
    """The requests of ``/v1/streams`` and how to read their answers (no I/O)."""

    @staticmethod
    def _create_call(slug: str) -> APICall[Stream]:
        def read(payload: Any) -> Stream:
            return decode(payload, Stream, method="POST", path=STREAMS_PATH)

        body = stream_create_body(slug)
        return APICall("POST", STREAMS_PATH, read, json_body=body, safety=Safety.NOT_IDEMPOTENT)

    @staticmethod
    def _list_call() -> APICall[list[Stream]]:
        def read(payload: Any) -> list[Stream]:
            return decode_list(payload, Stream, method="GET", path=STREAMS_PATH)

        return APICall("GET", STREAMS_PATH, read)


class StreamManager(ClientBound, _StreamCalls):
    """``/v1/streams``: create and list. Every method hits the network."""

    def create(self, slug: str) -> Stream:
        """``POST /v1/streams``; the slug is unique per account (a second create fails)."""
        return self.requestor.call(self._create_call(slug))

    def list(self) -> list[Stream]:
        """``GET /v1/streams``."""
        return self.requestor.call(self._list_call())


class AsyncStreamManager(AsyncClientBound, _StreamCalls):
    """``/v1/streams`` through an ``AsyncClient``: ``StreamManager``'s methods, awaitable."""

    async def create(self, slug: str) -> Stream:
        """``POST /v1/streams``; the slug is unique per account (a second create fails)."""
        return await self.requestor.call(self._create_call(slug))

    async def list(self) -> list[Stream]:
        """``GET /v1/streams``."""
        return await self.requestor.call(self._list_call())
