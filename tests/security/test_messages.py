"""Messages that say what to do: an empty sync id is named as empty."""

from __future__ import annotations

import pytest

import sequin_orm
from sequin_orm import Session
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ConfigurationError
from sequin_orm.models import salesforce

TOKEN = "tok-msg-3c3c"


@pytest.mark.parametrize("how", ["env", "kwarg"])
def test_an_empty_sync_id_is_named_as_empty(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    emu = Emulator(TOKEN)
    syncs = None
    if how == "env":
        monkeypatch.setenv("SEQUIN_SYNC_SALESFORCE", "")
    else:
        syncs = {"salesforce": " "}
    client = sequin_orm.Client(TOKEN, "http://127.0.0.1", syncs=syncs, transport=emu.transport())
    with client, pytest.raises(ConfigurationError) as caught, Session(client):
        salesforce.Contact(LastName="Kynes").save()
    message = str(caught.value)
    assert "'salesforce' is empty" in message and "SEQUIN_SYNC_SALESFORCE" in message
    assert emu.requests == []


def test_an_unset_sync_id_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEQUIN_SYNC_SALESFORCE", raising=False)
    with (
        sequin_orm.Client(TOKEN, "http://127.0.0.1") as client,
        pytest.raises(ConfigurationError, match="set SEQUIN_SYNC_SALESFORCE"),
    ):
        client.settings.sync_for("salesforce")
