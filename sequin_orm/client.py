"""``Client``: settings plus one pooled HTTP connection; ``configure()`` and ``get_client()``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from sequin_orm.config import Settings, Timeouts, resolve_settings
from sequin_orm.flow import MUTATIONS_PATH
from sequin_orm.http import HTTPSession
from sequin_orm.retry import Safety

if TYPE_CHECKING:
    from sequin_orm.consumers import ConsumerManager
    from sequin_orm.credentials import CredentialManager
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
    ) -> None:
        self.settings: Settings = resolve_settings(
            api_token=api_token,
            base_url=base_url,
            syncs=syncs,
            timeout=timeout,
            max_retries=max_retries,
            batch_size=batch_size,
        )
        self.http = HTTPSession(self.settings, transport=transport)

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
        from sequin_orm.syncs import SyncManager

        return SyncManager(self)

    @property
    def credentials(self) -> CredentialManager:
        """Credentials (``/v1/credentials``) through this client."""
        from sequin_orm.credentials import CredentialManager

        return CredentialManager(self)

    @property
    def consumers(self) -> ConsumerManager:
        """HTTP consumers (``/v1/http-consumers``) through this client."""
        from sequin_orm.consumers import ConsumerManager

        return ConsumerManager(self)

    @property
    def streams(self) -> StreamManager:
        """Streams (``/v1/streams``) through this client."""
        from sequin_orm.streams import StreamManager

        return StreamManager(self)

    def run_mutation(self, body: Mapping[str, Any], *, await_timeout_ms: int | None = None) -> Any:
        """``POST /v1/mutations/run`` (hits the network); retried only where safe."""
        safety = Safety.NOT_IDEMPOTENT if body.get("kind") == "create" else Safety.IDEMPOTENT
        return self.http.request(
            "POST", MUTATIONS_PATH, json_body=body, safety=safety, await_timeout_ms=await_timeout_ms
        )

    def send_mutation_once(self, content: bytes, *, await_timeout_ms: int | None = None) -> bytes:
        """One attempt at ``POST /v1/mutations/run`` with an encoded body (hits the network);
        returns the 2xx body undecoded. No retry: a commit's flow decides those."""
        return self.http.send_once(
            "POST", MUTATIONS_PATH, content=content, await_timeout_ms=await_timeout_ms
        )

    def close(self) -> None:
        """Release the pooled connections."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ClientBound:
    """Base of managers and consumers: bound to a client, or to the default client.

    The default client is looked up at each use, so a later ``configure()`` still applies.
    """

    _bound: Client | None

    def __init__(self, client: Client | None = None) -> None:
        self._bound = client

    @property
    def client(self) -> Client:
        """The bound client, else the default one."""
        return self._bound if self._bound is not None else get_client()


_default_client: Client | None = None
_default_lock = threading.Lock()


def configure(
    api_token: str | None = None,
    base_url: str | None = None,
    *,
    syncs: Mapping[str, str] | None = None,
    timeout: float | Timeouts | None = None,
    max_retries: int = 2,
    transport: httpx.BaseTransport | None = None,
    batch_size: int | Mapping[str, int] | None = None,
) -> Client:
    """Set the process-wide default client that models and sessions use; returns it."""
    global _default_client
    client = Client(
        api_token,
        base_url,
        syncs=syncs,
        timeout=timeout,
        max_retries=max_retries,
        transport=transport,
        batch_size=batch_size,
    )
    with _default_lock:
        previous, _default_client = _default_client, client
    if previous is not None:
        previous.close()
    return client


def get_client() -> Client:
    """The default client: the one ``configure()`` set, else one built from the environment."""
    global _default_client
    with _default_lock:
        if _default_client is None:
            _default_client = Client()
        return _default_client


def peek_default_client() -> Client | None:
    """The default client if one is set, without building one."""
    with _default_lock:
        return _default_client


def reset_default_client() -> None:
    """Forget (and close) the default client; the next ``get_client()`` builds a new one."""
    global _default_client
    with _default_lock:
        previous, _default_client = _default_client, None
    if previous is not None:
        previous.close()
