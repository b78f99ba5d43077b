"""The one place that does HTTP: a pooled ``httpx.Client`` (or ``httpx.AsyncClient``), auth,
retries, deadlines, error mapping.

``attempt()`` is one attempt at a ``Call`` (auth, deadline, error mapping); ``perform()``
repeats it as design §3 allows. Everything but those two loops is shared by ``HTTPSession``
and ``AsyncHTTPSession``.
"""

from __future__ import annotations

import inspect
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import unquote

import attrs
import httpx

from sequin_orm import __version__  # the package root loads nothing else (lazy names)
from sequin_orm.codec import decode_json, encode_json, error_body, unreadable
from sequin_orm.config import BASE_URL_ENV, Settings, is_loopback
from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigurationError,
    ModelError,
    status_error,
)
from sequin_orm.retry import Safety, parse_retry_after, retry_delay

if TYPE_CHECKING:
    from typing_extensions import Unpack

logger = logging.getLogger("sequin_orm")
# a library logs nowhere unless the application says so (or SEQUIN_LOG does)
logger.addHandler(logging.NullHandler())
_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}

USER_AGENT = f"sequin-orm/{__version__}"
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

#: httpx's ``event_hooks``: ``{"request": [...], "response": [...]}``.
EventHooks = Mapping[str, Sequence[Callable[..., Any]]]


def log_to_stderr(level: str) -> None:
    """Log the ``sequin_orm`` logger to stderr at ``level`` (``debug``, ``info``, ``warning``);
    what ``SEQUIN_LOG`` does. Idempotent: one handler, whose level the last call sets."""
    number = _LOG_LEVELS.get(level.strip().lower())
    if number is None:
        import warnings

        warnings.warn(
            f"SEQUIN_LOG={level!r} is not one of {', '.join(_LOG_LEVELS)}; not logging",
            stacklevel=2,
        )
        return
    handler = next((h for h in logger.handlers if getattr(h, "_sequin_log", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._sequin_log = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    handler.setLevel(number)
    if logger.level == logging.NOTSET or logger.level > number:
        logger.setLevel(number)


class _BearerAuth(httpx.Auth):
    """Adds the token only to requests for the configured origin (a backstop, not a router)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._origin = httpx.URL(settings.base_url)

    def auth_flow(self, request: httpx.Request) -> Any:
        url = request.url
        if (url.scheme, url.host, url.port) != (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        ):
            raise ConfigurationError(
                f"Refusing to send the API token to {url.scheme}://{url.host}: "
                f"only {self._settings.base_url} is configured"
            )
        request.headers["Authorization"] = f"Bearer {self._settings.require_token()}"
        yield request


class CallOptions(TypedDict, total=False):
    """What a request sends besides its method and path (``HTTPSession.request`` and friends).

    ``await_timeout_ms`` is set when the request awaits consumers, ``long_poll_ms`` when the
    server may hold the answer back (consumer ``next``): each attempt's deadline grows by it
    so the client never gives up before the server does. ``on_written`` is called once the
    request is written (through httpcore's ``trace`` extension).
    """

    content: bytes | None
    json_body: Any
    params: Mapping[str, Any] | None
    safety: Safety
    await_timeout_ms: int | None
    long_poll_ms: int | None
    on_written: Callable[[], None] | None


@attrs.frozen
class Call:
    """One request to make, however many attempts it takes."""

    method: str
    path: str
    content: bytes | None = None
    params: Mapping[str, Any] | None = None
    safety: Safety = Safety.READ
    server_wait: float = 0.0  # seconds the server may take on purpose (awaiting, long poll)
    on_written: Callable[[], None] | None = None

    @classmethod
    def of(cls, method: str, path: str, options: CallOptions) -> Call:
        content = options.get("content")
        if "json_body" in options and options["json_body"] is not None:
            content = encode_json(options["json_body"])
        waits = (options.get("await_timeout_ms") or 0) + (options.get("long_poll_ms") or 0)
        return cls(
            method,
            path,
            content,
            options.get("params"),
            options.get("safety", Safety.READ),
            waits / 1000,
            options.get("on_written"),
        )


class _HTTPBase:
    """What the sync and async sessions share: settings, building a request, what an answer
    or a failure means, when to retry. The I/O is in the two subclasses."""

    def __init__(self, settings: Settings, *, jitter: Callable[[], float]) -> None:
        self.settings = settings
        self.jitter = jitter
        if settings.log_level:
            log_to_stderr(settings.log_level)
        t = settings.timeouts
        self._timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)

    def _client_options(self, event_hooks: EventHooks | None) -> dict[str, Any]:
        """The keyword arguments of ``httpx.Client`` / ``httpx.AsyncClient``."""
        return {
            "base_url": self.settings.base_url,
            "auth": _BearerAuth(self.settings),
            "timeout": self._timeout,
            "follow_redirects": False,
            "headers": {"User-Agent": USER_AGENT},
            # HTTP_PROXY & co. are ignored: the token goes only to the host the user named
            "trust_env": False,
            "proxy": self.settings.proxy,
            "verify": _verify(self.settings),
            "event_hooks": {k: list(v) for k, v in (event_hooks or {}).items()},
            # as many kept alive as allowed: httpcore 1.0 closes an idle connection whenever the
            # pool holds more than max_keepalive_connections in all (not only idle ones), so a
            # lower value reconnects on every burst past it
            "limits": httpx.Limits(max_connections=32, max_keepalive_connections=32),
        }

    def _build(self, client: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
        """The request of one attempt, once the token and the path are checked."""
        self.settings.require_token()
        path = call.path
        if not path.startswith("/"):
            raise ConfigurationError(f"API paths are relative to the base URL, got {path!r}")
        if any(unquote(part) in (".", "..") for part in path.partition("?")[0].split("/")):
            raise ModelError(f"Refusing a path with a '.' or '..' segment: {path!r}")
        on_written = call.on_written
        return client.build_request(
            call.method,
            path,
            content=call.content,
            params=call.params,
            headers=_JSON_HEADERS if call.content is not None else None,
            timeout=self._timeout_for(call.server_wait),
            extensions=None if on_written is None else {"trace": _tracer(on_written)},
        )

    def _timeout_for(self, server_wait: float) -> httpx.Timeout:
        """httpx's timeouts, the read one grown by ``server_wait`` seconds."""
        if not server_wait:
            return self._timeout
        t = self.settings.timeouts
        read = t.read + server_wait
        return httpx.Timeout(connect=t.connect, read=read, write=t.write, pool=t.pool)

    def _deadline(self, call: Call, started: float) -> float:
        return started + self.settings.timeouts.read + call.server_wait

    def _connection_error(self, exc: httpx.TransportError, call: Call) -> APIConnectionError:
        return _connection_error(exc, call.method, call.path, self.settings)

    def _answer(
        self, call: Call, response: httpx.Response, raw: bytes | None, started: float
    ) -> bytes:
        """The 2xx body of a response whose raw bytes were read as ``raw`` (None: httpx
        already read and decoded them); raises the ``APIError`` of any other status."""
        body = response.content if raw is None else _decoded(response, raw, call)
        logger.debug(
            "%s %s -> %d in %.1f ms",
            call.method,
            call.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if not response.is_success:
            raise _status_error(response, body, call.method, call.path)
        return body

    def _retry_delay(self, error: APIError, call: Call, retries: int, started: float) -> float:
        """Seconds to wait before attempt ``retries + 1`` of ``call``; re-raises ``error`` when
        design §3 allows no retry."""
        delay = retry_delay(
            error,
            call.safety,
            policy=self.settings.retry,
            retries_done=retries,
            elapsed=time.monotonic() - started,
            jitter=self.jitter(),
        )
        if delay is None:
            raise error
        logger.info(
            "retrying %s %s in %.2fs after %s", call.method, call.path, delay, _reason(error)
        )
        return delay


class HTTPSession(_HTTPBase):
    """Sends requests to the Sequin API with retries, over a pooled ``httpx.Client``.

    ``sleep`` and ``jitter`` are injectable so tests of retries do not wait. ``event_hooks``
    go to httpx as they are (tracing, metrics); a hook sees the request with its
    ``Authorization`` header, so keep hooks from logging headers.

    Environment proxies (``HTTP_PROXY`` …) are never used: only ``settings.proxy``. Since httpx
    then reads no environment at all, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured here.

    ``send_once()`` is one attempt (auth, deadline, error mapping); ``send()`` repeats it as
    design §3 allows; ``request()`` adds the JSON codec.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        event_hooks: EventHooks | None = None,
    ) -> None:
        super().__init__(settings, jitter=jitter)
        self.sleep = sleep
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise ConfigurationError(
                f"{type(transport).__name__} is an async transport: use it with "
                "sequin_orm.AsyncClient(transport=...) or configure(async_transport=...)"
            )
        self._client = httpx.Client(transport=transport, **self._client_options(event_hooks))

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **options: Unpack[CallOptions]) -> Any:
        """Send a request (hits the network), retrying as design §3 allows; decoded JSON."""
        return decode_json(self.perform(Call.of(method, path, options)), method, path)

    def send(self, method: str, path: str, **options: Unpack[CallOptions]) -> bytes:
        """``send_once()`` repeated as design §3 allows; the 2xx body undecoded."""
        return self.perform(Call.of(method, path, options))

    def send_once(self, method: str, path: str, **options: Unpack[CallOptions]) -> bytes:
        """One attempt, never retried (hits the network); the 2xx body undecoded.

        The attempt ends by a deadline: the read timeout plus the server's wait. Raises an
        ``APIError`` for every failure: a status error, a connection error,
        ``APITimeoutError``, or ``APIResponseValidationError`` for a 2xx body that cannot be
        decoded. Transports without httpcore's ``trace`` extension never call ``on_written``.
        """
        return self.attempt(Call.of(method, path, options))

    def perform(self, call: Call) -> bytes:
        """Attempts at ``call`` until one succeeds or no retry is allowed (hits the network)."""
        started = time.monotonic()
        retries = 0
        while True:
            try:
                return self.attempt(call)
            except APIError as error:
                self.sleep(self._retry_delay(error, call, retries, started))
                retries += 1

    def attempt(self, call: Call) -> bytes:
        """One attempt at ``call`` (hits the network); see ``send_once()``."""
        request = self._build(self._client, call)
        started = time.monotonic()
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._connection_error(exc, call) from None
        try:
            if response.is_stream_consumed:  # a transport that built the response from bytes
                return self._answer(call, response, None, started)
            deadline = self._deadline(call, started)
            chunks = []
            try:
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    _check_deadline(response, deadline, call)
            except httpx.TransportError as exc:
                raise self._connection_error(exc, call) from None
        finally:
            response.close()
        return self._answer(call, response, b"".join(chunks), started)


class AsyncHTTPSession(_HTTPBase):
    """The async twin of ``HTTPSession``, over a pooled ``httpx.AsyncClient``: the same
    requests, retries, deadlines and errors, with ``await``."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        jitter: Callable[[], float] = random.random,
        event_hooks: EventHooks | None = None,
    ) -> None:
        super().__init__(settings, jitter=jitter)
        self.sleep = sleep or _asyncio_sleep
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                f"{type(transport).__name__} serves sync clients only: pass an "
                "httpx.AsyncBaseTransport to AsyncClient (the emulator's transport() serves both)"
            )
        hooks = {kind: [_awaitable(h) for h in hs] for kind, hs in (event_hooks or {}).items()}
        self._client = httpx.AsyncClient(transport=transport, **self._client_options(hooks))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, **options: Unpack[CallOptions]) -> Any:
        """Send a request (hits the network), retrying as design §3 allows; decoded JSON."""
        return decode_json(await self.perform(Call.of(method, path, options)), method, path)

    async def perform(self, call: Call) -> bytes:
        """Attempts at ``call`` until one succeeds or no retry is allowed (hits the network)."""
        started = time.monotonic()
        retries = 0
        while True:
            try:
                return await self.attempt(call)
            except APIError as error:
                await self.sleep(self._retry_delay(error, call, retries, started))
                retries += 1

    async def attempt(self, call: Call) -> bytes:
        """One attempt at ``call`` (hits the network); see ``HTTPSession.send_once()``."""
        request = self._build(self._client, call)
        started = time.monotonic()
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._connection_error(exc, call) from None
        try:
            if response.is_stream_consumed:
                return self._answer(call, response, None, started)
            deadline = self._deadline(call, started)
            chunks = []
            try:
                async for chunk in response.aiter_raw():
                    chunks.append(chunk)
                    _check_deadline(response, deadline, call)
            except httpx.TransportError as exc:
                raise self._connection_error(exc, call) from None
        finally:
            await response.aclose()
        return self._answer(call, response, b"".join(chunks), started)


async def _asyncio_sleep(seconds: float) -> None:
    # asyncio is imported when an async client first waits, not with this module: a program
    # that never uses the async side does not pay for loading it (about 11 ms)
    import asyncio

    await asyncio.sleep(seconds)


def _awaitable(hook: Callable[..., Any]) -> Callable[..., Awaitable[None]]:
    """An event hook ``httpx.AsyncClient`` can await, from a sync or an async one (the
    default async client takes ``configure()``'s hooks, written for either)."""

    async def call(*args: Any) -> None:
        result = hook(*args)
        if inspect.isawaitable(result):
            await result

    return call


def _check_deadline(response: httpx.Response, deadline: float, call: Call) -> None:
    """End the attempt once ``deadline`` (a ``time.monotonic()`` value) has passed.

    httpx's read timeout bounds each socket read, not the whole body: a server sending a byte
    at a time would hold a request for ever. Checking the clock after every chunk ends the
    attempt at most one read timeout past the deadline, with no thread. The raw chunks are
    checked, not decoded ones: a gzip decoder may swallow many chunks before it yields one.

    The response headers are bounded by the read timeout only. A watchdog that closes the
    socket could end them too, but httpx hands out the socket before the headers only for a
    new connection (trace extension), never for a reused one; half a bound is not worth a
    thread per attempt.
    """
    if time.monotonic() > deadline and not _complete(response):
        raise APITimeoutError(
            "Timed out reading the response",
            method=call.method,
            path=call.path,
            request_sent=True,
        )


def _decoded(response: httpx.Response, raw: bytes, call: Call) -> bytes:
    """The body as read (``raw``), decoded by its ``Content-Encoding`` (gzip …).

    A body whose encoding cannot be decoded is ``APIResponseValidationError`` for a 2xx (the
    request may have been applied) and an empty body for any other status.
    """
    encoding = response.headers.get("Content-Encoding")
    if not encoding:
        return raw
    try:  # a Response built from bytes decodes them (httpx's decoders are private)
        return httpx.Response(200, headers={"Content-Encoding": encoding}, content=raw).content
    except httpx.DecodingError:
        if response.is_success:
            raise unreadable(call.method, call.path, f"its {encoding} encoding is broken") from None
        return b""


def _complete(response: httpx.Response) -> bool:
    """Whether every byte its ``Content-Length`` announced has arrived (a late but whole
    answer is used rather than thrown away)."""
    length = response.headers.get("Content-Length", "")
    return length.isdigit() and response.num_bytes_downloaded >= int(length)


def _tracer(on_written: Callable[[], None]) -> Callable[[str, dict[str, Any]], None]:
    """An httpcore ``trace`` callback calling ``on_written`` once the request body is sent."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            on_written()

    return trace


def _reason(error: APIError) -> str:
    """Why a request is retried, without the server's message (it may echo request data)."""
    status = getattr(error, "status_code", None)
    return f"HTTP {status}" if status is not None else type(error).__name__


def _status_error(response: httpx.Response, body: bytes, method: str, path: str) -> APIError:
    """The exception for an error status; ``body`` is the raw error body."""
    return status_error(
        response.status_code,
        error_body(body),
        method=method,
        path=path,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _connection_error(
    exc: httpx.TransportError, method: str, path: str, settings: Settings
) -> APIConnectionError:
    """The error for a transport failure: names the host, the cause and what to check (never
    the token: the cause is the OS's or httpx's text, which holds no header)."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    host = settings.base_url
    if isinstance(exc, httpx.TimeoutException):
        what = f"connecting to {host}" if never_sent else f"waiting for {host} to answer"
        return APITimeoutError(
            f"Timed out {what}", method=method, path=path, request_sent=not never_sent
        )
    if never_sent:
        message = f"Cannot connect to {host}: {_cause(exc)}. {_hint(settings)}"
    else:
        message = f"Connection to {host} lost before a response: {_cause(exc)}"
    return APIConnectionError(message, method=method, path=path, request_sent=not never_sent)


def _cause(exc: BaseException) -> str:
    """The root cause in words (``Connection refused``), else the exception's name."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = current.__cause__ or current.__context__
    text = str(exc).strip()
    if text.startswith("[Errno") and "] " in text:
        text = text.split("] ", 1)[1]
    return text[:200] or type(exc).__name__


def _hint(settings: Settings) -> str:
    """What to check when nothing answers at the base URL."""
    proxy = " and the proxy" if settings.proxy else ""
    where = f"{BASE_URL_ENV}={settings.base_url}"
    host = httpx.URL(settings.base_url).host
    if is_loopback(host) or settings.allow_insecure_http:
        return f"Is the emulator running (sequin-orm emulator)? {where}{proxy}"
    return f"Check the network{proxy} and {where}"


def _verify(settings: Settings) -> ssl.SSLContext | bool:
    """``SSL_CERT_FILE``/``SSL_CERT_DIR`` as httpx itself would read them with ``trust_env``
    (they replace the bundled CAs); else httpx's default (certifi)."""
    if not settings.ca_file and not settings.ca_dir:
        return True
    try:
        return ssl.create_default_context(cafile=settings.ca_file, capath=settings.ca_dir)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"Cannot load the CA certificates of SSL_CERT_FILE/SSL_CERT_DIR: {error}"
        ) from None
