"""The consume endpoints of HTTP consumers: ``next`` (long-poll), ``ack`` and ``nack``."""

from __future__ import annotations

import time

from sequin_orm.emulator.api import body_of, ok
from sequin_orm.emulator.delivery import Consumer
from sequin_orm.emulator.jsonutil import as_list, is_int
from sequin_orm.emulator.protocol import (
    Request,
    Response,
    empty_response,
    invalid_field,
    not_found,
)
from sequin_orm.emulator.routing import Router
from sequin_orm.emulator.state import State

router = Router()


@router.route("GET", "/v1/http-consumers/{id}/next")
@router.route("POST", "/v1/http-consumers/{id}/next")
def next_messages(state: State, request: Request, consumer_id: str) -> Response:
    """Up to ``batch_size`` messages; waits up to ``wait_for`` ms for a full batch.

    Messages are ``{"ack_token", "record"}`` (``{"ack_token", "event"}`` for an event
    consumer); ``info`` counts the messages waiting (``num_pending``) and those delivered but
    not acked yet (``num_ack_pending``).
    """
    batch_size = _param(request, "batch_size", 1, minimum=1)
    wait_for = _param(request, "wait_for", 0, minimum=0)
    deadline = time.monotonic() + wait_for / 1000
    while True:
        consumer, now = _consumer(state, consumer_id), time.monotonic()
        if now >= deadline or consumer.ready_count(now) >= batch_size:
            break
        wake = min(deadline, consumer.next_deadline(now) or deadline)
        state.cond.wait(max(wake - now, 0.001))
    batch = consumer.deliver(batch_size, now)
    return ok(
        {
            "data": [{"ack_token": m.token, consumer.kind: m.record} for m in batch],
            "info": {
                "num_pending": consumer.pending_count(now),
                "num_ack_pending": consumer.ack_pending_count(now),
            },
        }
    )


@router.route("POST", "/v1/http-consumers/{id}/ack")
def ack(state: State, request: Request, consumer_id: str) -> Response:
    """Acknowledge messages by ack token: 204."""
    _consumer(state, consumer_id).ack(_tokens(request))
    state.cond.notify_all()
    return empty_response(204)


@router.route("POST", "/v1/http-consumers/{id}/nack")
def nack(state: State, request: Request, consumer_id: str) -> Response:
    """Make messages available again at once: 204."""
    _consumer(state, consumer_id).nack(_tokens(request))
    state.cond.notify_all()
    return empty_response(204)


def _consumer(state: State, consumer_id: str) -> Consumer:
    consumer = state.consumers.get(consumer_id)
    if consumer is None:
        raise not_found()
    return consumer


def _tokens(request: Request) -> list[str]:
    tokens = as_list(body_of(request).get("ack_tokens"))
    if tokens is None or not all(isinstance(token, str) for token in tokens):
        raise invalid_field("ack_tokens", "must be a list of ack tokens")
    return [str(token) for token in tokens]


def _param(request: Request, name: str, default: int, *, minimum: int) -> int:
    body = body_of(request) if request.method == "POST" else {}
    raw: object = body.get(name, request.query.get(name, default))
    try:
        value = int(raw) if isinstance(raw, str) else raw
    except ValueError:
        value = None
    if not is_int(value) or int(value) < minimum:
        raise invalid_field(name, f"must be an integer >= {minimum}")
    return int(value)
