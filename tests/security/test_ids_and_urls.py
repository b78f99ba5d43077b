"""Ids that would change the path are refused before any request; plain http to another host
only with the one opt-in; connection errors say where, why and what to check."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

import sequin_orm
from sequin_orm.consumers import Consumer
from sequin_orm.emulator import Emulator
from sequin_orm.errors import APIConnectionError, ConfigurationError, ModelError

from .servers import closed_port

TOKEN = "tok-ids-5e6f"
BAD_IDS = [".", "..", "", " ", "a/b", "../syncs", "%2e%2e/x", "a\\b"]


@pytest.fixture
def emu() -> Emulator:
    return Emulator(TOKEN, seed="demo")


@pytest.fixture
def client(emu: Emulator) -> Any:
    with emu.serve() as url, sequin_orm.Client(TOKEN, url) as c:
        yield c


CALLS: dict[str, Callable[[sequin_orm.Client, str], Any]] = {
    "syncs.get": lambda c, i: c.syncs.get(i),
    "syncs.delete": lambda c, i: c.syncs.delete(i),
    "syncs.update": lambda c, i: c.syncs.update(i, name="x"),
    "credentials.get": lambda c, i: c.credentials.get(i),
    "credentials.update": lambda c, i: c.credentials.update(i, name="x"),
    "consumers.get": lambda c, i: c.consumers.get(i),
    "consumers.delete": lambda c, i: c.consumers.delete(i),
    "Consumer.ack_all": lambda c, i: Consumer(i, c).ack_all(["t"]),
    "Consumer.receive": lambda c, i: Consumer(i, c).receive_batch(),
}


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("call", sorted(CALLS))
def test_dot_segment_ids_are_refused_before_any_request(
    client: sequin_orm.Client, emu: Emulator, call: str, bad_id: str
) -> None:
    emu.clear_requests()
    with pytest.raises(ModelError):
        CALLS[call](client, bad_id)
    assert emu.requests == []


def test_the_http_layer_refuses_dot_segments_too(client: sequin_orm.Client, emu: Emulator) -> None:
    emu.clear_requests()
    for path in ("/v1/syncs/.", "/v1/syncs/..", "/v1/syncs/%2E%2E", "/v1/./syncs"):
        with pytest.raises(ModelError, match="segment"):
            client.http.request("GET", path)
    assert emu.requests == []


# --- plain http to another host ----------------------------------------------------------------


def test_plain_http_to_another_host_is_refused_and_the_message_names_the_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEQUIN_ALLOW_INSECURE_HTTP", raising=False)
    with pytest.raises(ConfigurationError) as caught:
        sequin_orm.Client(TOKEN, "http://emulator:7376")
    assert "SEQUIN_ALLOW_INSECURE_HTTP=1" in str(caught.value)
    assert "allow_insecure_http=True" in str(caught.value)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_the_environment_opt_in(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SEQUIN_ALLOW_INSECURE_HTTP", value)
    with sequin_orm.Client(TOKEN, "http://emulator:7376") as client:
        assert client.base_url == "http://emulator:7376"
    with pytest.raises(ConfigurationError):  # the keyword wins over the environment
        sequin_orm.Client(TOKEN, "http://emulator:7376", allow_insecure_http=False)


def test_the_opt_in_does_not_weaken_https_checks() -> None:
    with pytest.raises(ConfigurationError):
        sequin_orm.Client(TOKEN, "ftp://emulator", allow_insecure_http=True)


def _lan_address() -> str | None:
    """This machine's non-loopback address, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing is sent
        except OSError:
            return None
        address: str = sock.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_an_emulator_on_every_interface_is_usable_with_the_opt_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sequin_orm.emulator.cli import _announce, client_urls

    address = _lan_address()
    if address is None:
        pytest.skip("no non-loopback address on this machine")
    emu = Emulator(TOKEN, seed="demo")
    with emu.serve("0.0.0.0") as url:
        _announce(emu, url)
        banner = capsys.readouterr().out
        local, remote = client_urls(url)
        assert remote is not None and "SEQUIN_ALLOW_INSECURE_HTTP=1" in banner
        assert f"SEQUIN_BASE_URL={local}" in banner and f"SEQUIN_BASE_URL={remote}" in banner
        with sequin_orm.Client(TOKEN, local) as here:  # the banner's local URL works as is
            assert here.streams.list()
        port = url.rsplit(":", 1)[1]
        other_host = f"http://{address}:{port}"  # as another container would reach it
        with pytest.raises(ConfigurationError):
            sequin_orm.Client(TOKEN, other_host)
        monkeypatch.setenv("SEQUIN_ALLOW_INSECURE_HTTP", "1")
        with sequin_orm.Client(TOKEN, other_host) as there:
            assert there.streams.list()


# --- connection errors -------------------------------------------------------------------------


def test_connection_refused_names_host_cause_and_hint() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with (
        sequin_orm.Client(TOKEN, url, max_retries=0) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.streams.list()
    text = f"{caught.value} {caught.value!r}"
    assert url in text
    assert "Connection refused" in text
    assert "emulator running" in text and f"SEQUIN_BASE_URL={url}" in text
    assert TOKEN not in text and not caught.value.request_sent


def test_a_remote_host_gets_a_network_hint() -> None:
    from sequin_orm.config import resolve_settings
    from sequin_orm.http import _hint

    settings = resolve_settings(
        api_token=TOKEN,
        base_url="https://api.sequin.io",
        syncs=None,
        timeout=None,
        max_retries=None,
        batch_size=None,
    )
    assert _hint(settings) == "Check the network and SEQUIN_BASE_URL=https://api.sequin.io"
