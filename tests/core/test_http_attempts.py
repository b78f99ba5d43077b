"""One HTTP attempt (``HTTPSession.send_once``): its deadline, its error mapping, the JSON codec,
and no environment proxy. Faults come from real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import gzip
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sequin_orm
from sequin_orm.codec import decode_json, encode_json
from sequin_orm.errors import (
    APIResponseValidationError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    ModelError,
)

TOKEN = "test-token-5c1e"
PATH = "/v1/mutations/run"
UPDATE = {
    "kind": "update",
    "sync_id": "sync-sf",
    "collection_id": "salesforce:contact",
    "records": [{"upstream_id": "0031U00000Qn2ZVQAZ", "data": {"Email": "paul@arrakis.org"}}],
}
ANSWER = b'{"records":[]}'

Reply = Callable[["_Handler"], None]
E = TypeVar("E", bound=BaseException)


class _Server(ThreadingHTTPServer):
    """Answers every request with ``reply``; keeps what it received."""

    daemon_threads = True

    def __init__(self, reply: Reply) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = reply
        self.requests: list[tuple[str, Mapping[str, str], bytes]] = []
        self.stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def owner(self) -> _Server:
        assert isinstance(self.server, _Server)
        return self.server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.owner.requests.append((self.path, dict(self.headers), body))
        self.owner.reply(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def send_head(self, status: int, length: int, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


@contextlib.contextmanager
def serve(reply: Reply) -> Iterator[_Server]:
    server = _Server(reply)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def answer(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> Reply:
    def reply(handler: _Handler) -> None:
        handler.send_head(status, len(body), headers or {})
        handler.wfile.write(body)

    return reply


def dribble(body: bytes, every: float) -> Reply:
    """Headers at once, then the body one byte per ``every`` seconds (bounded by its length)."""

    def reply(handler: _Handler) -> None:
        handler.send_head(200, len(body), {})
        for i in range(len(body)):
            if handler.owner.stop.wait(every):
                return
            try:
                handler.wfile.write(body[i : i + 1])
            except OSError:  # the client gave up
                return

    return reply


def client(url: str, **kwargs: Any) -> sequin_orm.Client:
    kwargs.setdefault("timeout", 1.0)
    kwargs.setdefault("max_retries", 0)
    return sequin_orm.Client(api_token=TOKEN, base_url=url, syncs={"salesforce": "x"}, **kwargs)


def _raises(cls: type[E], c: sequin_orm.Client, body: Mapping[str, Any]) -> pytest.ExceptionInfo[E]:
    with pytest.raises(cls) as raised:
        c.run_mutation(body)
    return raised


# -- the deadline of an attempt ------------------------------------------------------------------


def test_a_dribbled_body_cannot_hold_a_request_past_its_timeout() -> None:
    with serve(dribble(b'{"records":[' + b" " * 60 + b"]}", every=0.5)) as server:
        started = time.monotonic()
        with client(server.url) as c, pytest.raises(APITimeoutError) as raised:
            c.run_mutation(UPDATE)
        assert time.monotonic() - started < 3
    assert raised.value.request_sent and raised.value.outcome_unknown


def test_the_deadline_grows_by_the_await_timeout() -> None:
    with serve(dribble(ANSWER, every=0.1)) as server, client(server.url) as c:
        started = time.monotonic()
        body = c.http.send_once("POST", PATH, content=b"{}", await_timeout_ms=1000)
        assert body == ANSWER and time.monotonic() - started > 1.0


def _late_but_whole(handler: _Handler) -> None:
    """Each wait shorter than the read timeout; the whole answer later than the deadline."""
    time.sleep(0.6)
    handler.send_head(200, len(ANSWER), {})
    handler.wfile.flush()
    time.sleep(0.6)
    handler.wfile.write(ANSWER)


def test_an_answer_complete_after_the_deadline_is_used() -> None:
    with serve(_late_but_whole) as server, client(server.url) as c:
        assert c.http.send_once("POST", PATH, content=b"{}") == ANSWER


# -- bodies that cannot be read ------------------------------------------------------------------


def test_a_2xx_with_a_broken_gzip_body_is_an_unknown_outcome() -> None:
    reply = answer(200, b'{"records": []} not gzip', {"Content-Encoding": "gzip"})
    with serve(reply) as server, client(server.url, max_retries=2) as c:
        with pytest.raises(APIResponseValidationError) as raised:
            c.run_mutation({**UPDATE, "kind": "create"})
        assert len(server.requests) == 1
    assert raised.value.outcome_unknown


def test_an_error_status_with_a_broken_gzip_body_is_read_as_empty() -> None:
    reply = answer(400, b"not gzip", {"Content-Encoding": "gzip"})
    with serve(reply) as server, client(server.url) as c, pytest.raises(BadRequestError) as raised:
        c.run_mutation(UPDATE)
    assert raised.value.message == "HTTP 400" and raised.value.body == ""


def test_a_gzip_body_is_decoded() -> None:
    reply = answer(200, gzip.compress(ANSWER), {"Content-Encoding": "gzip"})
    with serve(reply) as server, client(server.url) as c:
        assert c.run_mutation(UPDATE) == {"records": []}


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_LIST: list[Any] = []
for _ in range(300):
    DEEP_LIST = [DEEP_LIST]


@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"records": ["\xff"]}', b"<html>Bad gateway</html>", b'{"records": [NaN]}'],
    ids=["deep", "invalid-utf8", "html", "nan"],
)
def test_an_unreadable_2xx_body_is_an_unknown_outcome(body: bytes) -> None:
    with serve(answer(200, body)) as server, client(server.url) as c:
        raised = _raises(APIResponseValidationError, c, UPDATE)
    assert raised.value.outcome_unknown


def test_a_deep_error_body_is_still_the_status_error() -> None:
    with serve(answer(500, DEEP)) as server, client(server.url) as c:
        _raises(InternalServerError, c, UPDATE)


@pytest.mark.parametrize("content", [DEEP, b"\xff\xfe", b"{", b" ", b"1e400"])
def test_decode_json_raises_only_response_validation_errors(content: bytes) -> None:
    with pytest.raises(APIResponseValidationError) as raised:
        decode_json(content, "GET", "/v1/records")
    assert raised.value.outcome_unknown and "GET /v1/records" in str(raised.value)


def test_decode_json_of_an_empty_body_is_none() -> None:
    assert decode_json(b"", "POST", PATH) is None


# -- send_once: one attempt ----------------------------------------------------------------------


def test_send_once_makes_one_attempt_where_send_retries() -> None:
    with (
        serve(answer(503, b'{"summary": "busy"}')) as server,
        client(server.url, max_retries=2) as c,
    ):
        c.http.sleep = lambda seconds: None
        with pytest.raises(InternalServerError):
            c.http.send_once("POST", PATH, content=b"{}")
        assert len(server.requests) == 1
        with pytest.raises(InternalServerError):
            c.http.send("POST", PATH, content=b"{}")
        assert len(server.requests) == 4
    _, headers, body = server.requests[0]
    assert headers["Authorization"] == f"Bearer {TOKEN}" and body == b"{}"


def test_send_once_reports_when_the_request_is_written() -> None:
    written: list[bool] = []
    with serve(answer(200, ANSWER)) as server, client(server.url) as c:
        c.http.send_once("POST", PATH, content=b"{}", on_written=lambda: written.append(True))
    assert written == [True]


# -- JSON out ------------------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# json.dumps writes floats below 1e-4 as 1e-05, orjson as 0.00001: the same number
_FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: abs(x) >= 1e-4 or not x)
_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | _FLOATS | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_ordinary_data_is_encoded_as_json_dumps_did(value: Any) -> None:
    assert encode_json(value) == _dumps(value)


def test_a_mutation_body_is_encoded_as_json_dumps_did() -> None:
    body = {**UPDATE, "records": [{"upstream_id": "1", "data": {"Name": "Ünïcode \u2028 \x00 🐛"}}]}
    assert encode_json(body) == _dumps(body)
    assert encode_json((1, 2.5, None)) == b"[1,2.5,null]"


@pytest.mark.parametrize("number", [1e-05, 4.349685009741777e-05, -1e-07, 5e-324])
def test_small_floats_keep_their_value(number: float) -> None:
    assert json.loads(encode_json(number)) == number


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (math.nan, "the top level"),
        ({"records": [{"data": {"Amount": math.inf}}]}, "records[0].data.Amount"),
        ([None, (1.0, -math.inf)], "[1][1]"),
    ],
)
def test_nan_and_infinity_are_refused(value: Any, where: str) -> None:
    with pytest.raises(ModelError) as raised:
        encode_json(value)
    assert str(raised.value).endswith(f"NaN or infinity at {where}")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"Name": "\ud800"}, "surrogates not allowed"),
        ({"\udfff": 1}, "surrogates not allowed"),
        ({"Tags": {"a"}}, "set"),
        ({"Photo": b"x"}, "bytes"),
        ({"When": datetime.datetime(2024, 1, 1)}, "datetime"),
        ({"When": datetime.date(2024, 1, 1)}, "date"),
        ({"Amount": decimal.Decimal("1.10")}, "Decimal"),
        ({"Other": object()}, "object"),
        ({1: "one"}, "key must be str"),
        ({"Big": 2**64}, "64-bit"),
        ({"Deep": DEEP_LIST}, "Recursion"),
    ],
)
def test_values_json_cannot_carry_are_refused(value: Any, reason: str) -> None:
    with pytest.raises(ModelError, match="cannot be sent as JSON") as raised:
        encode_json(value)
    assert reason in str(raised.value)


def test_a_refused_body_sends_nothing() -> None:
    with serve(answer(200, ANSWER)) as server, client(server.url) as c:
        bad = {**UPDATE, "records": [{"upstream_id": "1", "data": {"Amount": math.nan}}]}
        with pytest.raises(ModelError):
            c.run_mutation(bad)
    assert server.requests == []


# -- proxies -------------------------------------------------------------------------------------


def test_environment_proxies_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as proxy, serve(answer(200, ANSWER)) as server:
        proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy_url)
            monkeypatch.setenv(name.lower(), proxy_url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with client(server.url) as c:
            assert c.run_mutation(UPDATE) == {"records": []}
        proxy.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody connected to the proxy
            proxy.accept()
    assert len(server.requests) == 1
