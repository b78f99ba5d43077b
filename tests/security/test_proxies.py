"""The token goes through a proxy only when one is given explicitly (design §3, Proxies)."""

from __future__ import annotations

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator

from .servers import recording_proxy

TOKEN = "tok-proxy-7d1e"
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def test_an_environment_proxy_never_sees_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = Emulator(TOKEN)
    with recording_proxy() as (proxy_url, seen), emu.serve() as url:
        for name in _PROXY_VARS:
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with sequin_orm.Client(TOKEN, url) as client:
            client.streams.list()
            client.syncs.list()
    assert seen == []  # the proxy got nothing …
    assert [r.path for r in emu.requests] == ["/v1/streams", "/v1/syncs"]  # … the API all


def test_an_explicit_proxy_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    emu = Emulator(TOKEN)
    with (
        recording_proxy() as (proxy_url, seen),
        emu.serve() as url,
        sequin_orm.Client(TOKEN, url, proxy=proxy_url) as client,
    ):
        assert client.streams.list() == []
    assert [(method, path) for method, path, _ in seen] == [("GET", f"{url}/v1/streams")]
    assert seen[0][2]["Authorization"] == f"Bearer {TOKEN}"  # the user named this proxy
    assert emu.requests == []


def test_configure_takes_the_proxy_too() -> None:
    with recording_proxy() as (proxy_url, seen):
        client = sequin_orm.configure(TOKEN, "http://127.0.0.1:9", proxy=proxy_url)
        client.streams.list()
    assert len(seen) == 1 and seen[0][1] == "http://127.0.0.1:9/v1/streams"


def test_a_proxy_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(sequin_orm.errors.ConfigurationError, match="proxy"):
        sequin_orm.Client(TOKEN, proxy="127.0.0.1:3128")
