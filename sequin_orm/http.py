"""The one place that does HTTP: a pooled ``httpx.Client``, auth, retries, error mapping.

``send_once()`` is one attempt (auth, deadline, error mapping); ``send()`` repeats it as
design §3 allows; ``request()`` adds the JSON codec (``encode_json`` / ``decode_json``).
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

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


class HTTPSession:
    """Sends JSON requests to the Sequin API with retries; returns decoded JSON.

    ``sleep`` and ``random`` are injectable so tests of retries do not wait. ``event_hooks``
    go to httpx as they are (tracing, metrics); a hook sees the request with its
    ``Authorization`` header, so keep hooks from logging headers.

    Environment proxies (``HTTP_PROXY`` …) are never used: only ``settings.proxy``. Since httpx
    then reads no environment at all, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured here.
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
        self.settings = settings
        self.sleep = sleep
        self.jitter = jitter
        if settings.log_level:
            log_to_stderr(settings.log_level)
        t = settings.timeouts
        self._timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        self._client = httpx.Client(
            base_url=settings.base_url,
            transport=transport,
            auth=_BearerAuth(settings),
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            # HTTP_PROXY & co. are ignored: the token goes only to the host the user named
            trust_env=False,
            proxy=settings.proxy,
            verify=_verify(settings),
            event_hooks={k: list(v) for k, v in (event_hooks or {}).items()},
            # as many kept alive as allowed: httpcore 1.0 closes an idle connection whenever the
            # pool holds more than max_keepalive_connections in all (not only idle ones), so a
            # lower value reconnects on every burst past it
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        safety: Safety = Safety.READ,
        await_timeout_ms: int | None = None,
        long_poll_ms: int | None = None,
    ) -> Any:
        """Send a request (hits the network), retrying as design §3 allows.

        ``await_timeout_ms`` is set when the request awaits consumers, ``long_poll_ms`` when the
        server may hold the answer back (consumer ``next``): each attempt's deadline grows by
        it so the client never gives up before the server does.
        """
        content = None if json_body is None else encode_json(json_body)
        answer = self.send(
            method,
            path,
            content=content,
            params=params,
            safety=safety,
            await_timeout_ms=await_timeout_ms,
            long_poll_ms=long_poll_ms,
        )
        return decode_json(answer, method, path)

    def send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        safety: Safety = Safety.READ,
        await_timeout_ms: int | None = None,
        long_poll_ms: int | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> bytes:
        """``send_once()`` repeated as design §3 allows for ``safety``; the 2xx body undecoded."""
        started = time.monotonic()
        retries = 0
        while True:
            try:
                return self.send_once(
                    method,
                    path,
                    content=content,
                    params=params,
                    await_timeout_ms=await_timeout_ms,
                    long_poll_ms=long_poll_ms,
                    on_written=on_written,
                )
            except APIError as error:
                delay = retry_delay(
                    error,
                    safety,
                    policy=self.settings.retry,
                    retries_done=retries,
                    elapsed=time.monotonic() - started,
                    jitter=self.jitter(),
                )
                if delay is None:
                    raise
                retries += 1
                logger.info("retrying %s %s in %.2fs after %s", method, path, delay, _reason(error))
                self.sleep(delay)

    def send_once(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None,
        params: Mapping[str, Any] | None = None,
        await_timeout_ms: int | None = None,
        long_poll_ms: int | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> bytes:
        """One attempt, never retried (hits the network); returns the 2xx body undecoded.

        The attempt ends by a deadline: the read timeout plus ``await_timeout_ms`` and
        ``long_poll_ms``. Raises an ``APIError`` for every failure: a status error, a
        connection error, ``APITimeoutError``, or ``APIResponseValidationError`` for a 2xx
        body that cannot be decoded. ``on_written`` is called once the request is written
        (through httpcore's ``trace`` extension; transports without it never call it).
        """
        server_wait = ((await_timeout_ms or 0) + (long_poll_ms or 0)) / 1000
        request = self._build(method, path, content, params, server_wait, on_written)
        started = time.monotonic()
        response = self._open(request, method, path)
        try:
            deadline = started + self.settings.timeouts.read + server_wait
            body = _read_body(response, deadline, method, path, self.settings)
        finally:
            response.close()
        logger.debug(
            "%s %s -> %d in %.1f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if not response.is_success:
            raise _status_error(response, body, method, path)
        return body

    def _build(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Mapping[str, Any] | None,
        server_wait: float,
        on_written: Callable[[], None] | None,
    ) -> httpx.Request:
        """The request of one attempt, once the token and the path are checked."""
        self.settings.require_token()
        if not path.startswith("/"):
            raise ConfigurationError(f"API paths are relative to the base URL, got {path!r}")
        if any(unquote(part) in (".", "..") for part in path.partition("?")[0].split("/")):
            raise ModelError(f"Refusing a path with a '.' or '..' segment: {path!r}")
        return self._client.build_request(
            method,
            path,
            content=content,
            params=params,
            headers=_JSON_HEADERS if content is not None else None,
            timeout=self._timeout_for(server_wait),
            extensions=None if on_written is None else {"trace": _tracer(on_written)},
        )

    def _timeout_for(self, server_wait: float) -> httpx.Timeout:
        """httpx's timeouts, the read one grown by ``server_wait`` seconds."""
        if not server_wait:
            return self._timeout
        t = self.settings.timeouts
        read = t.read + server_wait
        return httpx.Timeout(connect=t.connect, read=read, write=t.write, pool=t.pool)

    def _open(self, request: httpx.Request, method: str, path: str) -> httpx.Response:
        """Send ``request`` and wait for the response headers (the body is read after)."""
        try:
            return self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _connection_error(exc, method, path, self.settings) from None


def _read_body(
    response: httpx.Response, deadline: float, method: str, path: str, settings: Settings
) -> bytes:
    """The body, decoded (gzip …); read by ``deadline``, a ``time.monotonic()`` value.

    A body whose encoding cannot be decoded is ``APIResponseValidationError`` for a 2xx (the
    request may have been applied) and an empty body for any other status.
    """
    if response.is_stream_consumed:  # a transport that built the response from bytes
        return response.content
    raw = _read_raw(response, deadline, method, path, settings)
    encoding = response.headers.get("Content-Encoding")
    if not encoding:
        return raw
    try:  # a Response built from bytes decodes them (httpx's decoders are private)
        return httpx.Response(200, headers={"Content-Encoding": encoding}, content=raw).content
    except httpx.DecodingError:
        if response.is_success:
            raise unreadable(method, path, f"its {encoding} encoding is broken") from None
        return b""


def _read_raw(
    response: httpx.Response, deadline: float, method: str, path: str, settings: Settings
) -> bytes:
    """The body as received, chunk by chunk, ending the attempt once ``deadline`` passes.

    httpx's read timeout bounds each socket read, not the whole body: a server sending a byte
    at a time would hold a request for ever. Checking the clock after every chunk ends the
    attempt at most one read timeout past the deadline, with no thread. The raw chunks are
    checked, not decoded ones: a gzip decoder may swallow many chunks before it yields one.

    The response headers are bounded by the read timeout only. A watchdog thread that closes
    the socket could end them too, but httpx hands out the socket before the headers only
    for a new connection (trace extension), never for a reused one; half a bound is not
    worth a thread per attempt.
    """
    chunks = []
    try:
        for chunk in response.iter_raw():
            chunks.append(chunk)
            if time.monotonic() > deadline and not _complete(response):
                raise APITimeoutError(
                    "Timed out reading the response", method=method, path=path, request_sent=True
                )
    except httpx.TransportError as exc:
        raise _connection_error(exc, method, path, settings) from None
    return b"".join(chunks)


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
