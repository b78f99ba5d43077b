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
from collections.abc import Callable, Iterator
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
    before_record_request: Callable[[Any], Any] = scrub_request
    if record_as is not None:
        before_record_request = _rebased(record_as.rstrip("/"))
    return {
        "filter_headers": [("authorization", f"Bearer {REDACTED}"), "cookie", "set-cookie"],
        "before_record_request": before_record_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "match_on": ["method", "uri", "body"],
    }


def scrub_request(request: Any) -> Any:
    """Mask credential secrets in a vcrpy request's JSON body (also applied when matching)."""
    body = getattr(request, "body", None)
    scrubbed = _scrub_json_bytes(body)
    if scrubbed is not None:
        request.body = scrubbed
    return request


def _rebased(base_url: str) -> Callable[[Any], Any]:
    def before_record_request(request: Any) -> Any:
        _, _, path = request.uri.partition("/v1/")
        request.uri = f"{base_url}/v1/{path}"
        return scrub_request(request)

    return before_record_request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Mask credential secrets in a recorded response's JSON body."""
    body = response.get("body", {})
    scrubbed = _scrub_json_bytes(body.get("string"))
    if scrubbed is not None:
        body["string"] = scrubbed
    return response


def _scrub_json_bytes(raw: Any) -> bytes | None:
    if not raw:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    from sequin_orm.secrets import scrub_json_secrets

    return json.dumps(scrub_json_secrets(data), separators=(",", ":")).encode()
