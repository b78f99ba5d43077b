"""``Client`` and ``AsyncClient``: the public facades over a requestor, with the managers;
``configure()``, ``get_client()`` and ``get_async_client()``."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

import httpx

from sequin_orm.config import Settings, Timeouts, resolve_settings
from sequin_orm.http import AsyncHTTPSession, EventHooks, HTTPSession
from sequin_orm.requestor import (
    AsyncRequestor,
    ClientBound,
    Requestor,
    RequestorBase,
    default_async_requestor,
    default_holder,
    default_requestor,
    install_default,
    reset_default,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.consumers import AsyncConsumerManager, ConsumerManager
    from sequin_orm.credentials import AsyncCredentialManager, CredentialManager
    from sequin_orm.proxy import AsyncProxy, Proxy
    from sequin_orm.querying import MirrorHook
    from sequin_orm.streams import AsyncStreamManager, StreamManager
    from sequin_orm.syncs import AsyncSyncManager, SyncManager

__all__ = [
    "AsyncClient",
    "Client",
    "ClientBound",
    "ClientOptions",
    "configure",
    "get_async_client",
    "get_client",
    "peek_default_client",
    "reset_default_client",
]


class ClientOptions(TypedDict, total=False):
    """The settings ``Client``, ``AsyncClient`` and ``configure()`` share.

    ``syncs`` maps providers to default sync ids (also read from ``SEQUIN_SYNC_<PROVIDER>``).
    ``max_concurrency`` (default 4, env ``SEQUIN_MAX_CONCURRENCY``) is how many requests of one
    commit may be in flight at once. ``proxy`` is the only proxy used:
    ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` are ignored, so the token never goes to a host
    you did not name (``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured).
    ``allow_insecure_http=True`` (or ``SEQUIN_ALLOW_INSECURE_HTTP=1``) allows plain http to a
    host other than loopback, e.g. an emulator in another container. ``event_hooks`` go to
    httpx as they are: ``{"request": [...], "response": [...]}``. ``mirror`` (a
    ``sequin_orm.mirror.Mirror``) is what ``Model.objects.filter()`` and friends query, and what
    commits await when it asks for read-your-writes.
    """

    syncs: Mapping[str, str] | None
    timeout: float | Timeouts | None
    max_retries: int
    batch_size: int | Mapping[str, int] | None
    max_concurrency: int | None
    proxy: str | None
    allow_insecure_http: bool | None
    event_hooks: EventHooks | None
    mirror: MirrorHook | None


def _settings(api_token: str | None, base_url: str | None, options: ClientOptions) -> Settings:
    return resolve_settings(
        api_token=api_token,
        base_url=base_url,
        syncs=options.get("syncs"),
        timeout=options.get("timeout"),
        max_retries=options.get("max_retries", 2),
        batch_size=options.get("batch_size"),
        proxy=options.get("proxy"),
        allow_insecure_http=options.get("allow_insecure_http"),
        max_concurrency=options.get("max_concurrency"),
    )


_R = TypeVar("_R", bound=RequestorBase)
_F = TypeVar("_F", bound="_Facade[Any]")


class _Facade(Generic[_R]):
    """What ``Client`` and ``AsyncClient`` share: their settings."""

    requestor: _R

    @classmethod
    def _over(cls: type[_F], requestor: Any) -> _F:
        """A facade over an existing requestor (a default one built before any client)."""
        client = cls.__new__(cls)
        client.requestor = requestor
        return client

    @property
    def settings(self) -> Settings:
        return self.requestor.settings

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def default_syncs(self) -> Mapping[str, str]:
        """Default sync id per provider."""
        return self.settings.default_syncs

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"


class Client(_Facade[Requestor]):
    """A connection to the Sequin API.

    ``api_token`` defaults to ``SEQUIN_API_TOKEN``; ``base_url`` to ``SEQUIN_BASE_URL``, then
    ``https://api.sequin.io``. ``transport`` is any ``httpx.BaseTransport`` (tests, the
    emulator); the other settings are ``ClientOptions``. Use it as a context manager, or call
    ``close()``.
    """

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.requestor = Requestor(
            _settings(api_token, base_url, options),
            transport=transport,
            event_hooks=options.get("event_hooks"),
            mirror=options.get("mirror"),
        )

    @property
    def http(self) -> HTTPSession:
        """The HTTP session: pooled connection, auth, retries."""
        return self.requestor.http

    @property
    def syncs(self) -> SyncManager:
        """Syncs (``/v1/syncs``) through this client: ``client.syncs.create(...)``."""
        from sequin_orm.syncs import SyncManager  # downward; late on purpose, issue 12

        return SyncManager(self)

    @property
    def credentials(self) -> CredentialManager:
        """Credentials (``/v1/credentials``) through this client."""
        from sequin_orm.credentials import CredentialManager  # downward; late on purpose, issue 12

        return CredentialManager(self)

    @property
    def consumers(self) -> ConsumerManager:
        """HTTP consumers (``/v1/http-consumers``) through this client."""
        from sequin_orm.consumers import ConsumerManager  # downward; late on purpose, issue 12

        return ConsumerManager(self)

    @property
    def streams(self) -> StreamManager:
        """Streams (``/v1/streams``) through this client."""
        from sequin_orm.streams import StreamManager  # downward; late on purpose, issue 12

        return StreamManager(self)

    def proxy(self, sync_id: str) -> Proxy:
        """The Proxy API of one sync through this client (no request until ``request``)."""
        from sequin_orm.proxy import Proxy  # downward; late like the managers above

        return Proxy(sync_id, client=self)

    def run_mutation(self, body: Mapping[str, Any], *, await_timeout_ms: int | None = None) -> Any:
        """``POST /v1/mutations/run`` (hits the network); retried only where safe."""
        return self.requestor.run_mutation(body, await_timeout_ms=await_timeout_ms)

    def close(self) -> None:
        """Release the pooled connections."""
        self.requestor.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Facade[AsyncRequestor]):
    """The async twin of ``Client``: the same settings over an ``httpx.AsyncClient``.

    ``transport`` is any ``httpx.AsyncBaseTransport`` (``httpx.MockTransport`` and the
    emulator's ``transport()`` serve both kinds). Its managers (``client.syncs`` …) have the
    same methods as ``Client``'s, awaitable. Use ``async with``, or ``await aclose()``.
    """

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.requestor = AsyncRequestor(
            _settings(api_token, base_url, options),
            transport=transport,
            event_hooks=options.get("event_hooks"),
            mirror=options.get("mirror"),
        )

    @property
    def http(self) -> AsyncHTTPSession:
        """The HTTP session: pooled connection, auth, retries."""
        return self.requestor.http

    @property
    def syncs(self) -> AsyncSyncManager:
        """Syncs (``/v1/syncs``) through this client: ``await client.syncs.create(...)``."""
        from sequin_orm.syncs import AsyncSyncManager  # downward; late on purpose, issue 12

        return AsyncSyncManager(self)

    @property
    def credentials(self) -> AsyncCredentialManager:
        """Credentials (``/v1/credentials``) through this client."""
        from sequin_orm.credentials import AsyncCredentialManager  # downward; late on purpose

        return AsyncCredentialManager(self)

    @property
    def consumers(self) -> AsyncConsumerManager:
        """HTTP consumers (``/v1/http-consumers``) through this client."""
        from sequin_orm.consumers import AsyncConsumerManager  # downward; late on purpose

        return AsyncConsumerManager(self)

    @property
    def streams(self) -> AsyncStreamManager:
        """Streams (``/v1/streams``) through this client."""
        from sequin_orm.streams import AsyncStreamManager  # downward; late on purpose

        return AsyncStreamManager(self)

    def proxy(self, sync_id: str) -> AsyncProxy:
        """The Proxy API of one sync through this client (no request until ``request``)."""
        from sequin_orm.proxy import AsyncProxy  # downward; late like the managers above

        return AsyncProxy(sync_id, client=self)

    async def aclose(self) -> None:
        """Release the pooled connections."""
        await self.requestor.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def configure(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    async_transport: httpx.AsyncBaseTransport | None = None,
    **options: Unpack[ClientOptions],
) -> Client:
    """Set the process-wide default client that models and sessions use; returns it.

    ``get_async_client()`` (what ``asave()`` and ``AsyncSession`` use by default) has the same
    settings; it sends through ``async_transport``, else through ``transport`` when that serves
    async requests too (``httpx.MockTransport``, the emulator's), else over the network.
    """
    client = Client(api_token, base_url, transport=transport, **options)
    if async_transport is not None:
        client.requestor.async_transport = async_transport
    install_default(client)
    return client


def get_client() -> Client:
    """The default client: the one ``configure()`` set, else one built from the environment."""
    while True:
        holder = default_holder()
        if isinstance(holder, Client):
            return holder
        requestor = default_requestor()  # built from the environment when none is installed
        facade = Client._over(requestor)
        if install_default(facade, expected=requestor) is facade:
            return facade  # else configure() ran meanwhile: take its client


def get_async_client() -> AsyncClient:
    """The default async client of the running event loop: ``configure()``'s settings over an
    ``httpx.AsyncClient`` (one per event loop: its connections belong to the loop)."""
    return AsyncClient._over(default_async_requestor())


def peek_default_client() -> Client | None:
    """The default client if one is set, without building one."""
    holder = default_holder()
    return holder if isinstance(holder, Client) else None


def reset_default_client() -> None:
    """Forget (and close) the default client; the next ``get_client()`` builds a new one."""
    reset_default()
