"""Responses -> typed objects: the documented shapes and their sloppy variants (no I/O)."""

from __future__ import annotations

import datetime

import pytest

from sequin_orm.credentials import Credential, Health
from sequin_orm.errors import APIResponseValidationError
from sequin_orm.secrets import Secret
from sequin_orm.streams import Stream
from sequin_orm.syncs import RateLimit, Sync
from sequin_orm.wire import decode, decode_list, parse_timestamp, unwrap, unwrap_list

from .seed_example import response_body

UTC = datetime.timezone.utc


def _sync(payload: object) -> Sync:
    return decode(payload, Sync, method="GET", path="/v1/syncs/x")


def test_the_documented_sync_response_becomes_a_typed_sync() -> None:
    sync = _sync(response_body())
    assert sync.id == "c906b4a4-0cda-4f46-bd80-255f570c195d"
    assert sync.rate_limit == RateLimit(
        allowed_requests=1000, interval=60, max_concurrent_requests=0
    )
    assert sync.health == Health(status="healthy", sync_id=sync.id)
    assert sync.credential is not None and sync.credential.id == sync.credential_id
    assert sync.credential.properties["secret"] == Secret("***********")
    assert sync.created_at == datetime.datetime(2023, 12, 15, 1, 29, 29, tzinfo=UTC)
    assert sync.max_age_days == 365 and sync.sync_frequency == "continuous"
    assert sync.extra == {} and not sync.is_dirty


def test_wrapped_and_bare_responses_read_the_same() -> None:
    assert _sync({"data": response_body()}) == _sync(response_body())
    assert _sync({"data": [response_body()]}) == _sync(response_body())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-12-15 01:29:29", datetime.datetime(2023, 12, 15, 1, 29, 29, tzinfo=UTC)),
        ("2024-02-20T02:10:52Z", datetime.datetime(2024, 2, 20, 2, 10, 52, tzinfo=UTC)),
        (
            "2024-11-10T18:39:00.070453Z",
            datetime.datetime(2024, 11, 10, 18, 39, 0, 70453, tzinfo=UTC),
        ),
        (
            "2024-01-01T10:00:00.000+0000",
            datetime.datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
        ),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_with_and_without_t_and_z(
    text: str | None, expected: datetime.datetime | None
) -> None:
    assert parse_timestamp(text) == expected


def test_an_unparseable_timestamp_is_kept_in_extra() -> None:
    sync = _sync({"id": "s1", "updated_at": "soon", "created_at": "2024-02-20T02:10:52Z"})
    assert sync.updated_at is None and sync.extra == {"updated_at": "soon"}
    assert sync.created_at == datetime.datetime(2024, 2, 20, 2, 10, 52, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"status": "healthy", "sync_id": "s1"}, Health(status="healthy", sync_id="s1")),
        (
            {
                "status": "warn",
                "credential": {"status": "ok", "notes": [], "time": "2024-02-20T02:10:52Z"},
                "provider": {"status": "warn", "notes": ["Rate limited"]},
            },
            Health(
                status="warn",
                credential=Health(
                    status="ok", time=datetime.datetime(2024, 2, 20, 2, 10, 52, tzinfo=UTC)
                ),
                provider=Health(status="warn", notes=["Rate limited"]),
            ),
        ),
        (
            {"status": "error", "notes": ["Token revoked"], "time": "2023-12-15 01:29:29"},
            Health(
                status="error",
                notes=["Token revoked"],
                time=datetime.datetime(2023, 12, 15, 1, 29, 29, tzinfo=UTC),
            ),
        ),
    ],
)
def test_every_documented_health_shape(payload: dict[str, object], expected: Health) -> None:
    assert _sync({"id": "s1", "health": payload}).health == expected


def test_health_ok_statuses() -> None:
    assert Health(status="healthy").is_ok and Health(status="ok").is_ok
    assert not Health(status="warn").is_ok and not Health().is_ok


def test_unknown_keys_are_kept_at_every_level() -> None:
    payload = {
        **response_body(),
        "paused_until": None,
        "rate_limit": {"allowed_requests": 5, "interval": 1, "burst": 9},
        "health": {"status": "ok", "score": 0.9},
    }
    sync = _sync(payload)
    assert sync.extra == {"paused_until": None}
    assert sync.rate_limit is not None and sync.rate_limit.extra == {"burst": 9}
    assert sync.health is not None and sync.health.extra == {"score": 0.9}


def test_null_lists_and_dicts_mean_empty() -> None:
    sync = _sync({"id": "s1", "collection_ids": None, "metadata": None, "rate_limit": None})
    assert (sync.collection_ids, sync.metadata, sync.rate_limit) == ([], {}, None)


def test_secret_keys_in_extra_are_wrapped_too() -> None:
    sync = _sync({"id": "s1", "webhook_secret": "whsec_123"})
    assert sync.extra["webhook_secret"] == Secret("whsec_123")
    assert "whsec_123" not in repr(sync)


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "no id"},
        {"id": "s1", "collection_ids": "stripe:customer"},
        {"id": "s1", "metadata": ["not", "a", "dict"]},
        {"id": "s1", "max_age_days": "forever"},
        {"id": {"nested": True}},
        "not an object",
    ],
)
def test_malformed_responses_raise_a_typed_error(payload: object) -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        _sync(payload)
    assert caught.value.method == "GET" and caught.value.path == "/v1/syncs/x"
    assert "Sync" in str(caught.value)


def test_validation_messages_name_the_path_not_the_value() -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        _sync({"id": "s1", "max_age_days": "sk_live_do_not_print"})
    assert "max_age_days" in str(caught.value)
    assert "sk_live_do_not_print" not in str(caught.value)


def test_lists_wrapped_or_bare() -> None:
    items = [{"id": "a", "slug": "dev"}, {"id": "b", "slug": "prod"}]
    for payload in ({"data": items}, items):
        streams = decode_list(payload, Stream, method="GET", path="/v1/streams")
        assert [s.slug for s in streams] == ["dev", "prod"]
    with pytest.raises(APIResponseValidationError):
        decode_list({"items": items}, Stream, method="GET", path="/v1/streams")


def test_unwrap_leaves_objects_that_merely_have_a_data_key() -> None:
    record = {"id": "r1", "data": {"Name": "x"}}
    assert unwrap(record) is record
    assert unwrap({"data": record}) is record
    assert unwrap_list({"data": "nope"}) is None


def test_credential_kind_from_either_place() -> None:
    top = decode({"id": "c", "kind": "stripe_key"}, Credential, method="GET", path="/")
    nested = decode(
        {"id": "c", "properties": {"kind": "salesforce"}}, Credential, method="GET", path="/"
    )
    assert (top.credential_kind, nested.credential_kind) == ("stripe_key", "salesforce")
