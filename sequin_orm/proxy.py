"""The Proxy API: calls to a sync's upstream API through Sequin, for actions that are not plain
CRUD (a Stripe refund, a payment-intent cancel, a Salesforce lead conversion)::

    proxy = client.proxy(sync_id)
    refund = proxy.request("POST", "/v1/refunds", json={"charge": "ch_123"})
    refund.json["id"]

``[GET|POST|PUT|PATCH|DELETE] /v1/proxy/sync/{sync_id}/{path}`` (shared/sequin-api.md §2.6):
the body and query pass through, Sequin adds the upstream authentication and paces the call
within the sync's rate limit. ``proxy_call`` builds the request and ``read_proxy_response``
reads the answer (both pure); ``Proxy.request`` is the one call to the network between them.

Any status may come back from upstream: a 2xx is a ``ProxyResponse``; any other raises the
``APIStatusError`` of that status, whose ``body`` is the upstream (or Sequin) error body.
Only ``GET`` is retried: a repeated ``POST`` could refund twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs

from sequin_orm.codec import decode_json, encode_json
from sequin_orm.errors import APIResponseValidationError, ModelError
from sequin_orm.http import Call
from sequin_orm.requestor import AsyncClientBound, ClientBound, HasAsyncRequestor, HasRequestor
from sequin_orm.retry import Safety
from sequin_orm.wire import path_segment

__all__ = [
    "PROXY_METHODS",
    "AsyncProxy",
    "Proxy",
    "ProxyCall",
    "ProxyResponse",
    "proxy_call",
    "read_proxy_response",
]

PROXY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PROXY_PREFIX = "/v1/proxy/sync"


@attrs.frozen
class ProxyCall:
    """One Proxy API request, as data: what ``Proxy.request`` sends."""

    method: str
    path: str
    content: bytes | None
    params: dict[str, Any] | None
    safety: Safety

    def http_call(self) -> Call:
        return Call(self.method, self.path, self.content, self.params, self.safety)


@attrs.frozen
class ProxyResponse:
    """A 2xx answer of the upstream API: its body decoded (``json``; None when empty or not
    JSON) and as received (``content``)."""

    json: Any
    content: bytes = attrs.field(repr=False)


def proxy_call(
    sync_id: str,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
) -> ProxyCall:
    """The request for ``method path`` of the sync's upstream API; ``ModelError`` (before any
    request) for a method the Proxy API does not take, a path that is not an absolute upstream
    path (a query goes in ``params``), or a body JSON cannot carry."""
    verb = method.upper() if isinstance(method, str) else method
    if verb not in PROXY_METHODS:
        raise ModelError(f"The Proxy API takes {', '.join(PROXY_METHODS)}, not {method!r}")
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise ModelError(f"path is the upstream API's path, e.g. '/v1/refunds', got {path!r}")
    if "?" in path or "#" in path:
        raise ModelError("Put the query in params=, not in the path")
    segments = path.strip("/").split("/")
    if any(part in ("", ".", "..") for part in segments):
        raise ModelError(f"path has an empty, '.' or '..' segment: {path!r}")
    upstream = "/".join(quote(part, safe="@:,;=+$") for part in segments)
    return ProxyCall(
        method=verb,
        path=f"{PROXY_PREFIX}/{path_segment(sync_id, 'sync_id')}/{upstream}",
        content=None if json is None else encode_json(json),
        params=None if params is None else dict(params),
        safety=Safety.READ if verb == "GET" else Safety.NOT_IDEMPOTENT,
    )


def read_proxy_response(content: bytes, call: ProxyCall) -> ProxyResponse:
    """The ``ProxyResponse`` of a 2xx body: JSON when it is JSON (upstream APIs may answer
    otherwise, so a body that is not JSON is kept as ``content`` with ``json`` None)."""
    try:
        decoded = decode_json(content, call.method, call.path)
    except APIResponseValidationError:
        decoded = None
    return ProxyResponse(decoded, content)


class _ProxyOf:
    """What ``Proxy`` and ``AsyncProxy`` share: the sync they call through."""

    def __init__(self, sync_id: str, client: Any = None) -> None:
        path_segment(sync_id, "sync_id")
        self.sync_id = sync_id
        self._bound = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sync_id={self.sync_id!r})"


class Proxy(_ProxyOf, ClientBound):
    """The Proxy API of one sync; ``request`` hits the network."""

    def __init__(self, sync_id: str, client: HasRequestor | None = None) -> None:
        super().__init__(sync_id, client)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> ProxyResponse:
        """``method path`` on the sync's upstream API through Sequin (hits the network)."""
        call = proxy_call(self.sync_id, method, path, json=json, params=params)
        return read_proxy_response(self.requestor.http.perform(call.http_call()), call)


class AsyncProxy(_ProxyOf, AsyncClientBound):
    """The Proxy API of one sync through an ``AsyncClient``: ``await proxy.request(...)``."""

    def __init__(self, sync_id: str, client: HasAsyncRequestor | None = None) -> None:
        super().__init__(sync_id, client)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> ProxyResponse:
        """``method path`` on the sync's upstream API through Sequin (hits the network)."""
        call = proxy_call(self.sync_id, method, path, json=json, params=params)
        return read_proxy_response(await self.requestor.http.perform(call.http_call()), call)
