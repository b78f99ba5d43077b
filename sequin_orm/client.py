"""``Client``: the public facade over a requestor, with the managers; ``configure()`` and
``get_client()``."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from sequin_orm.config import Settings, Timeouts, resolve_settings
from sequin_orm.http import EventHooks, HTTPSession
from sequin_orm.requestor import (
    ClientBound,
    Requestor,
    default_holder,
    default_requestor,
    install_default,
    reset_default,
)

if TYPE_CHECKING:
    from sequin_orm.consumers import ConsumerManager
    from sequin_orm.credentials import CredentialManager
    from sequin_orm.querying import MirrorHook
    from sequin_orm.streams import StreamManager
    from sequin_orm.syncs import SyncManager

__all__ = [
    "Client",
    "ClientBound",
    "configure",
    "get_client",
    "peek_default_client",
    "reset_default_client",
]


class Client:
    """A connection to the Sequin API.

    ``api_token`` defaults to ``SEQUIN_API_TOKEN``; ``base_url`` to ``SEQUIN_BASE_URL``, then
    ``https://api.sequin.io``; ``syncs`` maps providers to default sync ids (also read from
    ``SEQUIN_SYNC_<PROVIDER>``). ``transport`` is any ``httpx.BaseTransport`` (tests, the
    emulator). Use it as a context manager, or call ``close()``.

    ``proxy`` is the only proxy used: ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` are ignored,
    so the token never goes to a host you did not name (``SSL_CERT_FILE``/``SSL_CERT_DIR`` are
    honoured). ``allow_insecure_http=True`` (or ``SEQUIN_ALLOW_INSECURE_HTTP=1``) allows plain
    http to a host other than loopback, e.g. an emulator in another container.
    ``event_hooks`` go to httpx as they are: ``{"request": [...], "response": [...]}``.
    ``mirror`` (a ``sequin_orm.mirror.Mirror``) is what ``Model.objects.filter()`` and friends
    query, and what saves await when it asks for read-your-writes.
    """

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        *,
        syncs: Mapping[str, str] | None = None,
        timeout: float | Timeouts | None = None,
        max_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        batch_size: int | Mapping[str, int] | None = None,
        proxy: str | None = None,
        allow_insecure_http: bool | None = None,
        event_hooks: EventHooks | None = None,
        mirror: MirrorHook | None = None,
    ) -> None:
        settings = resolve_settings(
            api_token=api_token,
            base_url=base_url,
            syncs=syncs,
            timeout=timeout,
            max_retries=max_retries,
            batch_size=batch_size,
            proxy=proxy,
            allow_insecure_http=allow_insecure_http,
        )
        self.requestor = Requestor(
            settings, transport=transport, event_hooks=event_hooks, mirror=mirror
        )

    @classmethod
    def _over(cls, requestor: Requestor) -> Client:
        """A facade over an existing requestor (the default one built before any client)."""
        client = cls.__new__(cls)
        client.requestor = requestor
        return client

    @property
    def settings(self) -> Settings:
        return self.requestor.settings

    @property
    def http(self) -> HTTPSession:
        """The HTTP session: pooled connection, auth, retries."""
        return self.requestor.http

    def __repr__(self) -> str:
        return f"Client(base_url={self.settings.base_url!r})"

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def default_syncs(self) -> Mapping[str, str]:
        """Default sync id per provider."""
        return self.settings.default_syncs

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


def configure(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    syncs: Mapping[str, str] | None = None,
    timeout: float | Timeouts | None = None,
    max_retries: int = 2,
    transport: httpx.BaseTransport | None = None,
    batch_size: int | Mapping[str, int] | None = None,
    proxy: str | None = None,
    allow_insecure_http: bool | None = None,
    event_hooks: EventHooks | None = None,
    mirror: MirrorHook | None = None,
) -> Client:
    """Set the process-wide default client that models and sessions use; returns it.

    ``mirror``: the ``sequin_orm.mirror.Mirror`` that ``Model.objects.filter()`` queries."""
    client = Client(
        api_token,
        base_url,
        syncs=syncs,
        timeout=timeout,
        max_retries=max_retries,
        transport=transport,
        batch_size=batch_size,
        proxy=proxy,
        allow_insecure_http=allow_insecure_http,
        event_hooks=event_hooks,
        mirror=mirror,
    )
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


def peek_default_client() -> Client | None:
    """The default client if one is set, without building one."""
    holder = default_holder()
    return holder if isinstance(holder, Client) else None


def reset_default_client() -> None:
    """Forget (and close) the default client; the next ``get_client()`` builds a new one."""
    reset_default()
