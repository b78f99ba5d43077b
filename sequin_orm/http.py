"""The one place that does HTTP: a pooled ``httpx.Client``, auth, retries, error mapping."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from sequin_orm.config import Settings
from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigurationError,
    status_error,
)
from sequin_orm.retry import Safety, parse_retry_after, retry_delay

logger = logging.getLogger("sequin_orm")

USER_AGENT = "sequin-orm/0.1.0"
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


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

    ``sleep`` and ``random`` are injectable so tests of retries do not wait.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.jitter = jitter
        t = settings.timeouts
        self._timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)
        self._client = httpx.Client(
            base_url=settings.base_url,
            transport=transport,
            auth=_BearerAuth(settings),
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
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
        server may hold the answer back (consumer ``next``): the read timeout grows by it so
        the client never gives up before the server does.
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
        """``request()`` with a body already encoded, returning the 2xx body undecoded.

        ``on_written`` is called each time the request has been written to a connection
        (through httpcore's ``trace`` extension; transports without it never call it).
        """
        self.settings.require_token()
        if not path.startswith("/"):
            raise ConfigurationError(f"API paths are relative to the base URL, got {path!r}")
        timeout = self._timeout_for((await_timeout_ms or 0) + (long_poll_ms or 0))
        started = time.monotonic()
        retries = 0
        while True:
            try:
                return self._send_once(
                    method,
                    path,
                    content,
                    params,
                    timeout,
                    awaiting=await_timeout_ms is not None,
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

    def _timeout_for(self, server_wait_ms: int) -> httpx.Timeout:
        if not server_wait_ms:
            return self._timeout
        t = self.settings.timeouts
        return httpx.Timeout(
            connect=t.connect, read=t.read + server_wait_ms / 1000, write=t.write, pool=t.pool
        )

    def _send_once(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Mapping[str, Any] | None,
        timeout: httpx.Timeout,
        *,
        awaiting: bool,
        on_written: Callable[[], None] | None,
    ) -> bytes:
        started = time.perf_counter()
        try:
            response = self._client.request(
                method,
                path,
                content=content,
                params=params,
                headers=_JSON_HEADERS if content is not None else None,
                timeout=timeout,
                extensions=None if on_written is None else {"trace": _tracer(on_written)},
            )
        except httpx.TransportError as exc:
            raise _connection_error(exc, method, path) from None
        logger.debug(
            "%s %s -> %d in %.1f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if not response.is_success:
            raise _status_error(response, method, path, awaiting=awaiting)
        return response.content


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


def encode_json(body: Any) -> bytes:
    """A request body as the API is sent it: compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode_json(content: bytes, method: str, path: str) -> Any:
    """The JSON of a 2xx body (None when empty); ``APIResponseValidationError`` if it is not."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        raise APIResponseValidationError(
            "A 2xx response with a body that is not JSON",
            method=method,
            path=path,
            outcome_unknown=True,
        ) from None


def _status_error(response: httpx.Response, method: str, path: str, *, awaiting: bool) -> APIError:
    """The exception for an error status."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return status_error(
        response.status_code,
        body,
        method=method,
        path=path,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        awaiting=awaiting,
    )


def _connection_error(exc: httpx.TransportError, method: str, path: str) -> APIConnectionError:
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(exc, httpx.TimeoutException):
        what = "connecting" if never_sent else "waiting for the response"
        return APITimeoutError(
            f"Timed out {what}", method=method, path=path, request_sent=not never_sent
        )
    reason = "Connection failed" if never_sent else "Connection lost before a response"
    return APIConnectionError(
        f"{reason}: {type(exc).__name__}", method=method, path=path, request_sent=not never_sent
    )
