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
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

import attrs

from sequin_orm.credentials import Health, metadata_contains
from sequin_orm.errors import (
    APIResponseValidationError,
    ConfigurationError,
    ModelError,
    SequinError,
)
from sequin_orm.model import Model
from sequin_orm.reading import load_record
from sequin_orm.records import foreign_collection
from sequin_orm.registry import model_for
from sequin_orm.requestor import (
    APICall,
    AsyncClientBound,
    AsyncRequestor,
    ClientBound,
    HasAsyncRequestor,
    HasRequestor,
    ignore_answer,
)
from sequin_orm.retry import Safety
from sequin_orm.wire import (
    ClassManager,
    decode,
    decode_list,
    encode_query_json,
    path_segment,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DELIVER_POLICIES",
    "AsyncConsumer",
    "AsyncConsumerManager",
    "AsyncMessage",
    "AsyncMessageStream",
    "Consumer",
    "ConsumerFields",
    "ConsumerManager",
    "ConsumerSettings",
    "HttpConsumer",
    "Message",
    "MessageBatch",
    "MessageStream",
    "consumer_create_body",
    "consumer_update_body",
    "next_body",
    "parse_next",
    "record_as",
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

    _client: HasRequestor | HasAsyncRequestor | None = attrs.field(
        default=None, init=False, repr=False, eq=False
    )

    def consumer(self) -> Consumer:
        """A ``Consumer`` to receive this consumer's messages (no request)."""
        requestor = None if self._client is None else self._client.requestor
        if isinstance(requestor, AsyncRequestor):
            raise ConfigurationError(
                f"Consumer {self.id} came from an AsyncClient: use "
                "AsyncConsumer(consumer.id, client) to receive its messages"
            )
        return Consumer(self.id, client=requestor)


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


class ConsumerSettings(TypedDict, total=False):
    """Settings of an HTTP consumer (``POST``/``PATCH /v1/http-consumers``)."""

    name: str | None
    deliver_policy: str | None
    ack_wait_ms: int | None
    max_deliver: int | None
    max_ack_pending: int | None
    metadata: Mapping[str, Any] | None


class ConsumerFields(ConsumerSettings, total=False):
    """What ``POST /v1/http-consumers`` takes besides the ``stream_id``."""

    filters: Mapping[str, str] | None


class _ConsumerCalls:
    """The requests of ``/v1/http-consumers`` and how to read their answers (no I/O)."""

    _bound: Any

    def _create_call(self, stream_id: str, fields: ConsumerFields) -> APICall[HttpConsumer]:
        body = consumer_create_body(stream_id, **fields)
        read = self._reader("POST", CONSUMERS_PATH)
        return APICall("POST", CONSUMERS_PATH, read, json_body=body, safety=Safety.NOT_IDEMPOTENT)

    def _get_call(self, consumer_id: str) -> APICall[HttpConsumer]:
        path = _consumer_path(consumer_id)
        return APICall("GET", path, self._reader("GET", path))

    def _list_call(self, metadata: Mapping[str, Any] | None) -> APICall[list[HttpConsumer]]:
        def read(payload: Any) -> list[HttpConsumer]:
            found = decode_list(payload, HttpConsumer, method="GET", path=CONSUMERS_PATH)
            return [
                self._bind(c)
                for c in found
                if metadata is None or metadata_contains(c.metadata, metadata)
            ]

        params = None if metadata is None else {"metadata": encode_query_json(metadata)}
        return APICall("GET", CONSUMERS_PATH, read, params=params)

    def _update_call(self, consumer_id: str, changes: ConsumerSettings) -> APICall[HttpConsumer]:
        body = consumer_update_body(**changes)
        path = _consumer_path(consumer_id)
        read = self._reader("PATCH", path)
        return APICall("PATCH", path, read, json_body=body, safety=Safety.IDEMPOTENT)

    @staticmethod
    def _delete_call(consumer_id: str) -> APICall[None]:
        return APICall(
            "DELETE", _consumer_path(consumer_id), ignore_answer, safety=Safety.IDEMPOTENT
        )

    def _reader(self, method: str, path: str) -> Callable[[Any], HttpConsumer]:
        return lambda payload: self._bind(decode(payload, HttpConsumer, method=method, path=path))

    def _bind(self, consumer: HttpConsumer) -> HttpConsumer:
        object.__setattr__(consumer, "_client", self._bound)
        return consumer


class ConsumerManager(ClientBound, _ConsumerCalls):
    """``/v1/http-consumers``: create, get, list, update and delete. Each method hits the
    network."""

    def create(self, stream_id: str, **fields: Unpack[ConsumerFields]) -> HttpConsumer:
        """``POST /v1/http-consumers``; validated first; never retried once sent."""
        return self.requestor.call(self._create_call(stream_id, fields))

    def get(self, consumer_id: str) -> HttpConsumer:
        """``GET /v1/http-consumers/{id}``; ``NotFoundError`` when there is none."""
        return self.requestor.call(self._get_call(consumer_id))

    def list(self, *, metadata: Mapping[str, Any] | None = None) -> list[HttpConsumer]:
        """``GET /v1/http-consumers``, optionally filtered by ``metadata``."""
        return self.requestor.call(self._list_call(metadata))

    def update(self, consumer_id: str, **changes: Unpack[ConsumerSettings]) -> HttpConsumer:
        """``PATCH /v1/http-consumers/{id}``. A new ``deliver_policy`` may replay records."""
        return self.requestor.call(self._update_call(consumer_id, changes))

    def delete(self, consumer_id: str) -> None:
        """``DELETE /v1/http-consumers/{id}``."""
        self.requestor.call(self._delete_call(consumer_id))


class AsyncConsumerManager(AsyncClientBound, _ConsumerCalls):
    """``/v1/http-consumers`` through an ``AsyncClient``: ``ConsumerManager``'s methods,
    awaitable."""

    async def create(self, stream_id: str, **fields: Unpack[ConsumerFields]) -> HttpConsumer:
        """``POST /v1/http-consumers``; validated first; never retried once sent."""
        return await self.requestor.call(self._create_call(stream_id, fields))

    async def get(self, consumer_id: str) -> HttpConsumer:
        """``GET /v1/http-consumers/{id}``; ``NotFoundError`` when there is none."""
        return await self.requestor.call(self._get_call(consumer_id))

    async def list(self, *, metadata: Mapping[str, Any] | None = None) -> list[HttpConsumer]:
        """``GET /v1/http-consumers``, optionally filtered by ``metadata``."""
        return await self.requestor.call(self._list_call(metadata))

    async def update(self, consumer_id: str, **changes: Unpack[ConsumerSettings]) -> HttpConsumer:
        """``PATCH /v1/http-consumers/{id}``. A new ``deliver_policy`` may replay records."""
        return await self.requestor.call(self._update_call(consumer_id, changes))

    async def delete(self, consumer_id: str) -> None:
        """``DELETE /v1/http-consumers/{id}``."""
        await self.requestor.call(self._delete_call(consumer_id))


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


def record_as(raw: Mapping[str, Any], loaded: Model | None, cls: type[_M]) -> _M:
    """The record of message ``raw`` as a ``cls`` (``loaded``: the model already built for it).

    ModelError when the message holds no record (an event message) or one of another
    collection than ``cls.collection_id``; a record of ``cls``'s collection that was loaded as
    another class (a dynamic model) is loaded again as ``cls``.
    """
    record = raw.get("record")
    if not isinstance(record, Mapping):
        raise ModelError(f"This message holds no record, so no {cls.__name__}")
    foreign = foreign_collection(record, cls.collection_id)
    if foreign is not None:
        raise ModelError(
            f"This message holds a {foreign} record, not a {cls.__name__} ({cls.collection_id})"
        )
    if isinstance(loaded, cls):
        return loaded
    return load_record(cls, record)


# --- messages and the consumer ----------------------------------------------------------------


@attrs.define(eq=False)
class _Delivered:
    """What a delivered message holds, sync or async."""

    ack_token: str
    record: Model | None
    event: dict[str, Any] | None
    raw: dict[str, Any] = attrs.field(repr=False)
    _settled: str | None = attrs.field(default=None, init=False, repr=False)

    @property
    def settled(self) -> str | None:
        """``"acked"``, ``"nacked"``, or None while neither was sent."""
        return self._settled

    def record_as(self, cls: type[_M]) -> _M:
        """``record`` typed as ``cls``; ModelError if it is a record of another collection."""
        return record_as(self.raw, self.record, cls)


@attrs.define(eq=False)
class Message(_Delivered):
    """One delivered message: ``record`` (a model, or None for an event message), ``event``
    (the raw event of an event consumer), ``raw`` (the message as received) and its
    ``ack_token``. ``ack()`` and ``nack()`` hit the network; each message is settled once."""

    _consumer: Consumer = attrs.field(default=None, repr=False, alias="consumer")

    def ack(self) -> None:
        """Ack the message: it will not be delivered again (no request if already acked)."""
        self._consumer.ack_all([self])

    def nack(self) -> None:
        """Nack the message: it will be delivered again (soon, not after ``ack_wait_ms``)."""
        self._consumer.nack_all([self])


@attrs.define(eq=False)
class AsyncMessage(_Delivered):
    """A message from an ``AsyncConsumer``: ``await message.ack()`` / ``await message.nack()``."""

    _consumer: AsyncConsumer = attrs.field(default=None, repr=False, alias="consumer")

    async def ack(self) -> None:
        """Ack the message: it will not be delivered again (no request if already acked)."""
        await self._consumer.ack_all([self])

    async def nack(self) -> None:
        """Nack the message: it will be delivered again (soon, not after ``ack_wait_ms``)."""
        await self._consumer.nack_all([self])


_Msg = TypeVar("_Msg", bound=_Delivered)


@attrs.frozen
class MessageBatch(Generic[_Msg]):
    """What one ``/next`` call returned: the messages and the ``info`` object, if any."""

    messages: tuple[_Msg, ...]
    info: dict[str, Any]

    @property
    def num_pending(self) -> int | None:
        """``info.num_pending``: messages still waiting on the server, when reported."""
        value = self.info.get("num_pending")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class _ConsumeCalls(Generic[_Msg]):
    """The Consume API's requests (``next``, ``ack``, ``nack``) of one consumer and how to
    read their answers (no I/O): what ``Consumer`` and ``AsyncConsumer`` share."""

    id: str
    _message_type: Callable[..., _Msg]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"

    def _next_raw_call(
        self, batch_size: int, wait_for: int
    ) -> APICall[tuple[list[dict[str, Any]], dict[str, Any]]]:
        body = next_body(batch_size, wait_for)
        path = _consumer_path(self.id, "next")
        return APICall(
            "POST",
            path,
            lambda payload: parse_next(payload, path),
            json_body=body,
            safety=Safety.IDEMPOTENT,
            long_poll_ms=wait_for,
        )

    def _next_call(self, batch_size: int, wait_for: int) -> APICall[MessageBatch[_Msg]]:
        def batch(raw: tuple[list[dict[str, Any]], dict[str, Any]]) -> MessageBatch[_Msg]:
            items, info = raw
            return MessageBatch(tuple(self._message(item) for item in items), info)

        return self._next_raw_call(batch_size, wait_for).then(batch)

    def _settle_call(self, action: str, messages: Iterable[_Msg | str]) -> APICall[None] | None:
        """The request that acks or nacks the messages not settled yet (None: none left)."""
        pending = [m for m in messages if isinstance(m, str) or m.settled is None]
        tokens = [m if isinstance(m, str) else m.ack_token for m in pending]
        if not all(isinstance(t, str) and t for t in tokens):
            raise ModelError("ack tokens must be non-empty strings")
        if not tokens:
            return None

        def read(payload: Any) -> None:
            for message in pending:
                if not isinstance(message, str):
                    message._settled = "acked" if action == "ack" else "nacked"

        path = _consumer_path(self.id, action)
        body = {"ack_tokens": tokens}
        return APICall("POST", path, read, json_body=body, safety=Safety.IDEMPOTENT)

    def _message(self, item: dict[str, Any]) -> _Msg:
        event = item.get("event")
        return self._message_type(
            ack_token=item["ack_token"],
            record=message_record(item),
            event=dict(event) if isinstance(event, Mapping) else None,
            raw=item,
            consumer=self,
        )


class Consumer(ClientBound, _ConsumeCalls[Message]):
    """Receive messages from an HTTP consumer and ack or nack them.

    Every method except ``stream`` (which is lazy) hits the network. ``Consumer.objects``
    manages consumers (``/v1/http-consumers``).
    """

    objects = ClassManager(lambda: ConsumerManager(None))
    _message_type = Message

    def __init__(self, consumer_id: str, client: HasRequestor | None = None) -> None:
        path_segment(consumer_id, "consumer_id")
        self.id = consumer_id
        self._bound = client

    def receive_batch(
        self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0
    ) -> MessageBatch[Message]:
        """``POST /v1/http-consumers/{id}/next`` with ``{batch_size, wait_for}``.

        ``wait_for`` is a long poll in milliseconds; fewer than ``batch_size`` messages (or
        none) may come back.
        """
        return self.requestor.call(self._next_call(batch_size, wait_for))

    def receive(self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0) -> list[Message]:
        """The messages of one ``/next`` call (see ``receive_batch``)."""
        return list(self.receive_batch(batch_size, wait_for).messages)

    def ack_all(self, messages: Iterable[Message | str]) -> None:
        """Ack messages (or raw ack tokens) in one request; none left to ack, no request."""
        call = self._settle_call("ack", messages)
        if call is not None:
            self.requestor.call(call)

    def nack_all(self, messages: Iterable[Message | str]) -> None:
        """Nack messages (or raw ack tokens) in one request, for redelivery."""
        call = self._settle_call("nack", messages)
        if call is not None:
            self.requestor.call(call)

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
        return self.requestor.call(self._next_raw_call(batch_size, wait_for))


class AsyncConsumer(AsyncClientBound, _ConsumeCalls[AsyncMessage]):
    """The async twin of ``Consumer``: ``await receive()``, ``await ack_all()``, and
    ``async with consumer.stream() as messages: async for message in messages: ...``."""

    _message_type = AsyncMessage

    def __init__(self, consumer_id: str, client: HasAsyncRequestor | None = None) -> None:
        path_segment(consumer_id, "consumer_id")
        self.id = consumer_id
        self._bound = client

    async def receive_batch(
        self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0
    ) -> MessageBatch[AsyncMessage]:
        """``POST /v1/http-consumers/{id}/next``; see ``Consumer.receive_batch()``."""
        return await self.requestor.call(self._next_call(batch_size, wait_for))

    async def receive(
        self, batch_size: int = DEFAULT_BATCH_SIZE, wait_for: int = 0
    ) -> list[AsyncMessage]:
        """The messages of one ``/next`` call (see ``receive_batch``)."""
        return list((await self.receive_batch(batch_size, wait_for)).messages)

    async def ack_all(self, messages: Iterable[AsyncMessage | str]) -> None:
        """Ack messages (or raw ack tokens) in one request; none left to ack, no request."""
        call = self._settle_call("ack", messages)
        if call is not None:
            await self.requestor.call(call)

    async def nack_all(self, messages: Iterable[AsyncMessage | str]) -> None:
        """Nack messages (or raw ack tokens) in one request, for redelivery."""
        call = self._settle_call("nack", messages)
        if call is not None:
            await self.requestor.call(call)

    def stream(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        wait_for: int = DEFAULT_STREAM_WAIT_MS,
        *,
        stop_when_empty: bool = False,
    ) -> AsyncMessageStream:
        """Messages one by one (``async for``), pulling batches as needed; see
        ``MessageStream`` for when messages are acked."""
        next_body(batch_size, wait_for)
        return AsyncMessageStream(self, batch_size, wait_for, stop_when_empty)


class _StreamState(Generic[_Msg]):
    """Which message is in hand and which wait, for a sync or async message stream."""

    def __init__(self, batch_size: int, wait_for: int, stop_when_empty: bool) -> None:
        self._batch_size = batch_size
        self._wait_for = wait_for
        self._stop_when_empty = stop_when_empty
        self._buffer: deque[_Msg] = deque()
        self._current: _Msg | None = None
        self._closed = False

    def _to_ack(self) -> list[_Msg]:
        """The message in hand, if its turn is over and nobody settled it."""
        current, self._current = self._current, None
        return [current] if current is not None and current.settled is None else []

    def _wants_more(self) -> bool:
        """Whether a batch must be received before the next message (``_Exhausted``: no
        more will come)."""
        if self._buffer:
            return False
        if self._closed:
            raise _Exhausted
        return True

    def _add(self, batch: list[_Msg]) -> None:
        if not batch and self._stop_when_empty:
            self._closed = True
            raise _Exhausted
        self._buffer.extend(batch)

    def _take(self) -> _Msg:
        self._current = self._buffer.popleft()
        return self._current

    def _closing(self, failed: bool) -> tuple[list[_Msg], list[_Msg]]:
        """Stop: (to ack, to nack) — the message in hand acked, or nacked when ``failed``;
        the undelivered rest nacked."""
        self._closed = True
        current = self._to_ack()
        rest = list(self._buffer)
        self._buffer.clear()
        if failed:
            return [], current + rest
        return current, rest


class _Exhausted(Exception):
    """The stream has no more messages (StopIteration or StopAsyncIteration)."""


class MessageStream(_StreamState[Message], Iterator[Message]):
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
        super().__init__(batch_size, wait_for, stop_when_empty)
        self._consumer = consumer

    def __iter__(self) -> MessageStream:
        return self

    def __next__(self) -> Message:
        self._consumer.ack_all(self._to_ack())
        try:
            while self._wants_more():
                self._add(self._consumer.receive(self._batch_size, self._wait_for))
        except _Exhausted:
            raise StopIteration from None
        return self._take()

    def close(self, *, failed: bool = False) -> None:
        """Stop: ack (or, ``failed``, nack) the message in hand; nack the undelivered rest."""
        to_ack, to_nack = self._closing(failed)
        self._consumer.ack_all(to_ack)
        self._consumer.nack_all(to_nack)

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
            _log_unsettled(self._consumer.id, error)


class AsyncMessageStream(_StreamState[AsyncMessage], AsyncIterator[AsyncMessage]):
    """The async twin of ``MessageStream``: ``async with consumer.stream() as messages:``
    then ``async for message in messages:``; the same acking rules."""

    def __init__(
        self, consumer: AsyncConsumer, batch_size: int, wait_for: int, stop_when_empty: bool
    ) -> None:
        super().__init__(batch_size, wait_for, stop_when_empty)
        self._consumer = consumer

    def __aiter__(self) -> AsyncMessageStream:
        return self

    async def __anext__(self) -> AsyncMessage:
        await self._consumer.ack_all(self._to_ack())
        try:
            while self._wants_more():
                self._add(await self._consumer.receive(self._batch_size, self._wait_for))
        except _Exhausted:
            raise StopAsyncIteration from None
        return self._take()

    async def aclose(self, *, failed: bool = False) -> None:
        """Stop: ack (or, ``failed``, nack) the message in hand; nack the undelivered rest."""
        to_ack, to_nack = self._closing(failed)
        await self._consumer.ack_all(to_ack)
        await self._consumer.nack_all(to_nack)

    async def __aenter__(self) -> AsyncMessageStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.aclose()
            return
        try:
            await self.aclose(failed=True)
        except SequinError as error:
            _log_unsettled(self._consumer.id, error)


def _log_unsettled(consumer_id: str, error: SequinError) -> None:
    logger.warning("could not nack messages of consumer %s: %s", consumer_id, error)
