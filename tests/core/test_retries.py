"""Retries (design §3): safe cases only, Retry-After honoured and capped, creates never re-sent."""

from __future__ import annotations

import httpx
import pytest

import sequin_orm
from sequin_orm import Session, State
from sequin_orm.config import RetryPolicy
from sequin_orm.errors import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    UpstreamTimeoutError,
)
from sequin_orm.models import salesforce
from sequin_orm.retry import Safety, parse_retry_after, retry_delay

from .fakeapi import FakeAPI, error

GATEWAY = {"error": "Bad gateway", "docs": []}
TIMED_OUT = {"error": "Error: Salesforce API timed out", "docs": []}


def _persistent() -> salesforce.Contact:
    return salesforce.Contact.from_record(
        {"upstream_id": "0031U00000Qn2ZVQAZ", "sync_id": "sync-sf", "data": {"LastName": "A"}}
    )


def test_429_with_retry_after_is_waited_for_then_retried() -> None:
    api = FakeAPI(error(429, {"summary": "slow down"}, {"Retry-After": "3"}))
    client = api.client()
    waits: list[float] = []
    client.http.sleep = waits.append
    contact = salesforce.Contact(LastName="Atreides")
    with Session(client):
        contact.save()
    assert api.kinds() == ["create", "create"]
    assert waits == [3.0]
    assert contact.upstream_id is not None


def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    api = FakeAPI(error(429, {"summary": "slow down"}, {"Retry-After": "3600"}))
    sequin_orm.configure("tok", syncs={"salesforce": "sync-sf"}, transport=httpx.MockTransport(api))
    contact = salesforce.Contact(LastName="Atreides")
    with pytest.raises(RateLimitError) as raised:
        contact.save()
    assert raised.value.retry_after == 3600
    assert contact.is_new and api.kinds() == ["create"]


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_retried_for_updates(status: int) -> None:
    api = FakeAPI(error(status, GATEWAY))
    contact = _persistent()
    contact.Email = "a@b.org"
    session = Session(api.client())
    session.add(contact)
    result = session.commit()
    assert api.kinds() == ["update", "update"]
    assert result.updated == [contact] and not contact.is_dirty


@pytest.mark.parametrize(
    ("reply", "exc"),
    [
        (error(502, GATEWAY), InternalServerError),
        (error(504, TIMED_OUT), UpstreamTimeoutError),
        (error(500, {"summary": "Try again later"}), InternalServerError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.RemoteProtocolError("Server disconnected"), APIConnectionError),
    ],
)
def test_a_create_with_unknown_outcome_is_never_resent(reply: object, exc: type) -> None:
    api = FakeAPI(reply)  # type: ignore[arg-type]
    contact = salesforce.Contact(LastName="Atreides")
    session = Session(api.client())
    session.add(contact)
    result = session.flush()
    assert api.kinds() == ["create"]
    assert isinstance(result.errors[0], exc)
    assert result.unknown == [contact] and contact.state is State.UNKNOWN
    assert session.flush().requests_sent == 0  # nothing re-sent by a later commit


def test_connect_errors_and_503_are_retried_even_for_creates() -> None:
    api = FakeAPI(httpx.ConnectError("refused"), error(503, {"summary": "unavailable"}))
    contact = salesforce.Contact(LastName="Atreides")
    session = Session(api.client())
    session.add(contact)
    session.commit()
    assert api.kinds() == ["create"] * 3
    assert contact.state is State.PERSISTENT


def test_retries_stop_after_max_retries_and_leave_updates_dirty() -> None:
    api = FakeAPI(*[error(503, {"summary": "unavailable"})] * 5)
    contact = _persistent()
    contact.Email = "a@b.org"
    session = Session(api.client(max_retries=1))
    session.add(contact)
    result = session.flush()
    assert api.kinds() == ["update", "update"]
    assert result.failed == [contact] and contact.changed_fields == {"Email"}


def test_awaiting_consumers_extends_the_read_timeout() -> None:
    api = FakeAPI()
    contact = salesforce.Contact(LastName="Atreides")
    with Session(api.client(timeout=10)):
        contact.save(await_consumer_ids=["c-1"], await_consumers_timeout=45_000)
    assert api.bodies[0]["await_consumer_ids"] == ["c-1"]
    assert api.bodies[0]["await_consumers_timeout"] == 45_000
    assert api.read_timeouts == [10 + 45]


def test_retry_delay_policy_table() -> None:
    policy = RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=8, deadline=10)
    rate_limited = RateLimitError("x", status_code=429, method="POST", path="/p")
    assert (
        retry_delay(
            rate_limited,
            Safety.NOT_IDEMPOTENT,
            policy=policy,
            retries_done=0,
            elapsed=0,
            jitter=1.0,
        )
        == 0.5
    )
    assert (
        retry_delay(
            rate_limited,
            Safety.NOT_IDEMPOTENT,
            policy=policy,
            retries_done=2,
            elapsed=0,
            jitter=0.0,
        )
        == 1.5
    )
    assert (
        retry_delay(
            rate_limited,
            Safety.NOT_IDEMPOTENT,
            policy=policy,
            retries_done=3,
            elapsed=0,
            jitter=0.0,
        )
        is None
    )
    assert (
        retry_delay(
            rate_limited,
            Safety.NOT_IDEMPOTENT,
            policy=policy,
            retries_done=0,
            elapsed=9.9,
            jitter=1.0,
        )
        is None
    )  # past the deadline
    sent = APIConnectionError("lost", method="POST", path="/p", request_sent=True)
    assert (
        retry_delay(
            sent, Safety.NOT_IDEMPOTENT, policy=policy, retries_done=0, elapsed=0, jitter=0.0
        )
        is None
    )
    assert (
        retry_delay(sent, Safety.IDEMPOTENT, policy=policy, retries_done=0, elapsed=0, jitter=0.0)
        == 0.375
    )


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
