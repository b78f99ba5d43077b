"""Syncs, credentials and streams against the emulator, in-process and over loopback HTTP.

``client`` and ``emulator`` come from ``tests/conftest.py`` (every test runs on both front
doors).
"""

from __future__ import annotations

import pytest

import sequin_orm
from sequin_orm.credentials import Credential
from sequin_orm.emulator import Emulator
from sequin_orm.errors import (
    AuthenticationError,
    ModelError,
    NotFoundError,
    UnprocessableEntityError,
)
from sequin_orm.secrets import Secret
from sequin_orm.streams import Stream
from sequin_orm.syncs import RateLimit, Sync

from .seed_example import SECRET, STREAM_ID, request_body


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    """The shared emulator plus the stream the seed example writes to."""
    emulator.create_stream("prod", id=STREAM_ID)
    return emulator


@pytest.fixture
def seed_sync(client: sequin_orm.Client, emu: Emulator) -> Sync:
    return client.syncs.create(**request_body())


def _count(emu: Emulator) -> int:
    return len(emu.requests)


def test_create_sends_the_seed_body_and_returns_a_typed_sync(
    client: sequin_orm.Client, emu: Emulator
) -> None:
    sync = client.syncs.create(**request_body())
    sent = emu.requests[-1]
    logged = request_body()  # the emulator's log masks every credential property but the
    logged["credential"]["properties"]["secret"] = "***********"  # allow-listed ones
    assert (sent.method, sent.path, sent.json) == ("POST", "/v1/syncs", logged)
    assert emu._state.credentials[str(sync.credential_id)].properties["secret"] == SECRET
    assert isinstance(sync, Sync) and sync.id and sync.status == "active"
    assert sync.collection_ids == ["stripe:customer", "stripe:invoice"]
    assert sync.rate_limit == RateLimit(
        allowed_requests=100, interval=60, max_concurrent_requests=0
    )
    assert sync.credential is not None and sync.credential_id == sync.credential.id
    assert isinstance(sync.credential.properties["secret"], Secret)
    assert sync.credential.properties["secret"].get_secret_value() != SECRET  # masked upstream
    assert SECRET not in repr(sync) and not sync.is_dirty


def test_get_list_and_filters(client: sequin_orm.Client, seed_sync: Sync) -> None:
    assert client.syncs.get(seed_sync.id) == seed_sync
    everything = client.syncs.list()
    assert {s.provider for s in everything} == {"salesforce", "stripe", "hubspot"}
    assert [s.id for s in client.syncs.list(name=seed_sync.name)] == [seed_sync.id]
    assert [s.id for s in client.syncs.list(metadata={"custom_property": 42})] == [seed_sync.id]
    assert [s.id for s in client.syncs.list(stream_id=STREAM_ID)] == [seed_sync.id]
    assert {s.provider for s in client.syncs.list(provider="stripe")} == {"stripe"}
    assert client.syncs.list(metadata={"custom_property": 43}) == []


def test_save_patches_only_the_changed_fields(
    client: sequin_orm.Client, emu: Emulator, seed_sync: Sync
) -> None:
    before = _count(emu)
    seed_sync.save()
    assert _count(emu) == before  # nothing changed: no request
    seed_sync.name = "Choam Corp - Stripe (renamed)"
    seed_sync.collection_ids.append("stripe:subscription")
    seed_sync.max_age_days = 30
    assert seed_sync.save() is seed_sync
    sent = emu.requests[-1]
    assert (sent.method, sent.path) == ("PATCH", f"/v1/syncs/{seed_sync.id}")
    assert sent.json == {
        "name": "Choam Corp - Stripe (renamed)",
        "collection_ids": ["stripe:customer", "stripe:invoice", "stripe:subscription"],
        "max_age_days": 30,
    }
    assert not seed_sync.is_dirty
    assert client.syncs.get(seed_sync.id).max_age_days == 30


def test_enable_and_disable_keep_other_local_changes(
    client: sequin_orm.Client, emu: Emulator, seed_sync: Sync
) -> None:
    seed_sync.name = "unsaved"
    seed_sync.disable()
    assert emu.requests[-1].json == {"status": "disabled"}
    assert seed_sync.status == "disabled" and not seed_sync.is_active
    assert seed_sync.name == "unsaved" and seed_sync.changed_fields == {"name"}
    seed_sync.enable()
    assert client.syncs.get(seed_sync.id).status == "active"


def test_refresh_rereads_and_discards_local_changes(
    client: sequin_orm.Client, seed_sync: Sync
) -> None:
    client.syncs.update(seed_sync.id, name="changed elsewhere")
    seed_sync.metadata = {"local": True}
    seed_sync.refresh()
    assert seed_sync.name == "changed elsewhere" and seed_sync.metadata == {"custom_property": 42}
    assert not seed_sync.is_dirty


def test_delete(client: sequin_orm.Client, seed_sync: Sync) -> None:
    seed_sync.delete()
    with pytest.raises(NotFoundError) as caught:
        client.syncs.get(seed_sync.id)
    assert caught.value.status_code == 404
    seed_sync.name = "too late"
    with pytest.raises(ModelError, match="was deleted"):
        seed_sync.save()


def test_invalid_input_sends_nothing(client: sequin_orm.Client, emu: Emulator) -> None:
    before = _count(emu)
    with pytest.raises(ModelError):
        client.syncs.create(**{**request_body(), "sync_frequency": "1h"})
    with pytest.raises(ModelError):
        client.syncs.update("some-sync", credential_id="other")
    with pytest.raises(ModelError):
        client.syncs.get("")
    assert _count(emu) == before


def test_wrong_token_is_a_401(emu: Emulator) -> None:
    wrong = sequin_orm.Client("wrong-token", "http://127.0.0.1", transport=emu.transport())
    with pytest.raises(AuthenticationError) as caught:
        wrong.syncs.list()
    assert caught.value.status_code == 401 and "wrong-token" not in str(caught.value)


def test_unknown_sync_is_a_404(client: sequin_orm.Client) -> None:
    with pytest.raises(NotFoundError):
        client.syncs.get("5d6f0000-0000-4000-8000-00000000dead")
    with pytest.raises(NotFoundError):
        client.syncs.delete("5d6f0000-0000-4000-8000-00000000dead")


def test_server_validation_is_a_422_with_its_errors(client: sequin_orm.Client) -> None:
    body = {**request_body(), "stream_id": "no-such-stream", "collection_ids": ["stripe:nope"]}
    with pytest.raises(UnprocessableEntityError) as caught:
        client.syncs.create(**body)
    errors = caught.value.validation_errors
    assert set(errors) == {"stream_id", "collection_ids"}
    assert "stream_id" in str(caught.value) and SECRET not in str(caught.value)


def test_sync_objects_uses_the_default_client(emu: Emulator) -> None:
    sequin_orm.configure(emu.token, "http://127.0.0.1", transport=emu.transport())
    created = Sync.objects.create(**request_body())
    assert Sync.objects.get(created.id).name == created.name
    created.name = "via default"
    created.save()
    assert emu.requests[-1].json == {"name": "via default"}


# --- credentials and streams -----------------------------------------------------------------


def test_credentials_import_list_get_update(client: sequin_orm.Client, emu: Emulator) -> None:
    properties = {"kind": "stripe_key", "secret": "sk_test_import_1", "test": True}
    cred = client.credentials.create(properties, name="Imported", metadata={"team": "a"})
    assert emu.requests[-1].json == {
        "name": "Imported",
        "properties": {**properties, "secret": "***********"},  # the log masks secrets
        "metadata": {"team": "a"},
    }
    assert emu._state.credentials[str(cred.id)].properties == properties  # sent in clear
    assert isinstance(cred, Credential) and cred.provider == "stripe"
    assert "sk_test_import_1" not in repr(cred)
    assert client.credentials.get(str(cred.id)).name == "Imported"
    assert [c.id for c in client.credentials.list(metadata={"team": "a"})] == [cred.id]
    assert {c.provider for c in client.credentials.list(provider="stripe")} == {"stripe"}
    updated = client.credentials.update(str(cred.id), name="Renamed")
    assert emu.requests[-1].json == {"name": "Renamed"} and updated.name == "Renamed"


def test_a_sync_can_reuse_a_credential(client: sequin_orm.Client, emu: Emulator) -> None:
    cred = client.credentials.create({"kind": "stripe_key", "secret": "sk_test_reuse"})
    body = {**request_body(), "credential": None, "credential_id": cred.id}
    sync = client.syncs.create(**body)
    assert sync.credential_id == cred.id
    assert "credential" not in emu.requests[-1].json


def test_streams_create_and_list(client: sequin_orm.Client, emu: Emulator) -> None:
    stream = client.streams.create("staging")
    assert isinstance(stream, Stream) and stream.slug == "staging"
    assert "staging" in {s.slug for s in client.streams.list()}
    with pytest.raises(UnprocessableEntityError) as caught:
        client.streams.create("staging")
    assert "slug" in caught.value.validation_errors
