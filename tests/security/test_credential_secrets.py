"""No credential property value, under any key name, shows in reprs, errors, cassettes or the
emulator's request log; only the allow-listed keys (``kind``, ``name``, ``test`` …) do."""

from __future__ import annotations

import json
import secrets as stdlib_secrets
import traceback
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm.credentials import Credential
from sequin_orm.emulator import Emulator
from sequin_orm.errors import BadRequestError
from sequin_orm.secrets import Secret, collect_secret_values, scrub_json_secrets
from sequin_orm.testing import scrub_request, scrub_response

TOKEN = "tok-secrets-90ab"
#: Key names no list of secret names would know.
KEYS = ("fooSecretish", "apiKey", "token", "clientSecret", "x")


def _properties() -> dict[str, Any]:
    values = {key: f"val-{key}-{stdlib_secrets.token_hex(8)}" for key in KEYS}
    return {"kind": "stripe_key", "test": True, "name": "Visible name", **values}


def _hidden(properties: dict[str, Any]) -> list[str]:
    return [properties[key] for key in KEYS]


def _visible(*values: object) -> str:
    return " ".join(f"{v!r} {v!s}" for v in values)


def _sync_body(properties: dict[str, Any], stream_id: str) -> dict[str, Any]:
    return {
        "provider": "stripe",
        "stream_id": stream_id,
        "name": "Stripe",
        "collection_ids": ["stripe:customer"],
        "credential": {"properties": properties},
    }


@pytest.fixture
def emu() -> Emulator:
    return Emulator(TOKEN)


@pytest.fixture(params=["in-process", "loopback-http"])
def client(request: pytest.FixtureRequest, emu: Emulator) -> Any:
    if request.param == "in-process":
        with sequin_orm.Client(TOKEN, "http://127.0.0.1", transport=emu.transport()) as c:
            yield c
        return
    with emu.serve() as url, sequin_orm.Client(TOKEN, url) as c:
        yield c


def test_a_built_credential_masks_every_value_but_the_allow_list() -> None:
    properties = _properties()
    credential = Credential(properties=properties)
    shown = _visible(credential, credential.properties)
    assert not [value for value in _hidden(properties) if value in shown]
    assert "stripe_key" in shown and "Visible name" in shown
    assert all(isinstance(credential.properties[key], Secret) for key in KEYS)
    assert credential.properties["fooSecretish"].get_secret_value() == properties["fooSecretish"]


def test_nested_values_are_masked_too() -> None:
    hidden = "nested-" + stdlib_secrets.token_hex(8)
    credential = Credential(properties={"kind": "k", "auth": {"deep": [hidden]}})
    assert hidden not in repr(credential)
    assert collect_secret_values({"credential": {"properties": {"auth": {"d": hidden}}}}) == [
        hidden
    ]


def test_created_and_loaded_objects_show_no_secret(
    client: sequin_orm.Client, emu: Emulator
) -> None:
    properties = _properties()
    stream = client.streams.create("prod")
    sync = client.syncs.create(**_sync_body(properties, str(stream.id)))
    credential = client.credentials.create(_properties())
    objects: list[object] = [sync, sync.credential, credential, client.syncs.get(str(sync.id))]
    objects += [client.syncs.list(), client.credentials.list()]
    shown = _visible(*objects)
    assert not [value for value in _hidden(properties) if value in shown]
    stored = emu._state.credentials[str(sync.credential_id)].properties
    assert stored == properties  # the body carried every value in clear


def test_the_emulator_log_holds_no_secret(client: sequin_orm.Client, emu: Emulator) -> None:
    properties = _properties()
    stream = client.streams.create("prod")
    client.syncs.create(**_sync_body(properties, str(stream.id)))
    client.credentials.create(properties)
    logged = repr(emu.requests)
    with emu.serve() as url:
        over_http = httpx.get(
            f"{url}/_emulator/requests", headers={"Authorization": f"Bearer {TOKEN}"}
        ).text
    for text in (logged, over_http):
        assert not [value for value in _hidden(properties) if value in text]
        assert "Visible name" in text and "stripe_key" in text


def test_an_echoed_secret_is_masked_in_the_error(client: sequin_orm.Client, emu: Emulator) -> None:
    properties = _properties()
    stream = client.streams.create("prod")
    echoed = " ".join(_hidden(properties))
    emu.inject(path="/v1/syncs", method="POST", error=f"Upstream rejected {echoed}")
    with pytest.raises(BadRequestError) as caught:
        client.syncs.create(**_sync_body(properties, str(stream.id)))
    error = caught.value
    text = _visible(error, error.body, error.args) + "".join(traceback.format_exception(error))
    assert "Upstream rejected" in text
    assert not [value for value in _hidden(properties) if value in text]


def test_cassette_scrubbers_mask_every_credential_value() -> None:
    properties = _properties()
    body = _sync_body(properties, "s")
    request = SimpleNamespace(body=json.dumps(body).encode())
    recorded = scrub_request(request).body
    response = {
        "body": {"string": json.dumps({"data": {"credential": {"properties": properties}}})}
    }
    answer = scrub_response(response)["body"]["string"]
    for text in (recorded, answer):
        text = text.decode() if isinstance(text, bytes) else text
        assert not [value for value in _hidden(properties) if value in text]
        assert "stripe_key" in text and "Visible name" in text
    credential_object = {"id": "c", "oauth_app_id": None, "properties": {"apiKey": "abcd1234"}}
    assert "abcd1234" not in json.dumps(scrub_json_secrets({"data": [credential_object]}))


def test_record_properties_are_not_credentials() -> None:
    """A HubSpot record's ``properties`` (no ``kind``) is data, not a credential."""
    record = {"records": [{"data": {"properties": {"firstname": "Chani"}}}]}
    assert scrub_json_secrets(record) == record
