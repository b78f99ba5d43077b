"""The requestor: settings plus one pooled HTTP connection, and the process-wide default one.

Everything below the ``Client`` facade (sessions, models, the managers) talks to the API
through a ``Requestor``. Anything with a ``requestor`` attribute (a ``Client``, or a requestor
itself) can be passed where one is wanted; with none, the default is used: the one
``configure()`` installed, else one built from the environment at first use.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs
import httpx

from sequin_orm.codec import decode_json
from sequin_orm.config import Settings, resolve_settings
from sequin_orm.errors import APIError
from sequin_orm.flow import MUTATIONS_PATH
from sequin_orm.http import AsyncHTTPSession, Call, EventHooks, HTTPSession
from sequin_orm.retry import Safety
from sequin_orm.secrets import redact_errors

_T = TypeVar("_T")
_U = TypeVar("_U")

if TYPE_CHECKING:
    import asyncio

    from sequin_orm.querying import MirrorHook

logger = logging.getLogger(__name__)

__all__ = [
    "APICall",
    "AsyncClientBound",
    "AsyncRequestor",
    "ClientBound",
    "HasAsyncRequestor",
    "HasRequestor",
    "Requestor",
    "RequestorBase",
    "default_holder",
    "default_requestor",
    "ignore_answer",
    "install_default",
    "reset_default",
]


@attrs.frozen
class APICall(Generic[_T]):
    """One API request of a manager and how to read its answer: the manager builds it, a
    requestor (sync or async) sends it. ``secrets`` is a body whose secret values are masked
    in any error raised."""

    method: str
    path: str
    read: Callable[[Any], _T]
    json_body: Any = None
    params: Mapping[str, Any] | None = None
    safety: Safety = Safety.READ
    long_poll_ms: int | None = None
    secrets: Any = None

    def then(self, after: Callable[[_T], _U]) -> APICall[_U]:
        """The same request, its answer read further by ``after``."""
        read = self.read
        return APICall(
            self.method,
            self.path,
            lambda payload: after(read(payload)),
            self.json_body,
            self.params,
            self.safety,
            self.long_poll_ms,
            self.secrets,
        )

    def http_call(self) -> Call:
        return Call.of(
            self.method,
            self.path,
            {
                "json_body": self.json_body,
                "params": self.params,
                "safety": self.safety,
                "long_poll_ms": self.long_poll_ms,
            },
        )


def ignore_answer(payload: Any) -> None:
    """The reader of an ``APICall`` whose answer does not matter (a delete)."""


class RequestorBase:
    """Settings, and what the sync and async requestors know about the syncs they write to."""

    def __init__(
        self,
        settings: Settings,
        rate_limits: dict[str, int] | None = None,
        mirror: MirrorHook | None = None,
    ) -> None:
        self.settings = settings
        #: ``rate_limit.max_concurrent_requests`` of the syncs seen (read through a manager).
        self.rate_limits: dict[str, int] = {} if rate_limits is None else rate_limits
        #: The mirror ``Model.objects`` queries and read-your-writes awaits (``Client(mirror=)``).
        self.mirror = mirror

    def concurrency_for(self, sync_ids: Iterable[str]) -> int:
        """How many mutation requests may be in flight for a commit to these syncs: the
        client's ``max_concurrency``, capped by a known sync rate limit (0 = no cap)."""
        caps = [self.rate_limits.get(sync_id, 0) for sync_id in sync_ids]
        return min([self.settings.max_concurrency, *(cap for cap in caps if cap > 0)])

    def note_rate_limit(self, sync_id: str, max_concurrent_requests: int | None) -> None:
        """Remember a sync's concurrent-request limit (from a sync read through the API)."""
        self.rate_limits[sync_id] = max_concurrent_requests or 0


def _log_mutation(content: bytes, label: str | None) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info("mutation %s", label or _describe_content(content))


class Requestor(RequestorBase):
    """Sends requests to the Sequin API with one client's settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        event_hooks: EventHooks | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        mirror: MirrorHook | None = None,
    ) -> None:
        super().__init__(settings, mirror=mirror)
        self.http = HTTPSession(settings, transport=transport, event_hooks=event_hooks)
        self.event_hooks = event_hooks
        #: What an ``AsyncRequestor`` built from this one sends through (``configure()``).
        self.async_transport = async_transport or _async_side(transport)

    @property
    def requestor(self) -> Requestor:
        return self

    def call(self, call: APICall[_T]) -> _T:
        """Send a manager's request (hits the network) and read its answer."""
        with redact_errors(call.secrets):
            payload = decode_json(self.http.perform(call.http_call()), call.method, call.path)
        return call.read(payload)

    def run_mutation(self, body: Any, *, await_timeout_ms: int | None = None) -> Any:
        """``POST /v1/mutations/run`` (hits the network); retried only where safe."""
        safety = Safety.NOT_IDEMPOTENT if body.get("kind") == "create" else Safety.IDEMPOTENT
        if logger.isEnabledFor(logging.INFO):
            logger.info("mutation %s", describe_mutation(body))
        return self.http.request(
            "POST", MUTATIONS_PATH, json_body=body, safety=safety, await_timeout_ms=await_timeout_ms
        )

    def send_mutation_once(
        self, content: bytes, *, await_timeout_ms: int | None = None, label: str | None = None
    ) -> bytes:
        """One attempt at ``POST /v1/mutations/run`` with an encoded body (hits the network);
        returns the 2xx body undecoded. No retry: a commit's flow decides those.

        ``label`` (e.g. ``"create salesforce:contact, 200 records"``) is what the INFO log line
        says; without it the line is derived from ``content`` (decoded only when INFO is on).
        """
        _log_mutation(content, label)
        return self.http.attempt(_mutation_call(content, await_timeout_ms))

    def close(self) -> None:
        """Release the pooled connections."""
        self.http.close()


class AsyncRequestor(RequestorBase):
    """The async twin of ``Requestor``: the same settings over an ``httpx.AsyncClient``."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: EventHooks | None = None,
        rate_limits: dict[str, int] | None = None,
        mirror: MirrorHook | None = None,
    ) -> None:
        super().__init__(settings, rate_limits, mirror)
        self.http = AsyncHTTPSession(settings, transport=transport, event_hooks=event_hooks)

    @property
    def requestor(self) -> AsyncRequestor:
        return self

    async def call(self, call: APICall[_T]) -> _T:
        """Send a manager's request (hits the network) and read its answer."""
        with redact_errors(call.secrets):
            answer = decode_json(await self.http.perform(call.http_call()), call.method, call.path)
        return call.read(answer)

    async def send_mutation_once(
        self, content: bytes, *, await_timeout_ms: int | None = None, label: str | None = None
    ) -> bytes:
        """One attempt at ``POST /v1/mutations/run`` (hits the network); see ``Requestor``."""
        _log_mutation(content, label)
        return await self.http.attempt(_mutation_call(content, await_timeout_ms))

    async def aclose(self) -> None:
        """Release the pooled connections."""
        await self.http.aclose()


def _mutation_call(content: bytes, await_timeout_ms: int | None) -> Call:
    waits = (await_timeout_ms or 0) / 1000
    return Call("POST", MUTATIONS_PATH, content, safety=Safety.NOT_IDEMPOTENT, server_wait=waits)


def _async_side(transport: httpx.BaseTransport | None) -> httpx.AsyncBaseTransport | None:
    """``transport`` when it serves async requests too (``httpx.MockTransport``, the
    emulator's), else None (the network)."""
    return transport if isinstance(transport, httpx.AsyncBaseTransport) else None


def describe_mutation(body: Any) -> str:
    """``create salesforce:contact, 200 records``: kind, collection and record count of a
    mutation body, never its data."""
    if not isinstance(body, Mapping):
        return "(unreadable body)"
    kind, collection = body.get("kind"), body.get("collection_id")
    items = body.get("upstream_ids") if kind == "delete" else body.get("records")
    count = len(items) if isinstance(items, list) else 0
    return f"{kind} {collection}, {count} record{'' if count == 1 else 's'}"


def _describe_content(content: bytes) -> str:
    try:
        return describe_mutation(decode_json(content, "POST", MUTATIONS_PATH))
    except APIError:
        return "(unreadable body)"


class HasRequestor(Protocol):
    """A ``Client`` or a ``Requestor``: what sessions and managers accept as ``client=``."""

    @property
    def requestor(self) -> Requestor: ...


class HasAsyncRequestor(Protocol):
    """An ``AsyncClient`` or an ``AsyncRequestor``: what async sessions accept as ``client=``."""

    @property
    def requestor(self) -> AsyncRequestor: ...


_default: HasRequestor | None = None
_lock = threading.Lock()


def default_holder() -> HasRequestor | None:
    """What ``configure()`` (or a first use) installed as the default, if anything."""
    with _lock:
        return _default


_ANY: Any = object()


def install_default(holder: HasRequestor | None, *, expected: Any = _ANY) -> HasRequestor | None:
    """Make ``holder`` the default, closing the requestor it replaces (unless ``holder``
    shares it). With ``expected``, only if the default is still ``expected``. Returns the
    default in force afterwards."""
    global _default
    with _lock:
        previous = _default
        if expected is not _ANY and previous is not expected:
            return previous
        _default = holder
    if previous is not None and (holder is None or previous.requestor is not holder.requestor):
        previous.requestor.close()
    return holder


def default_requestor() -> Requestor:
    """The default requestor: ``configure()``'s, else one built from the environment."""
    holder = default_holder()
    if holder is None:
        built = Requestor(
            resolve_settings(
                api_token=None,
                base_url=None,
                syncs=None,
                timeout=None,
                max_retries=None,
                batch_size=None,
            )
        )
        holder = install_default(built, expected=None)
        if holder is not built:
            built.close()
        assert holder is not None
    return holder.requestor


def reset_default() -> None:
    """Forget (and close) the default; the next use builds a new one."""
    install_default(None)


#: The default async requestor of each event loop (an ``httpx.AsyncClient``'s connections
#: belong to the loop that opened them), built from the default requestor's settings.
_async_defaults: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[Requestor, AsyncRequestor]
] = weakref.WeakKeyDictionary()


def default_async_requestor() -> AsyncRequestor:
    """The default async requestor of the running event loop: the settings, transport and
    hooks of the default (``configure()``'s) client, over an ``httpx.AsyncClient``."""
    import asyncio  # with the async side only (see drivers.adrive)

    loop = asyncio.get_running_loop()
    sync_side = default_requestor()
    with _lock:
        known = _async_defaults.get(loop)
        if known is not None and known[0] is sync_side:
            return known[1]
        built = async_twin(sync_side)
        _async_defaults[loop] = (sync_side, built)
        return built


def async_twin(requestor: Requestor) -> AsyncRequestor:
    """An async requestor with ``requestor``'s settings, async transport, event hooks and
    mirror."""
    return AsyncRequestor(
        requestor.settings,
        transport=requestor.async_transport,
        event_hooks=requestor.event_hooks,
        rate_limits=requestor.rate_limits,
        mirror=requestor.mirror,
    )


def requestor_of(client: HasRequestor | None) -> Requestor:
    """The requestor of ``client``, else the default one."""
    return client.requestor if client is not None else default_requestor()


def async_requestor_of(client: HasAsyncRequestor | None) -> AsyncRequestor:
    """The async requestor of ``client``, else the default one of the running loop."""
    return client.requestor if client is not None else default_async_requestor()


class ClientBound:
    """Base of managers and consumers: bound to a client, or to the default one (looked up
    at each use, so a later ``configure()`` still applies)."""

    _bound: HasRequestor | None

    def __init__(self, client: HasRequestor | None = None) -> None:
        self._bound = client

    @property
    def requestor(self) -> Requestor:
        """The bound client's requestor, else the default one."""
        return requestor_of(self._bound)


class AsyncClientBound:
    """Base of async managers and consumers: bound to an ``AsyncClient``, or to the default
    async client of the running event loop."""

    _bound: HasAsyncRequestor | None

    def __init__(self, client: HasAsyncRequestor | None = None) -> None:
        self._bound = client

    @property
    def requestor(self) -> AsyncRequestor:
        """The bound client's requestor, else the default one of the running loop."""
        return async_requestor_of(self._bound)
