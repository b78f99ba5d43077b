"""pytest plugin for your own tests (registered as a ``pytest11`` entry point).

It is loaded in every pytest run of an environment where sequin-orm is installed, so it is
harmless to projects that do not use it: every fixture name starts with ``sequin_``, nothing
is autouse, and the library is imported only inside the fixtures (importing this module
loads no emulator, no vcrpy and no credential handling).

Fixtures:

- ``sequin_emulator``: a fresh local Sequin API seeded with the ``demo`` syncs;
- ``sequin_client``: a client on it (in-process transport), also set as the default client
  (so ``contact.save()`` in the code under test goes to the emulator), with the demo syncs
  as default syncs;
- ``sequin_vcr_config``: vcrpy settings that keep the token and credential secrets out of
  cassettes and store every request under ``https://api.sequin.io``. Opt in with your own
  ``vcr_config`` fixture (pytest-recording)::

      @pytest.fixture(scope="module")
      def vcr_config(sequin_vcr_config):
          return sequin_vcr_config

- ``sequin_vcr_client``: the default client for a test marked ``@pytest.mark.vcr``. When
  recording (any ``--record-mode`` but ``none``) the emulator is served on loopback and the
  client talks to it over real HTTP, which vcrpy sees; when replaying (``--record-mode=none``)
  no server runs and the client points at ``https://api.sequin.io``, answered from the
  cassette. See docs/testing.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from sequin_orm.client import Client
    from sequin_orm.emulator import Emulator

__all__ = [
    "RECORD_AS",
    "REDACTED",
    "scrub_request",
    "scrub_response",
    "sequin_client",
    "sequin_emulator",
    "sequin_vcr_client",
    "sequin_vcr_config",
]

REDACTED = "REDACTED"
RECORD_AS = "https://api.sequin.io"
"""The base URL cassettes are recorded under by the ``sequin_vcr_config`` fixture."""

_DEMO_SYNCS = {"salesforce": "salesforce_sync", "stripe": "stripe_sync", "hubspot": "hubspot_sync"}


@pytest.fixture
def sequin_emulator() -> Emulator:
    """A fresh in-memory Sequin API with the demo stream, syncs and consumer."""
    from sequin_orm.emulator import Emulator

    return Emulator(seed="demo")


def _demo_syncs(emulator: Emulator) -> dict[str, str]:
    return {provider: emulator.seeded[key] for provider, key in _DEMO_SYNCS.items()}


@pytest.fixture
def sequin_client(sequin_emulator: Emulator) -> Iterator[Client]:
    """A client on ``sequin_emulator`` (in-process), installed as the default client."""
    from sequin_orm.client import configure, reset_default_client

    client = configure(
        sequin_emulator.token,
        "http://127.0.0.1",
        syncs=_demo_syncs(sequin_emulator),
        transport=sequin_emulator.transport(),
    )
    yield client
    reset_default_client()


@pytest.fixture
def sequin_vcr_client(
    request: pytest.FixtureRequest, sequin_emulator: Emulator
) -> Iterator[Client]:
    """The default client of a cassette test (``@pytest.mark.vcr``).

    Recording (``--record-mode`` other than ``none``): ``sequin_emulator`` is served on
    loopback and the client talks to it over real HTTP, which vcrpy records (the in-process
    transport of ``sequin_client`` is invisible to it). Replaying (``--record-mode=none``,
    pytest-recording's default): no server runs, the client points at ``RECORD_AS`` and every
    answer comes from the cassette. Pair it with ``sequin_vcr_config``, which files the
    recorded requests under ``RECORD_AS`` so both modes match.
    """
    from sequin_orm.client import configure, reset_default_client

    syncs = _demo_syncs(sequin_emulator)
    record_mode = request.config.getoption("--record-mode", default="none")
    if record_mode == "none":
        yield configure(sequin_emulator.token, RECORD_AS, syncs=syncs)
        reset_default_client()
        return
    with sequin_emulator.serve() as url:
        yield configure(sequin_emulator.token, url, syncs=syncs)
        reset_default_client()


@pytest.fixture(name="sequin_vcr_config", scope="session")
def _sequin_vcr_config_fixture() -> dict[str, Any]:
    """vcrpy settings that keep tokens and credential secrets out of cassettes.

    Requests are recorded under ``RECORD_AS`` (``https://api.sequin.io``). Opt in with
    ``def vcr_config(sequin_vcr_config): return sequin_vcr_config``.
    """
    return sequin_vcr_config(record_as=RECORD_AS)


def sequin_vcr_config(record_as: str | None = None) -> dict[str, Any]:
    """The settings of the ``sequin_vcr_config`` fixture, for use outside pytest-recording.

    ``record_as`` (e.g. ``"https://api.sequin.io"``) stores every request under that scheme
    and host (path and query kept): cassettes recorded from an emulator on a random port then
    replay anywhere. The rewrite also applies when requests are matched during replay.
    """
    seen: set[str] = set()  # secrets sent so far: a server may quote them back
    origin = urlsplit(record_as) if record_as is not None else None

    def before_record_request(request: Any) -> Any:
        if origin is not None:
            parts = urlsplit(request.uri)
            request.uri = urlunsplit(
                (origin.scheme, origin.netloc, parts.path, parts.query, parts.fragment)
            )
        return _scrub_request(request, seen)

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        return _scrub_response(response, seen)

    headers: list[Any] = [("authorization", f"Bearer {REDACTED}"), "cookie", "set-cookie"]
    if origin is not None:
        headers.append(("host", origin.netloc))
    return {
        "filter_headers": headers,
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "match_on": ["method", "uri", "body"],
    }


def scrub_request(request: Any) -> Any:
    """Mask credential secrets in a vcrpy request's JSON body (also applied when matching)."""
    return _scrub_request(request, set())


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Mask credential secrets in a recorded response's JSON body."""
    return _scrub_response(response, set())


def _scrub_request(request: Any, seen: set[str]) -> Any:
    from sequin_orm.secrets import collect_secret_values

    data = _json_of(getattr(request, "body", None))
    if data is not None:
        seen.update(collect_secret_values(data))
        request.body = _masked(data, seen)
    return request


def _scrub_response(response: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    body = response.get("body", {})
    raw = body.get("string")
    data = _json_of(raw)
    if data is not None:
        body["string"] = _masked(data, seen)
    elif raw and seen:
        body["string"] = _redacted_text(raw, seen)
    return response


def _json_of(raw: Any) -> Any:
    if not raw:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        return json.loads(text)
    except ValueError:
        return None


def _masked(data: Any, seen: set[str]) -> bytes:
    """JSON with secret-named keys masked and known secret values redacted anywhere."""
    from sequin_orm.secrets import scrub_json_secrets

    text = json.dumps(scrub_json_secrets(data), separators=(",", ":"))
    return _redacted_text(text.encode(), seen)


def _redacted_text(raw: Any, seen: set[str]) -> bytes:
    from sequin_orm.secrets import MIN_REDACTED_LENGTH  # the plugin imports the library late

    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    for secret in sorted(seen, key=len, reverse=True):
        if len(secret) >= MIN_REDACTED_LENGTH:  # "eu" would garble the cassette (masked in JSON)
            text = text.replace(secret, REDACTED)
    return text.encode()
