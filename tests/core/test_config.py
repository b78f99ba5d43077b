"""Client configuration: kwargs, environment, https rule, token placement."""

from __future__ import annotations

import httpx
import pytest

import sequin_orm
from sequin_orm.config import normalize_base_url, resolve_settings
from sequin_orm.errors import ConfigurationError
from sequin_orm.models import salesforce


def test_environment_supplies_token_url_and_syncs() -> None:
    env = {
        "SEQUIN_API_TOKEN": "tok-env",
        "SEQUIN_BASE_URL": "http://127.0.0.1:7376",
        "SEQUIN_SYNC_SALESFORCE": "sync-sf",
    }
    settings = resolve_settings(
        api_token=None,
        base_url=None,
        syncs={"stripe": "sync-st"},
        timeout=None,
        max_retries=None,
        batch_size=None,
        environ=env,
    )
    assert settings.api_token == "tok-env"
    assert settings.base_url == "http://127.0.0.1:7376"
    assert dict(settings.default_syncs) == {"salesforce": "sync-sf", "stripe": "sync-st"}
    assert "tok-env" not in repr(settings)


def test_kwargs_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUIN_API_TOKEN", "tok-env")
    monkeypatch.setenv("SEQUIN_BASE_URL", "https://env.example.com")
    client = sequin_orm.Client("tok-kw", "https://api.sequin.io")
    assert client.settings.api_token == "tok-kw"
    assert client.base_url == "https://api.sequin.io"
    assert "tok-kw" not in repr(client)
    client.close()


@pytest.mark.parametrize(
    "url",
    ["http://api.sequin.io", "ftp://x", "https://u:p@api.sequin.io", "https://api.sequin.io/v1"],
)
def test_bad_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        normalize_base_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:7376", "http://localhost", "http://[::1]:80"])
def test_plain_http_is_allowed_on_loopback(url: str) -> None:
    assert normalize_base_url(url + "/") == url


def test_missing_token_fails_at_first_call_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEQUIN_API_TOKEN", raising=False)
    calls: list[httpx.Request] = []
    client = sequin_orm.Client(transport=httpx.MockTransport(calls.append))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="SEQUIN_API_TOKEN"):
        client.http.request("GET", "/v1/syncs")
    assert calls == []


def test_missing_sync_id_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEQUIN_SYNC_SALESFORCE", raising=False)
    calls: list[httpx.Request] = []
    client = sequin_orm.Client("tok", transport=httpx.MockTransport(calls.append))  # type: ignore[arg-type]
    session = sequin_orm.Session(client)
    session.add(salesforce.Contact(LastName="x"))
    with pytest.raises(ConfigurationError, match="SEQUIN_SYNC_SALESFORCE"):
        session.commit()
    assert calls == []


def test_token_is_sent_only_to_the_configured_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    client = sequin_orm.Client(
        "secret-token", "https://api.sequin.io", transport=httpx.MockTransport(handler)
    )
    client.http.request("GET", "/v1/syncs")
    assert seen[0].headers["Authorization"] == "Bearer secret-token"
    with pytest.raises(ConfigurationError):
        client.http.request("GET", "https://evil.example.com/v1/syncs")
    assert len(seen) == 1


def test_configure_sets_the_default_client() -> None:
    client = sequin_orm.configure("tok", syncs={"salesforce": "s"})
    assert sequin_orm.get_client() is client
    assert client.default_syncs == {"salesforce": "s"}
