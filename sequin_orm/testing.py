"""pytest plugin for your own tests (registered as a ``pytest11`` entry point).

Fixtures:

- ``sequin_emulator``: a fresh local Sequin API seeded with the ``demo`` syncs;
- ``sequin_client``: a client on it, also set as the default client (so ``contact.save()``
  in the code under test goes to the emulator), with the demo syncs as default syncs;
- ``vcr_config``: for pytest-recording / vcrpy: the Authorization header and credential
  secrets in JSON bodies are scrubbed before anything is written to a cassette, and requests
  match on method, URI and JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sequin_orm.client import Client
    from sequin_orm.emulator import Emulator

REDACTED = "REDACTED"
_DEMO_SYNCS = {"salesforce": "salesforce_sync", "stripe": "stripe_sync", "hubspot": "hubspot_sync"}


@pytest.fixture
def sequin_emulator() -> Emulator:
    """A fresh in-memory Sequin API with the demo stream, syncs and consumer."""
    from sequin_orm.emulator import Emulator

    return Emulator(seed="demo")


@pytest.fixture
def sequin_client(sequin_emulator: Emulator) -> Iterator[Client]:
    """A client on ``sequin_emulator`` (in-process), installed as the default client."""
    from sequin_orm.client import configure, reset_default_client

    syncs = {provider: sequin_emulator.seeded[key] for provider, key in _DEMO_SYNCS.items()}
    client = configure(
        sequin_emulator.token,
        "http://127.0.0.1",
        syncs=syncs,
        transport=sequin_emulator.transport(),
    )
    yield client
    reset_default_client()


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """vcrpy settings that keep tokens and credential secrets out of cassettes."""
    return sequin_vcr_config()


def sequin_vcr_config(record_as: str | None = None) -> dict[str, Any]:
    """The settings of the ``vcr_config`` fixture, for use outside pytest-recording.

    ``record_as`` (e.g. ``"https://api.sequin.io"``) stores every request under that base URL:
    cassettes recorded from an emulator on a random port then replay anywhere.
    """
    seen: set[str] = set()  # secrets sent so far: a server may quote them back

    def before_record_request(request: Any) -> Any:
        if record_as is not None:
            _, _, path = request.uri.partition("/v1/")
            request.uri = f"{record_as.rstrip('/')}/v1/{path}"
        return _scrub_request(request, seen)

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        return _scrub_response(response, seen)

    return {
        "filter_headers": [("authorization", f"Bearer {REDACTED}"), "cookie", "set-cookie"],
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
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    for secret in sorted(seen, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text.encode()
