"""The seed example's secret is in the request body and nowhere else: not in ``repr``/``str``
of objects, not in exception text, not in DEBUG logs (``tests/syncs/test_sync_cassettes.py``
checks the cassette files)."""

from __future__ import annotations

import logging
import traceback

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.errors import BadRequestError, ModelError
from sequin_orm.syncs import Sync

from .seed_example import SECRET, STREAM_ID, request_body


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("sequin_orm", "httpx", "httpcore", "sequin_orm.emulator"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _visible(*values: object) -> str:
    return " ".join(f"{v!r} {v!s}" for v in values)


def test_the_secret_stays_in_the_body(
    client: sequin_orm.Client, emulator: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    emulator.create_stream("prod", id=STREAM_ID)
    sync = client.syncs.create(**request_body())
    stored = emulator._state.credentials[str(sync.credential_id)]
    assert stored.properties["secret"] == SECRET  # it was sent …
    assert SECRET not in repr(emulator.requests)  # (the emulator's log masks it)
    assert sync.credential is not None
    shown = _visible(sync, sync.credential, sync.credential.properties, client.syncs.get(sync.id))
    assert SECRET not in shown  # … and is shown nowhere
    assert debug_logs.records and SECRET not in debug_logs.text


def test_a_secret_echoed_by_the_server_is_masked(
    client: sequin_orm.Client, emulator: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    emulator.create_stream("prod", id=STREAM_ID)
    emulator.inject(path="/v1/syncs", method="POST", error=f"Stripe rejected key {SECRET}")
    with pytest.raises(BadRequestError) as caught:
        client.syncs.create(**request_body())
    error = caught.value
    text = _visible(error, error.body, error.args) + "".join(traceback.format_exception(error))
    assert "Stripe rejected key" in text and SECRET not in text
    assert SECRET not in debug_logs.text


def test_client_side_errors_never_quote_the_secret(debug_logs: pytest.LogCaptureFixture) -> None:
    body = request_body()
    bad_bodies = [
        {**body, "credential": {"properties": {"secret": SECRET}}},
        {**body, "credential": {**body["credential"], "metadata": SECRET}},
        {**body, "credential": {**body["credential"], "properties": SECRET}},
        {**body, "credential_id": SECRET},
    ]
    for bad in bad_bodies:
        with pytest.raises(ModelError) as caught:
            Sync.objects.create(**bad)
        assert SECRET not in _visible(caught.value)
    assert SECRET not in debug_logs.text
