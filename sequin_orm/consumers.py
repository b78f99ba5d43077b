"""HTTP (pull) consumers: read a stream message by message, ack or nack each.

::

    consumer = Consumer("my-consumer-id")
    with consumer.stream(batch_size=50) as messages:     # acks each message the body finishes,
        for message in messages:                         # nacks the one it raised on
            handle(message.record)

Delivery is at-least-once: a message not acked within the consumer's ``ack_wait_ms`` comes
again. Deduplicate with ``record.updated_idx``.

``Consumer.objects`` (``ConsumerManager``) manages the consumers themselves
(``/v1/http-consumers``), returning ``HttpConsumer`` objects.
"""

from __future__ import annotations

import datetime
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import attrs

from sequin_orm.credentials import Health, metadata_contains
from sequin_orm.errors import APIResponseValidationError, ModelError, SequinError
from sequin_orm.model import Model
from sequin_orm.reading import load_record
from sequin_orm.registry import model_for
from sequin_orm.requestor import ClientBound, HasRequestor
from sequin_orm.retry import Safety
from sequin_orm.wire import (
    ClassManager,
    decode,
    decode_list,
    encode_query_json,
    path_segment,
)

__all__ = [
    "DELIVER_POLICIES",
    "Consumer",
    "ConsumerManager",
    "HttpConsumer",
    "Message",
    "MessageBatch",
    "MessageStream",
    "consumer_create_body",
    "consumer_update_body",
    "next_body",
    "parse_next",
]

logger = logging.getLogger("sequin_orm")

CONSUMERS_PATH = "/v1/http-consumers"
DELIVER_POLICIES = ("all", "new", "last", "1h")
DEFAULT_BATCH_SIZE = 10
DEFAULT_STREAM_WAIT_MS = 5_000
_M = TypeVar("_M", bound=Model)


# --- management: /v1/http-consumers ----------------------------------------------------------


@attrs.define(kw_only=True)
class HttpConsumer:
    """An HTTP consumer as the Management API describes it.

    ``filters`` select records (``{"collection_id": "salesforce:contact"}``, ``"*"`` for any).
    The list example in the docs says ``ack_wait`` instead of ``ack_wait_ms``; such keys stay
    in ``extra``.
    """

    id: str
    stream_id: str | None = None
    name: str | None = None
    deliver_policy: str | None = None
    ack_wait_ms: int | None = None
    max_deliver: int | None = None
    max_ack_pending: int | None = None
    filters: dict[str, Any] = attrs.Factory(dict)
    health: Health | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.Factory(dict)

    _client: HasRequestor | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def consumer(self) -> Consumer:
        """A ``Consumer`` to receive this consumer's messages (no request)."""
        return Consumer(self.id, client=self._client)


def _check_int(problems: list[str], name: str, value: Any, minimum: int, allow: int | None) -> None:
    if value is None:
        return
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or (value < minimum and value != allow):
        extra = f" (or {allow})" if allow is not None else ""
        problems.append(f"{name} must be an integer >= {minimum}{extra}")


def _check_settings(problems: list[str], values: Mapping[str, Any]) -> None:
    policy = values.get("deliver_policy")
    if policy is not None and policy not in DELIVER_POLICIES:
        problems.append("deliver_policy must be one of " + ", ".join(DELIVER_POLICIES))
    _check_int(problems, "ack_wait_ms", values.get("ack_wait_ms"), 1, None)
    _check_int(problems, "max_deliver", values.get("max_deliver"), 1, -1)
    _check_int(problems, "max_ack_pending", values.get("max_ack_pending"), 1, None)


def _raise(problems: list[str], what: str) -> None:
    if problems:
        raise ModelError(f"Invalid {what}: " + "; ".join(problems))


def consumer_create_body(
    stream_id: str,
    *,
    name: str | None = None,
    deliver_policy: str | None = None,
    ack_wait_ms: int | None = None,
    max_deliver: int | None = None,
    max_ack_pending: int | None = None,
    filters: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of ``POST /v1/http-consumers`` (``None`` left out), or ModelError."""
    values: dict[str, Any] = {
        "stream_id": stream_id,
        "name": name,
        "deliver_policy": deliver_policy,
        "ack_wait_ms": ack_wait_ms,
        "max_deliver": max_deliver,
        "max_ack_pending": max_ack_pending,
        "filters": None if filters is None else dict(filters),
        "metadata": None if metadata is None else dict(metadata),
    }
    problems: list[str] = []
    if not isinstance(stream_id, str) or not stream_id.strip():
        problems.append("stream_id is required (a non-empty string)")
    if name is not None and not isinstance(name, str):
        problems.append("name must be a string")
    if filters is not None and not all(isinstance(v, str) for v in filters.values()):
        problems.append("filters must map keys to strings ('*' for any)")
    _check_settings(problems, values)
    _raise(problems, "consumer")
    return {k: v for k, v in values.items() if v is not None}


_UPDATABLE = ("deliver_policy", "ack_wait_ms", "max_deliver", "max_ack_pending", "name", "metadata")


def consumer_update_body(**changes: Any) -> dict[str, Any]:
    """The body of ``PATCH /v1/http-consumers/{id}`` (``None`` values left out).

    The docs list the delivery settings (``deliver_policy``, ``ack_wait_ms``, ``max_deliver``,
    ``max_ack_pending``); ``name`` and ``metadata`` are accepted too, as on create. The
    ``stream_id`` cannot change.
    """
    unknown = sorted(set(changes) - set(_UPDATABLE))
    problems = [f"{name} cannot be updated" for name in unknown]
    body = {k: v for k, v in changes.items() if v is not None}
    if not body and not unknown:
        problems.append("nothing to update")
    if "name" in body and not isinstance(body["name"], str):
        problems.append("name must be a string")
    if "metadata" in body:
        if isinstance(body["metadata"], Mapping):
            body["metadata"] = dict(body["metadata"])
        else:
            problems.append("metadata must be a dict")
    _check_settings(problems, body)
    _raise(problems, "consumer update")
    return body


class ConsumerManager(ClientBound):
    """``/v1/http-consumers``: create, get, list, update and delete. Each method hits the
    network."""

    def create(
        self,
        stream_id: str,
        *,
        name: str | None = None,
        deliver_policy: str | None = None,
        ack_wait_ms: int | None = None,
        max_deliver: int | None = None,
        max_ack_pending: int | None = None,
        filters: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> HttpConsumer:
        """``POST /v1/http-consumers``; validated first; never retried once sent."""
        body = consumer_create_body(
            stream_id,
            name=name,
            deliver_policy=deliver_policy,
            ack_wait_ms=ack_wait_ms,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
            filters=filters,
            metadata=metadata,
        )
        payload = self.requestor.http.request(
            "POST", CONSUMERS_PATH, json_body=body, safety=Safety.NOT_IDEMPOTENT
        )
        return self._bind(decode(payload, HttpConsumer, method="POST", path=CONSUMERS_PATH))

    def get(self, consumer_id: str) -> HttpConsumer:
        """``GET /v1/http-consumers/{id}``; ``NotFoundError`` when there is none."""
        path = _consumer_path(consumer_id)
        payload = self.requestor.http.request("GET", path)
        return self._bind(decode(payload, HttpConsumer, method="GET", path=path))

    def list(self, *, metadata: Mapping[str, Any] | None = None) -> list[HttpConsumer]:
        """``GET /v1/http-consumers``, optionally filtered by ``metadata``."""
        params = None if metadata is None else {"metadata": encode_query_json(metadata)}
        payload = self.requestor.http.request("GET", CONSUMERS_PATH, params=params)
        found = decode_list(payload, HttpConsumer, method="GET", path=CONSUMERS_PATH)
        return [
            self._bind(c)
            for c in found
            if metadata is None or metadata_contains(c.metadata, metadata)
        ]

    def update(
        self,
        consumer_id: str,
        *,
        deliver_policy: str | None = None,
        ack_wait_ms: int | None = None,
        max_deliver: int | None = None,
        max_ack_pending: int | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> HttpConsumer:
        """``PATCH /v1/http-consumers/{id}``. A new ``deliver_policy`` may replay records."""
        body = consumer_update_body(
            deliver_policy=deliver_policy,
            ack_wait_ms=ack_wait_ms,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
            name=name,
            metadata=metadata,
        )
        path = _consumer_path(consumer_id)
        payload = self.requestor.http.request(
            "PATCH", path, json_body=body, safety=Safety.IDEMPOTENT
        )
        return self._bind(decode(payload, HttpConsumer, method="PATCH", path=path))

    def delete(self, consumer_id: str) -> None:
        """``DELETE /v1/http-consumers/{id}``."""
        self.requestor.http.request("DELETE", _consumer_path(consumer_id), safety=Safety.IDEMPOTENT)

    def _bind(self, consumer: HttpConsumer) -> HttpConsumer:
        object.__setattr__(consumer, "_client", self._bound)
        return consumer


def _consumer_path(consumer_id: str, action: str = "") -> str:
    path = f"{CONSUMERS_PATH}/{path_segment(consumer_id, 'consumer_id')}"
    return f"{path}/{action}" if action else path


# --- the Consume API: next, ack, nack (pure parts) -------------------------------------------


def next_body(batch_size: int, wait_for: int) -> dict[str, int]:
    """The JSON body of ``POST …/next``, or ModelError.

    ``wait_for`` is a long poll in milliseconds; the request's read timeout grows by it.
    """
    problems: list[str] = []
    _check_int(problems, "batch_size", batch_size, 1, None)
    _check_int(problems, "wait_for", wait_for, 0, None)
    _raise(problems, "receive()")
    return {"batch_size": batch_size, "wait_for": wait_for}


def parse_next(payload: Any, path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages and ``info`` of a ``/next`` response.

    Both documented shapes are read: ``{"data": [...], "info": {...}}`` and a bare array.
    """
    info: Any = {}
    items: Any = payload
    if isinstance(payload, Mapping):
        items, info = payload.get("data"), payload.get("info") or {}
    elif payload is None:
        items = []
    if not isinstance(items, list) or not isinstance(info, Mapping):
        raise APIResponseValidationError(
            "Expected a list of messages in the response", method="POST", path=path
        )
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("ack_token"), str):
            raise APIResponseValidationError(
                "Every message needs an ack_token", method="POST", path=path
            )
    return [dict(item) for item in items], dict(info)


def message_record(raw: Mapping[str, Any]) -> Model | None:
    """The model of a message's record: ``model_for(record["collection_id"])``, loaded through
    the current session's identity map when one is active; None for event messages."""
    record = raw.get("record")
    if not isinstance(record, Mapping):
        return None
    collection_id = record.get("collection_id")
    if not isinstance(collection_id, str):
        return None
    try:
        cls = model_for(collection_id)
    except ModelError:
        return None
    return load_record(cls, record)


# --- messages and the consumer ----------------------------------------------------------------


@attrs.define(eq=False)
class Message:
    """One delivered message: ``record`` (a model, or None for an event message), ``event``
    (the raw event of an event consumer), ``raw`` (the message as received) and its
    ``ack_token``. ``ack()`` and ``nack()`` hit the network; each message is settled once."""

    ack_token: str
    record: Model | None
    event: dict[str, Any] | None
    raw: dict[str, Any] = attrs.field(repr=False)
    _consumer: Consumer = attrs.field(repr=False, alias="consumer")
    _settled: str | None = attrs.field(default=None, init=False, repr=False)

    @property
    def settled(self) -> str | None:
        """``"acked"``, ``"nacked"``, or None while neither was sent."""
        return self._settled

    def record_as(self, cls: type[_M]) -> _M:
        """``record`` typed as ``cls``; ModelError if it is something else."""
        if not isinstance(self.record, cls):
            raise ModelError(f"This message holds no {cls.__name__} record")
        return self.record

    def ack(self) -> None:
        """Ack the message: it will not be delivered again (no request if already acked)."""
        self._consumer.ack_all([self])

    def nack(self) -> None:
        """Nack the message: it will be delivered again (soon, not after ``ack_wait_ms``)."""
        self._consumer.nack_all([self])


@attrs.frozen
class MessageBatch:
    """What one ``/next`` call returned: the messages and the ``info`` object, if any."""

    messages: tuple[Message, ...]
    info: dict[str, Any]

    @property
    def num_pending(self) -> int | None:
        """``info.num_pending``: messages still waiting on the server, when reported."""
        value = self.info.get("num_pending")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Consumer(ClientBound):
    """Receive messages from an HTTP consumer and ack or nack them.

    Every method except ``stream`` (which is lazy) hits the network. ``Consumer.objects``
    manages consumers (``/v1/http-consumers``).
    """

    objects = ClassManager(lambda: ConsumerManager(None))

    def __init__(self, consumer_id: str, client: HasRequestor | None = None) -> None:
        path_segment(consumer_id, "consumer_id")
        self.id = consumer_id
        self._bound = client

    def __repr__(self) -> str:
        return f"Consumer({self.id!r})"

    def receive_batch(
        self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0
    ) -> MessageBatch:
        """``POST /v1/http-consumers/{id}/next`` with ``{batch_size, wait_for}``.

        ``wait_for`` is a long poll in milliseconds; fewer than ``batch_size`` messages (or
        none) may come back.
        """
        items, info = self.receive_raw(batch_size, wait_for)
        messages = tuple(self._message(item) for item in items)
        return MessageBatch(messages, info)

    def receive(self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0) -> list[Message]:
        """The messages of one ``/next`` call (see ``receive_batch``)."""
        return list(self.receive_batch(batch_size, wait_for).messages)

    def ack_all(self, messages: Iterable[Message | str]) -> None:
        """Ack messages (or raw ack tokens) in one request; none left to ack, no request."""
        self._settle("ack", messages)

    def nack_all(self, messages: Iterable[Message | str]) -> None:
        """Nack messages (or raw ack tokens) in one request, for redelivery."""
        self._settle("nack", messages)

    def stream(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        wait_for: int = DEFAULT_STREAM_WAIT_MS,
        *,
        stop_when_empty: bool = False,
    ) -> MessageStream:
        """Messages one by one, pulling batches as needed (lazy: nothing is sent until the
        first message is asked for). See ``MessageStream`` for when messages are acked."""
        next_body(batch_size, wait_for)
        return MessageStream(self, batch_size, wait_for, stop_when_empty)

    def receive_raw(
        self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The raw messages (``{"ack_token", "record"}``) and ``info`` of one ``/next`` call,
        without building models (the mirror stores records as they come)."""
        body = next_body(batch_size, wait_for)
        path = _consumer_path(self.id, "next")
        payload = self.requestor.http.request(
            "POST", path, json_body=body, safety=Safety.IDEMPOTENT, long_poll_ms=wait_for
        )
        return parse_next(payload, path)

    def _message(self, item: dict[str, Any]) -> Message:
        event = item.get("event")
        return Message(
            ack_token=item["ack_token"],
            record=message_record(item),
            event=dict(event) if isinstance(event, Mapping) else None,
            raw=item,
            consumer=self,
        )

    def _settle(self, action: str, messages: Iterable[Message | str]) -> None:
        pending = [m for m in messages if isinstance(m, str) or m.settled is None]
        tokens = [m if isinstance(m, str) else m.ack_token for m in pending]
        if not all(isinstance(t, str) and t for t in tokens):
            raise ModelError("ack tokens must be non-empty strings")
        if not tokens:
            return
        path = _consumer_path(self.id, action)
        body = {"ack_tokens": tokens}
        self.requestor.http.request("POST", path, json_body=body, safety=Safety.IDEMPOTENT)
        for message in pending:
            if isinstance(message, Message):
                message._settled = "acked" if action == "ack" else "nacked"


class MessageStream(Iterator[Message]):
    """An endless (or, with ``stop_when_empty``, finite) iterator of messages.

    Each message is acked when the next one is asked for — that is, once the loop body
    returned without error — unless the body settled it itself. Used as a context manager,
    the stream also settles the message in hand when the block ends: acked on a clean exit
    (``break`` included), **nacked if the block raised** (the exception propagates), and the
    messages of the batch not yet handed out are nacked for prompt redelivery::

        with consumer.stream() as messages:
            for message in messages:
                handle(message)

    Without ``with``, a message in hand when the loop stops (break or exception) is neither
    acked nor nacked: the server redelivers it after ``ack_wait_ms``. ``close()`` settles
    like a clean exit.
    """

    def __init__(
        self, consumer: Consumer, batch_size: int, wait_for: int, stop_when_empty: bool
    ) -> None:
        self._consumer = consumer
        self._batch_size = batch_size
        self._wait_for = wait_for
        self._stop_when_empty = stop_when_empty
        self._buffer: deque[Message] = deque()
        self._current: Message | None = None
        self._closed = False

    def __iter__(self) -> MessageStream:
        return self

    def __next__(self) -> Message:
        self._ack_current()
        while not self._buffer:
            if self._closed:
                raise StopIteration
            batch = self._consumer.receive(self._batch_size, self._wait_for)
            if not batch and self._stop_when_empty:
                self._closed = True
                raise StopIteration
            self._buffer.extend(batch)
        self._current = self._buffer.popleft()
        return self._current

    def close(self, *, failed: bool = False) -> None:
        """Stop: ack (or, ``failed``, nack) the message in hand; nack the undelivered rest."""
        self._closed = True
        current, self._current = self._current, None
        rest = list(self._buffer)
        self._buffer.clear()
        if current is not None and current.settled is None:
            if failed:
                rest.insert(0, current)
            else:
                self._consumer.ack_all([current])
        self._consumer.nack_all(rest)

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
            return
        try:
            self.close(failed=True)
        except SequinError as error:  # the body's exception matters more; redelivery follows
            logger.warning("could not nack messages of consumer %s: %s", self._consumer.id, error)

    def _ack_current(self) -> None:
        current, self._current = self._current, None
        if current is not None and current.settled is None:
            self._consumer.ack_all([current])
