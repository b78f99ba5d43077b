"""Client settings: keyword arguments first, then environment variables, then defaults.

Reading the environment happens when a ``Client`` is built, never at import.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from sequin_orm.errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.sequin.io"
TOKEN_ENV = "SEQUIN_API_TOKEN"
BASE_URL_ENV = "SEQUIN_BASE_URL"
SYNC_ENV_PREFIX = "SEQUIN_SYNC_"
INSECURE_HTTP_ENV = "SEQUIN_ALLOW_INSECURE_HTTP"
#: ``debug`` or ``info``: log the ``sequin_orm`` logger to stderr (see ``sequin_orm.logs``).
LOG_ENV = "SEQUIN_LOG"
#: Corporate CA bundles: honoured although environment proxies are not (``trust_env=False``).
CA_FILE_ENV = "SSL_CERT_FILE"
CA_DIR_ENV = "SSL_CERT_DIR"
#: How many requests of one commit may be in flight at once.
CONCURRENCY_ENV = "SEQUIN_MAX_CONCURRENCY"
DEFAULT_MAX_CONCURRENCY = 4
_TRUE = frozenset({"1", "true", "yes", "on"})

#: Records per mutation request, per provider (design §3); others use ``DEFAULT_BATCH_SIZE``.
#: Settings, not API facts: no v1 source documents a mutation batch limit; docs/sessions.md
#: ("Where the chunk limits come from") gives the source of each default.
PROVIDER_BATCH_SIZES: Mapping[str, int] = {"salesforce": 200, "airtable": 10}
DEFAULT_BATCH_SIZE = 100

#: Default await_consumers_timeout of the API, in milliseconds.
DEFAULT_AWAIT_TIMEOUT_MS = 30_000


@attrs.frozen
class Timeouts:
    """HTTP timeouts in seconds. Never unbounded."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0


@attrs.frozen
class RetryPolicy:
    """How failed requests are retried (design §3).

    ``max_retries`` retries at most; exponential backoff from ``initial_delay`` capped at
    ``max_delay`` with jitter; a server ``Retry-After`` longer than ``max_retry_after`` is not
    waited for; no retry starts after ``deadline`` seconds from the first attempt.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    deadline: float = 120.0


@attrs.frozen
class Settings:
    """Everything a ``Client`` needs, resolved from kwargs and the environment."""

    api_token: str | None = attrs.field(repr=False)
    base_url: str
    default_syncs: Mapping[str, str]
    timeouts: Timeouts
    retry: RetryPolicy
    batch_size: int | Mapping[str, int] | None
    #: The one proxy requests go through (environment proxies are never used).
    proxy: str | None = attrs.field(default=None, repr=False)
    #: Plain http allowed to a non-loopback host.
    allow_insecure_http: bool = False
    #: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set: the CAs that verify the server.
    ca_file: str | None = None
    ca_dir: str | None = None
    #: Providers whose sync id was given but empty (``SEQUIN_SYNC_SALESFORCE=""``).
    blank_syncs: frozenset[str] = frozenset()
    #: ``SEQUIN_LOG`` (``debug``, ``info`` …): log ``sequin_orm`` to stderr at that level.
    log_level: str | None = None
    #: Requests of one commit in flight at once (only those independent of each other).
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    def batch_size_for(self, provider: str, model_batch_size: int | None = None) -> int:
        """Chunk limit for one provider: client override, then model, then provider default."""
        if isinstance(self.batch_size, int):
            return self.batch_size
        if self.batch_size is not None and provider in self.batch_size:
            return self.batch_size[provider]
        if model_batch_size is not None:
            return model_batch_size
        return PROVIDER_BATCH_SIZES.get(provider, DEFAULT_BATCH_SIZE)

    def require_token(self) -> str:
        if not self.api_token:
            raise ConfigurationError(
                f"No Sequin API token: pass Client(api_token=...) or set {TOKEN_ENV}."
            )
        return self.api_token

    def sync_for(self, provider: str) -> str:
        """The default sync id of a provider, or a ConfigurationError naming what to set."""
        sync_id = self.default_syncs.get(provider)
        if not sync_id and provider in self.blank_syncs:
            raise ConfigurationError(
                f"The sync id for provider {provider!r} is empty: set "
                f"{SYNC_ENV_PREFIX}{provider.upper()} (or Client(syncs={{{provider!r}: ...}})) "
                "to the id of the sync, e.g. from `sequin-orm syncs list`."
            )
        if not sync_id:
            raise ConfigurationError(
                f"No sync id for provider {provider!r}: pass save(sync_id=...), "
                f"Session(sync_id=...), Client(syncs={{{provider!r}: ...}}) "
                f"or set {SYNC_ENV_PREFIX}{provider.upper()}."
            )
        return sync_id


def resolve_settings(
    *,
    api_token: str | None,
    base_url: str | None,
    syncs: Mapping[str, str] | None,
    timeout: float | Timeouts | None,
    max_retries: int | None,
    batch_size: int | Mapping[str, int] | None,
    environ: Mapping[str, str] | None = None,
    proxy: str | None = None,
    allow_insecure_http: bool | None = None,
    max_concurrency: int | None = None,
) -> Settings:
    """Merge keyword arguments with the environment into validated ``Settings``."""
    env = os.environ if environ is None else environ
    insecure = (
        env.get(INSECURE_HTTP_ENV, "").strip().lower() in _TRUE
        if allow_insecure_http is None
        else allow_insecure_http
    )
    url = normalize_base_url(
        base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL, allow_insecure_http=insecure
    )
    given = {
        provider: sync_id.strip() if isinstance(sync_id, str) else sync_id
        for provider, sync_id in {**_syncs_from_env(env), **(syncs or {})}.items()
    }
    return Settings(
        api_token=api_token or env.get(TOKEN_ENV) or None,
        base_url=url,
        default_syncs={k: v for k, v in given.items() if v},
        timeouts=_timeouts(timeout),
        retry=RetryPolicy() if max_retries is None else RetryPolicy(max_retries=max_retries),
        batch_size=_checked_batch_size(batch_size),
        proxy=_checked_proxy(proxy),
        allow_insecure_http=insecure,
        ca_file=env.get(CA_FILE_ENV) or None,
        ca_dir=env.get(CA_DIR_ENV) or None,
        blank_syncs=frozenset(k for k, v in given.items() if not v),
        log_level=env.get(LOG_ENV, "").strip().lower() or None,
        max_concurrency=_concurrency(max_concurrency, env),
    )


def normalize_base_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Validate a base URL: https (or http on loopback, or anywhere with
    ``allow_insecure_http``), no credentials, path or query."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"Invalid Sequin base URL {url!r}: expected https://host[:port]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError("The Sequin base URL must not carry credentials or a query")
    if parts.path not in ("", "/"):
        raise ConfigurationError(
            f"The Sequin base URL must not have a path (got {parts.path!r}); paths start at /v1"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
        raise ConfigurationError(
            f"Refusing to send the API token over plain http to {parts.hostname!r}: "
            "use https (plain http is allowed only for loopback addresses), or, for an "
            f"emulator on another host, set {INSECURE_HTTP_ENV}=1 or pass "
            "Client(allow_insecure_http=True)"
        )
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _syncs_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """``SEQUIN_SYNC_<PROVIDER>`` values, stripped (an empty one is kept, to be named)."""
    return {
        key[len(SYNC_ENV_PREFIX) :].lower(): value.strip()
        for key, value in env.items()
        if key.startswith(SYNC_ENV_PREFIX) and len(key) > len(SYNC_ENV_PREFIX)
    }


def _checked_proxy(proxy: str | None) -> str | None:
    if proxy is None:
        return None
    parts = urlsplit(str(proxy))
    if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise ConfigurationError(
            f"Invalid proxy URL: expected http://host:port (got scheme {parts.scheme!r})"
        )
    return str(proxy)


def _timeouts(timeout: float | Timeouts | None) -> Timeouts:
    if timeout is None:
        return Timeouts()
    if isinstance(timeout, Timeouts):
        return timeout
    if timeout <= 0:
        raise ConfigurationError("timeout must be a positive number of seconds")
    return Timeouts(connect=min(5.0, timeout), read=timeout, write=timeout, pool=timeout)


def _checked_batch_size(
    batch_size: int | Mapping[str, int] | None,
) -> int | Mapping[str, int] | None:
    sizes = [batch_size] if isinstance(batch_size, int) else list((batch_size or {}).values())
    if any(size < 1 for size in sizes):
        raise ConfigurationError("batch_size must be at least 1")
    return batch_size


def _concurrency(given: int | None, env: Mapping[str, str]) -> int:
    """``max_concurrency``: the argument, else ``SEQUIN_MAX_CONCURRENCY``, else 4."""
    if given is None:
        text = env.get(CONCURRENCY_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_CONCURRENCY
        if not text.isdigit():
            raise ConfigurationError(
                f"{CONCURRENCY_ENV}={text!r} is not a whole number; set it to 1 or more"
            )
        given = int(text)
    if isinstance(given, bool) or not isinstance(given, int) or given < 1:
        raise ConfigurationError(
            f"max_concurrency must be a whole number of 1 or more, got {given!r}"
        )
    return given
