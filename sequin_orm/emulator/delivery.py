"""HTTP consumers: filters and per-consumer delivery state (ack wait, redelivery, limits)."""

from __future__ import annotations

import fnmatch
import itertools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sequin_orm.emulator.jsonutil import JSONObject

FILTER_KEYS = ("collection_id", "sync_id", "provider", "resource_id")
"""Record attributes a consumer can filter on (values are ``*`` glob patterns). The consumer
overview's example sends ``resource_id`` (undocumented otherwise); it matches the record's
upstream id."""

KINDS = ("record", "event")
"""What a consumer's messages carry: ``{"ack_token", "record"}`` or ``{"ack_token", "event"}``."""


@dataclass
class Message:
    """One version of one record, queued for one consumer."""

    seq: int
    record_id: str
    updated_idx: int
    record: JSONObject
    deliveries: int = 0
    token: str | None = None
    deadline: float = 0.0

    def in_flight(self, now: float) -> bool:
        """Delivered and neither acked, nacked nor past its ack wait."""
        return self.token is not None and self.deadline > now


@dataclass
class Consumer:
    """An HTTP pull consumer: its settings and its queue of messages."""

    id: str
    stream_id: str
    name: str | None
    deliver_policy: str
    ack_wait_ms: int
    max_deliver: int
    max_ack_pending: int
    filters: dict[str, str]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    kind: str = "record"
    queue: dict[int, Message] = field(default_factory=dict[int, Message])
    latest: dict[str, int] = field(default_factory=dict[str, int])
    tokens: dict[str, int] = field(default_factory=dict[str, int])
    acked: dict[str, int] = field(default_factory=dict[str, int])
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Whether a record with these ``stream_id``/filter attributes reaches this consumer."""
        if attributes.get("stream_id") != self.stream_id:
            return False
        return all(
            fnmatch.fnmatchcase(attributes.get(key, ""), self.filters.get(key, "*"))
            for key in FILTER_KEYS
        )

    def offer(self, record_id: str, updated_idx: int, record: JSONObject, now: float) -> None:
        """Queue a record version (or, for an event consumer, an event), replacing an older
        version of the record that is not in flight (events are never replaced)."""
        old = self.queue.get(self.latest.get(record_id, -1))
        if old is not None and not old.in_flight(now) and self.kind == "record":
            self._remove(old)
        message = Message(next(self._seq), record_id, updated_idx, record)
        self.queue[message.seq] = message
        self.latest[record_id] = message.seq

    def deliver(self, batch_size: int, now: float) -> list[Message]:
        """Hand out up to ``batch_size`` messages, each with a fresh ack token."""
        self._prune(now)
        room = min(batch_size, self.max_ack_pending - self._in_flight(now))
        batch = list(itertools.islice(self._ready(now), max(room, 0)))
        for message in batch:
            if message.token is not None:
                self.tokens.pop(message.token, None)
            message.token = str(uuid.uuid4())
            message.deliveries += 1
            message.deadline = now + self.ack_wait_ms / 1000
            self.tokens[message.token] = message.seq
        return batch

    def ready_count(self, now: float) -> int:
        """How many messages ``deliver`` could hand out now (capped by max_ack_pending)."""
        self._prune(now)
        room = self.max_ack_pending - self._in_flight(now)
        return min(room, self.pending_count(now)) if room > 0 else 0

    def pending_count(self, now: float) -> int:
        """Messages waiting for delivery (not in flight)."""
        return len(self.queue) - self._in_flight(now)

    def ack_pending_count(self, now: float) -> int:
        """Messages delivered and not yet acked, nacked or past their ack wait."""
        return self._in_flight(now)

    def next_deadline(self, now: float) -> float | None:
        """The earliest moment an in-flight message becomes deliverable again."""
        deadlines = [m.deadline for m in self._tokened() if m.deadline > now]
        return min(deadlines, default=None)

    def ack(self, tokens: list[str]) -> None:
        """Finish the messages behind ``tokens``; unknown or stale tokens are ignored."""
        for message in self._by_tokens(tokens):
            self.acked[message.record_id] = max(
                self.acked.get(message.record_id, 0), message.updated_idx
            )
            self._remove(message)

    def nack(self, tokens: list[str]) -> None:
        """Make the messages behind ``tokens`` deliverable again at once."""
        for message in self._by_tokens(tokens):
            message.deadline = 0.0

    def has_acked(self, record_id: str, updated_idx: int) -> bool:
        """Whether a message for ``record_id`` at ``updated_idx`` or later was acked."""
        return self.acked.get(record_id, -1) >= updated_idx

    def clear(self) -> None:
        """Forget every queued message and token (acknowledgement history stays)."""
        self.queue.clear()
        self.latest.clear()
        self.tokens.clear()

    def _ready(self, now: float) -> Iterator[Message]:
        return (m for m in self.queue.values() if not m.in_flight(now))

    def _in_flight(self, now: float) -> int:
        return sum(1 for m in self._tokened() if m.in_flight(now))

    def _tokened(self) -> list[Message]:
        return [self.queue[seq] for seq in self.tokens.values() if seq in self.queue]

    def _by_tokens(self, tokens: list[str]) -> list[Message]:
        seqs = (self.tokens.get(token) for token in tokens)
        return [self.queue[seq] for seq in seqs if seq is not None and seq in self.queue]

    def _prune(self, now: float) -> None:
        if self.max_deliver < 0:
            return
        for message in self._tokened():
            if not message.in_flight(now) and message.deliveries >= self.max_deliver:
                self._remove(message)

    def _remove(self, message: Message) -> None:
        self.queue.pop(message.seq, None)
        if message.token is not None:
            self.tokens.pop(message.token, None)
        if self.latest.get(message.record_id) == message.seq:
            del self.latest[message.record_id]
