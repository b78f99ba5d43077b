"""Request bodies and client-side validation of syncs, credentials and streams (no I/O)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from sequin_orm.credentials import Credential, credential_create_body, credential_update_body
from sequin_orm.errors import ModelError, ReadOnlyFieldError
from sequin_orm.streams import stream_create_body
from sequin_orm.syncs import RateLimit, Sync, sync_create_body, sync_update_body
from sequin_orm.wire import decode

from .seed_example import SECRET, request_body, response_body


def _required(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "provider": "stripe",
        "stream_id": "st1",
        "name": "Stripe",
        "collection_ids": ["stripe:customer"],
        "credential_id": "cred1",
    }
    return {**base, **overrides}


def test_the_seed_example_body_is_sent_exactly() -> None:
    assert sync_create_body(**request_body()) == request_body()


def test_typed_arguments_give_the_same_body() -> None:
    seed = request_body()
    cred = seed["credential"]
    typed = {
        **seed,
        "rate_limit": RateLimit(allowed_requests=100, interval=60, max_concurrent_requests=0),
        "credential": Credential(
            properties=cred["properties"],
            oauth_app_id=cred["oauth_app_id"],
            metadata=cred["metadata"],
        ),
    }
    assert sync_create_body(**typed) == seed


def test_optional_none_arguments_are_left_out() -> None:
    assert sync_create_body(**_required()) == _required()


def _problems(**kwargs: Any) -> str:
    with pytest.raises(ModelError) as caught:
        sync_create_body(**kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"provider": ""}, "provider is required"),
        ({"stream_id": None}, "stream_id is required"),
        ({"name": "  "}, "name must be a non-empty string"),
        ({"collection_ids": []}, "collection_ids must be a non-empty list"),
        ({"collection_ids": "stripe:customer"}, "collection_ids must be a non-empty list"),
        ({"collection_ids": ["hubspot:contact"]}, "must look like 'stripe:<collection>'"),
        ({"collection_ids": ["customer"]}, "must look like 'stripe:<collection>'"),
        ({"collection_ids": [1]}, "collection_ids must hold strings"),
        ({"sync_frequency": "hourly"}, "sync_frequency must be 'continuous' or '4h'"),
        ({"max_age_days": -1}, "max_age_days must be a non-negative number"),
        ({"max_age_days": True}, "max_age_days must be a non-negative number"),
        ({"metadata": ["x"]}, "metadata must be a dict"),
        ({"metadata": {"when": datetime.date(2024, 1, 1)}}, "metadata must be JSON-serializable"),
        ({"external_id": 7}, "external_id must be a string"),
        ({"credential_id": None}, "credential or credential_id is required"),
        ({"credential": {"properties": {"kind": "k"}}}, "exactly one of them"),
        ({"credential_id": ""}, "credential_id must be a non-empty string"),
        ({"rate_limit": {"interval": "60"}}, "rate_limit.interval must be an integer"),
        ({"rate_limit": {"interval": -5}}, "rate_limit.interval must be >= 0"),
        ({"rate_limit": 100}, "rate_limit must be a RateLimit or a dict"),
    ],
)
def test_bad_input_is_refused_before_any_request(overrides: dict[str, Any], expected: str) -> None:
    assert expected in _problems(**_required(**overrides))


def test_every_problem_is_reported_at_once() -> None:
    message = _problems(
        provider="stripe",
        stream_id="",
        name="",
        collection_ids=["github:repository"],
        sync_frequency="daily",
    )
    for field in ("stream_id", "name", "collection_ids", "sync_frequency", "credential"):
        assert field in message


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        ({"properties": {}}, "non-empty dict"),
        ({"properties": {"secret": SECRET}}, "need a 'kind'"),
        ({"properties": "stripe_key"}, "Invalid credential"),
        ({"id": "c1", "properties": {"kind": "k"}}, "pass credential_id"),
        ({"properties": {"kind": "k"}, "metadata": 5}, "Invalid credential"),
        ("cred1", "must be a Credential or a dict"),
    ],
)
def test_bad_credentials(credential: Any, expected: str) -> None:
    message = _problems(**_required(credential_id=None, credential=credential))
    assert expected in message
    assert SECRET not in message


def test_a_loaded_credential_cannot_be_sent_again() -> None:
    loaded = decode(response_body(), Sync, method="GET", path="/").credential
    assert "pass credential_id" in _problems(**_required(credential_id=None, credential=loaded))


def test_credential_import_body() -> None:
    body = credential_create_body(
        {"kind": "stripe_key", "secret": SECRET}, name="Stripe", metadata={"a": 1}
    )
    assert body == {"name": "Stripe", "properties": {"kind": "stripe_key", "secret": SECRET}} | {
        "metadata": {"a": 1}
    }
    with pytest.raises(ModelError):
        credential_create_body({"secret": SECRET})
    with pytest.raises(ModelError):
        credential_create_body({"kind": "k"}, oauth_app_id=5)  # type: ignore[arg-type]


def test_credential_update_body_sends_only_what_is_given() -> None:
    assert credential_update_body(name="x") == {"name": "x"}
    assert credential_update_body(metadata=None) == {"metadata": None}
    with pytest.raises(ModelError, match="Nothing to update"):
        credential_update_body()
    with pytest.raises(ModelError):
        credential_update_body(name=3)


def test_stream_body() -> None:
    assert stream_create_body("dev") == {"slug": "dev"}
    with pytest.raises(ModelError):
        stream_create_body(" ")


# --- sync.save(): what would be PATCHed ------------------------------------------------------


def _loaded_sync() -> Sync:
    return decode(response_body(), Sync, method="GET", path="/")


def test_a_clean_sync_has_nothing_to_send() -> None:
    sync = _loaded_sync()
    assert sync_update_body(sync) == {} and sync.changed_fields == frozenset()


def test_only_changed_updatable_fields_are_sent() -> None:
    sync = _loaded_sync()
    sync.name = "Renamed"
    sync.metadata["team"] = "billing"
    sync.max_age_days = None
    sync.rate_limit = {"allowed_requests": 10, "interval": 1}  # type: ignore[assignment]
    assert sync_update_body(sync) == {
        "name": "Renamed",
        "metadata": {"custom_property": 42, "team": "billing"},
        "max_age_days": None,
        "rate_limit": {"allowed_requests": 10, "interval": 1},
    }
    assert isinstance(sync.rate_limit, RateLimit)


@pytest.mark.parametrize("field", ["credential", "provider", "stream_id", "credential_id", "id"])
def test_assigning_a_field_the_api_cannot_update_raises(field: str) -> None:
    sync = _loaded_sync()
    with pytest.raises(ReadOnlyFieldError, match=field):
        setattr(sync, field, "other")


def test_changing_the_credential_in_place_raises_on_save() -> None:
    sync = _loaded_sync()
    assert sync.credential is not None
    sync.credential.properties["secret"] = "sk_live_new"
    with pytest.raises(ModelError, match="credential"):
        sync_update_body(sync)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "", "name must be a non-empty string"),
        ("collection_ids", ["salesforce:contact"], "must look like 'stripe:<collection>'"),
        ("status", "paused", "status must be 'active' or 'disabled'"),
        ("sync_frequency", None, "sync_frequency must be"),
        ("max_age_days", "1y", "max_age_days must be"),
    ],
)
def test_bad_updates_are_refused_before_any_request(field: str, value: Any, expected: str) -> None:
    sync = _loaded_sync()
    setattr(sync, field, value)
    with pytest.raises(ModelError, match=expected):
        sync_update_body(sync)
