"""HTTP consumers: receive, ack/nack, stream, management — against the emulator (both front
doors, via ``tests/conftest.py``) and a scripted transport for the response shapes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import Session
from sequin_orm.consumers import (
    Consumer,
    ConsumerManager,
    HttpConsumer,
    Message,
    consumer_create_body,
    consumer_update_body,
    next_body,
)
from sequin_orm.emulator import Emulator
from sequin_orm.errors import APIResponseValidationError, ModelError, NotFoundError
from sequin_orm.models import salesforce
from sequin_orm.registry import DynamicModel

SF = "sync-sf"


@pytest.fixture
def consumer_id(emulator: Emulator) -> str:
    """A consumer of Salesforce contacts on the emulator's stream."""
    return str(
        emulator.create_consumer(
            id="consumer-1", ack_wait_ms=60_000, filters={"collection_id": "salesforce:contact"}
        )["id"]
    )


@pytest.fixture
def consumer(client: sequin_orm.Client, consumer_id: str) -> Consumer:
    return Consumer(consumer_id, client=client)


def _contacts(emulator: Emulator, count: int) -> list[str]:
    return [
        str(
            emulator.create_record(
                SF, "salesforce:contact", {"FirstName": f"C{i}", "LastName": "Atreides"}
            )["upstream_id"]
        )
        for i in range(count)
    ]


def _upstream_ids(messages: list[Message]) -> list[str | None]:
    return [m.record_as(salesforce.Contact).upstream_id for m in messages]


def _consume_calls(emulator: Emulator, action: str) -> list[Any]:
    return [r.json for r in emulator.requests if r.path.endswith(f"/{action}")]


def test_receive_gives_typed_records(consumer: Consumer, emulator: Emulator) -> None:
    ids = _contacts(emulator, 3)
    batch = consumer.receive_batch(batch_size=2)
    assert _consume_calls(emulator, "next") == [{"batch_size": 2, "wait_for": 0}]
    assert len(batch.messages) == 2 and batch.num_pending == 1
    message = batch.messages[0]
    contact = message.record_as(salesforce.Contact)
    assert (contact.upstream_id, contact.FirstName, contact.sync_id) == (ids[0], "C0", SF)
    assert not contact.is_dirty and message.raw["ack_token"] == message.ack_token
    assert message.event is None and message.settled is None
    with pytest.raises(ModelError):
        message.record_as(salesforce.Account)


def test_ack_and_nack(consumer: Consumer, emulator: Emulator) -> None:
    _contacts(emulator, 2)
    first, second = consumer.receive(batch_size=2)
    first.ack()
    second.nack()
    first.ack()  # already settled: no second request
    assert (first.settled, second.settled) == ("acked", "nacked")
    assert _consume_calls(emulator, "ack") == [{"ack_tokens": [first.ack_token]}]
    assert _consume_calls(emulator, "nack") == [{"ack_tokens": [second.ack_token]}]
    (again,) = consumer.receive(batch_size=10)  # the nacked one comes back at once
    assert _upstream_ids([again]) == _upstream_ids([second])


def test_ack_all_is_one_request(consumer: Consumer, emulator: Emulator) -> None:
    _contacts(emulator, 3)
    messages = consumer.receive(batch_size=3)
    consumer.ack_all(messages)
    consumer.ack_all(messages)
    consumer.nack_all([])
    assert _consume_calls(emulator, "ack") == [{"ack_tokens": [m.ack_token for m in messages]}]
    assert _consume_calls(emulator, "nack") == []
    assert consumer.receive() == []


def test_stream_acks_each_message_once_the_body_is_done(
    consumer: Consumer, emulator: Emulator
) -> None:
    ids = _contacts(emulator, 5)
    seen = []
    for message in consumer.stream(batch_size=2, wait_for=0, stop_when_empty=True):
        assert message.settled is None
        seen.append(message)
    assert _upstream_ids(seen) == ids
    assert [m.settled for m in seen] == ["acked"] * 5
    assert len(_consume_calls(emulator, "ack")) == 5
    assert consumer.receive() == []


def test_stream_nacks_the_message_whose_body_raised(consumer: Consumer, emulator: Emulator) -> None:
    ids = _contacts(emulator, 3)
    handled: list[Message] = []
    with pytest.raises(RuntimeError, match="boom"), consumer.stream(batch_size=3) as messages:
        for message in messages:
            handled.append(message)
            if len(handled) == 2:
                raise RuntimeError("boom")
    assert [m.settled for m in handled] == ["acked", "nacked"]
    nacked = _consume_calls(emulator, "nack")
    assert len(nacked) == 1 and len(nacked[0]["ack_tokens"]) == 2  # the failed one + the rest
    redelivered = consumer.receive(batch_size=10)
    assert _upstream_ids(redelivered) == ids[1:]


def test_break_inside_with_acks_the_current_message(consumer: Consumer, emulator: Emulator) -> None:
    ids = _contacts(emulator, 3)
    handled: list[Message] = []
    with consumer.stream(batch_size=3) as messages:
        for message in messages:
            handled.append(message)
            break
    assert [m.settled for m in handled] == ["acked"]
    assert _upstream_ids(consumer.receive(batch_size=10)) == ids[1:]


def test_messages_join_the_current_session(
    client: sequin_orm.Client, consumer: Consumer, emulator: Emulator
) -> None:
    _contacts(emulator, 1)
    with Session(client):
        (loaded,) = salesforce.Contact.objects.using(client).iter()
        (message,) = consumer.receive()
        assert message.record is loaded


def test_a_collection_without_a_model_gives_a_dynamic_record(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    emulator.create_sync("airtable", ["airtable:tblGuilds"], id="at-sync")
    consumer = Consumer(str(emulator.create_consumer(id="all")["id"]), client=client)
    emulator.create_record("at-sync", "airtable:tblGuilds", {"fields": {"Name": "Spacing"}})
    (message,) = consumer.receive()
    assert isinstance(message.record, DynamicModel)
    assert message.record.collection_id == "airtable:tblGuilds"
    assert message.record["Name"] == "Spacing"  # Airtable keeps values under data.fields
    assert message.record.extra == {"fields": {"Name": "Spacing"}, **_airtable_system(message)}


def test_read_your_writes(client: sequin_orm.Client, emulator: Emulator, consumer_id: str) -> None:
    """A worker mirrors contacts into a local store; a save that awaits it is then readable."""
    local: dict[str, str | None] = {}
    stop = threading.Event()

    def work() -> None:
        worker = sequin_orm.Client(
            emulator.token, "http://127.0.0.1", transport=emulator.transport()
        )
        with worker, Consumer(consumer_id, client=worker).stream(wait_for=200) as messages:
            for message in messages:
                contact = message.record_as(salesforce.Contact)
                local[str(contact.upstream_id)] = contact.Email
                if stop.is_set():
                    break

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        contact = salesforce.Contact(LastName="Idaho", Email="duncan@ginaz.org")
        with Session(client, sync_id=SF) as session:
            session.add(contact)
            session.commit(await_consumer_ids=[consumer_id], await_consumers_timeout=5_000)
        assert local[str(contact.upstream_id)] == "duncan@ginaz.org"
    finally:
        stop.set()
        emulator.create_record(SF, "salesforce:contact", {"LastName": "wake-up"})
        thread.join(timeout=5)
    assert not thread.is_alive()


# --- management ------------------------------------------------------------------------------


def test_manage_http_consumers(client: sequin_orm.Client, emulator: Emulator) -> None:
    manager = ConsumerManager(client)
    stream_id = str(emulator.create_stream("reads")["id"])
    created = manager.create(
        stream_id,
        name="mirror",
        ack_wait_ms=10_000,
        filters={"collection_id": "salesforce:contact"},
        metadata={"team": "crm"},
    )
    assert emulator.requests[-1].json == {
        "stream_id": stream_id,
        "name": "mirror",
        "ack_wait_ms": 10_000,
        "filters": {"collection_id": "salesforce:contact"},
        "metadata": {"team": "crm"},
    }
    assert isinstance(created, HttpConsumer) and created.ack_wait_ms == 10_000
    assert manager.get(created.id) == created
    assert [c.id for c in manager.list(metadata={"team": "crm"})] == [created.id]
    updated = manager.update(created.id, max_ack_pending=5, deliver_policy="new")
    assert emulator.requests[-1].json == {"deliver_policy": "new", "max_ack_pending": 5}
    assert (updated.max_ack_pending, updated.deliver_policy) == (5, "new")
    assert created.consumer().receive() == []
    manager.delete(created.id)
    with pytest.raises(NotFoundError):
        manager.get(created.id)


def test_consumer_objects_uses_the_default_client(emulator: Emulator, consumer_id: str) -> None:
    sequin_orm.configure(emulator.token, "http://127.0.0.1", transport=emulator.transport())
    assert Consumer.objects.get(consumer_id).id == consumer_id
    assert Consumer(consumer_id).receive() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stream_id": ""}, "stream_id is required"),
        ({"deliver_policy": "sometimes"}, "deliver_policy must be one of"),
        ({"ack_wait_ms": 0}, "ack_wait_ms must be an integer >= 1"),
        ({"max_deliver": 0}, "max_deliver must be an integer >= 1 (or -1)"),
        ({"max_ack_pending": "5"}, "max_ack_pending must be an integer"),
        ({"filters": {"collection_id": 3}}, "filters must map keys to strings"),
    ],
)
def test_bad_consumer_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        consumer_create_body(**{"stream_id": "st", **kwargs})


def test_consumer_update_body() -> None:
    assert consumer_update_body(max_deliver=-1, name=None) == {"max_deliver": -1}
    with pytest.raises(ModelError, match="stream_id cannot be updated"):
        consumer_update_body(stream_id="other")
    with pytest.raises(ModelError, match="nothing to update"):
        consumer_update_body()


def test_receive_parameters_are_checked_before_sending(emulator: Emulator) -> None:
    quick = sequin_orm.Client(emulator.token, "http://127.0.0.1", timeout=10.0)
    consumer = Consumer("c", client=quick)
    for bad in ({"batch_size": 0}, {"wait_for": -1}):
        with pytest.raises(ModelError):
            consumer.receive(**bad)
    with pytest.raises(ModelError):
        consumer.stream(wait_for=-5)
    with pytest.raises(ModelError):
        Consumer("")
    assert next_body(5, 8_000) == {"batch_size": 5, "wait_for": 8_000}
    assert emulator.requests == []


def test_a_long_poll_extends_the_read_timeout() -> None:
    read_timeouts: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        read_timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json={"data": [], "info": {"num_pending": 0}})

    client = sequin_orm.Client(
        "t", "https://api.sequin.io", timeout=10.0, transport=httpx.MockTransport(handle)
    )
    assert Consumer("c", client=client).receive(batch_size=5, wait_for=60_000) == []
    assert read_timeouts == [10.0 + 60.0]


# --- both documented /next shapes, from a scripted server ------------------------------------

RECORD = {
    "collection_id": "salesforce:contact",
    "upstream_id": "0031U00000Qn2ZVQAZ",
    "sync_id": "my-sync-id",
    "resource_id": "ignored-but-kept",
    "data": {"FirstName": "Paul", "LastName": "Atreides"},
}


def _scripted(*answers: Any) -> tuple[Consumer, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    replies: Iterator[Any] = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(replies)
        return httpx.Response(204) if answer is None else httpx.Response(200, json=answer)

    client = sequin_orm.Client("t", "http://127.0.0.1", transport=httpx.MockTransport(handle))
    return Consumer("my-consumer-id", client=client), seen


@pytest.mark.parametrize(
    "answer",
    [
        {"data": [{"ack_token": "MTIz", "record": RECORD}], "info": {"num_pending": 0}},
        [{"ack_token": "MTIz", "record": RECORD}],
    ],
)
def test_both_next_shapes(answer: Any) -> None:
    consumer, seen = _scripted(answer, None)
    (message,) = consumer.receive(batch_size=10, wait_for=1_000)
    assert seen[0].method == "POST" and seen[0].url.path == "/v1/http-consumers/my-consumer-id/next"
    assert json.loads(seen[0].content) == {"batch_size": 10, "wait_for": 1_000}
    contact = message.record_as(salesforce.Contact)
    assert (contact.upstream_id, contact.sync_id, contact.FirstName) == (
        "0031U00000Qn2ZVQAZ",
        "my-sync-id",
        "Paul",
    )
    assert contact.extra == {} and message.raw["record"]["resource_id"] == "ignored-but-kept"
    message.ack()
    assert json.loads(seen[1].content) == {"ack_tokens": ["MTIz"]}


def test_event_messages_have_no_record() -> None:
    event = {"collection_id": "salesforce:contact", "event": "updated", "data": {}}
    consumer, _ = _scripted({"data": [{"ack_token": "t", "event": event}]})
    (message,) = consumer.receive()
    assert message.record is None and message.event == event


@pytest.mark.parametrize(
    "answer",
    [{"data": "x"}, {"data": [{"record": RECORD}]}, {"data": [], "info": "x"}, "nope"],
)
def test_malformed_next_responses(answer: Any) -> None:
    consumer, _ = _scripted(answer)
    with pytest.raises(APIResponseValidationError):
        consumer.receive()


def _airtable_system(message: Message) -> dict[str, Any]:
    data = message.raw["record"]["data"]
    return {"id": data["id"], "createdTime": data["createdTime"]}
