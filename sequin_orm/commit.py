"""Sending the steps of a commit: one request at a time, in plan order.

A commit of several steps hands the client's own work to one worker thread (a commit of one
runs it inline, through the same code): once a request
is written, the worker decodes and applies the previous answer and builds and encodes the
next request while the server works. The calling thread only sends, and it sends a request
only after the answer to the one before came back, so an error that stops the commit stops
it where a plain loop would. A step waits for the answers before it when it needs them
(``Step.stage``: a new object it refers to was created by an earlier step).
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import attrs

from sequin_orm.apply import apply_failure, apply_response
from sequin_orm.client import MUTATIONS_PATH, Client
from sequin_orm.config import DEFAULT_AWAIT_TIMEOUT_MS
from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ModelError,
    PermissionDeniedError,
    SequinError,
)
from sequin_orm.http import decode_json, encode_json
from sequin_orm.model import NEW, Model
from sequin_orm.plan import Step, mutation_body, payloads_of, unsaved_references
from sequin_orm.results import ObjectOutcome, Outcome

__all__ = ["run_steps"]

_T = TypeVar("_T")


@attrs.frozen
class _Request:
    """A step ready to send: the objects sent, their payloads and the request body."""

    step: Step
    payloads: list[dict[str, Any]] | None
    content: bytes | None  # the encoded body; None: no object of the step can be sent
    held_back: list[ObjectOutcome]  # objects not sent: a new object they refer to failed


@attrs.frozen
class _Answer:
    content: bytes = b""  # the 2xx body, undecoded
    error: APIError | None = None

    @property
    def sent(self) -> int:
        """Requests that reached the server: all but a connection that never opened."""
        error = self.error
        return 0 if isinstance(error, APIConnectionError) and not error.request_sent else 1


Settle = Callable[[list[ObjectOutcome]], None]


class _Outcomes:
    """What the commit's steps did to their objects, in plan order.

    Used from one thread at a time: the worker's, or the caller's when there is no worker.
    ``settle`` is called with each batch of outcomes as they are known.
    """

    def __init__(self, settle: Settle) -> None:
        self.outcomes: list[ObjectOutcome] = []
        self._not_created: set[Model] = set()
        self._settle = settle

    def prepare(self, step: Step) -> _Request:
        """The request for ``step`` (reads the outcomes so far, changes nothing)."""
        held_back: list[ObjectOutcome] = []
        if self._not_created:  # an earlier step failed: objects referring to its objects wait
            ready: list[Model] = []
            for obj in step.objects:
                if any(ref in self._not_created for ref in unsaved_references(obj)):
                    error = ModelError(
                        f"Not sent: a {type(obj).__name__} it references was not created"
                    )
                    held_back.append(ObjectOutcome(obj, Outcome.FAILED, error))
                else:
                    ready.append(obj)
            if not ready:
                return _Request(step, None, None, held_back)
            step = attrs.evolve(step, objects=tuple(ready))
        payloads = payloads_of(step)
        return _Request(step, payloads, encode_json(mutation_body(step, payloads)), held_back)

    def absorb(self, request: _Request, answer: _Answer | None) -> None:
        """Apply what the API answered to the request's objects (None: it was not sent)."""
        self._add(request.held_back)
        if answer is None:
            return
        step, payloads = request.step, request.payloads
        try:
            if answer.error is not None:
                raise answer.error
            response = decode_json(answer.content, "POST", MUTATIONS_PATH)
        except APIError as error:
            self._add(apply_failure(step, payloads, error))
            return
        try:
            applied = apply_response(step, payloads, response, path=MUTATIONS_PATH)
        except BaseException:
            _unknown_if_new(step)
            raise
        self._add(applied)

    def not_sent(self, step: Step, error: SequinError) -> None:
        """The commit stopped before ``step``: its objects keep their changes."""
        self._add([ObjectOutcome(obj, Outcome.FAILED, error) for obj in step.objects])

    def _add(self, outcomes: list[ObjectOutcome]) -> None:
        self._settle(outcomes)
        self.outcomes += outcomes
        self._not_created.update(o.obj for o in outcomes if o.outcome in _NOT_APPLIED)


def run_steps(
    client: Client, steps: Sequence[Step], settle: Settle
) -> tuple[list[ObjectOutcome], int]:
    """Send ``steps`` in order (hits the network); returns every object's outcome and the
    number of requests sent. ``settle`` sees the outcomes of each step as they are known."""
    if len(steps) < 2:  # nothing to overlap
        pipeline = _Pipeline(client, steps, _Outcomes(settle), _Inline())
        pipeline.run()
        return pipeline.result()
    with ThreadPoolExecutor(1, thread_name_prefix="sequin-orm-commit") as pool:
        pipeline = _Pipeline(client, steps, _Outcomes(settle), _Worker(pool))
        pipeline.run()
    return pipeline.result()  # after the worker finished every task


class _Tasks(Protocol):
    """Where the client's own work runs, in the order it is given."""

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]: ...

    def hold_until(self, event: threading.Event) -> None:
        """Start nothing given after this until ``event`` is set."""


class _Pipeline:
    """The calling thread's side of a commit: it sends, its tasks do the rest.

    Tasks run in the order they are given, so outcomes keep plan order and a step of a later
    stage is prepared only after every answer before it was absorbed. While a request is being
    written, a worker thread waits: it would take the interpreter lock at the first write and
    hold back the rest of the request, and the server with it.
    """

    def __init__(
        self, client: Client, steps: Sequence[Step], done: _Outcomes, tasks: _Tasks
    ) -> None:
        self.client, self.steps, self.done, self.tasks = client, steps, done, tasks
        self.sent = 0
        self.absorbing: deque[Future[None]] = deque()
        self._last: tuple[_Request, _Answer | None] | None = None  # sent, not yet absorbed
        self._ahead: Future[_Request] | None = None  # the next request, being built

    def run(self) -> None:
        try:
            self._run_steps()
        finally:
            self._absorb_last()  # an answer that came back is absorbed, whatever happens

    def result(self) -> tuple[list[ObjectOutcome], int]:
        """Every object's outcome and the requests sent, once every task has finished."""
        _raise_failed(self.absorbing)
        return self.done.outcomes, self.sent

    def _run_steps(self) -> None:
        stop: SequinError | None = None
        for index, step in enumerate(self.steps):
            if stop is not None:
                self._absorb_last()
                self.tasks.submit(self.done.not_sent, step, stop)
                continue
            request = self._request_for(step)
            _raise_failed(self.absorbing)
            answer = self._send_overlapped(request, self._following(index))
            if answer is not None:
                self.sent += answer.sent
                stop = _stopping_error(answer)
            self._last = (request, answer)

    def _request_for(self, step: Step) -> _Request:
        if self._ahead is None:  # it needs the answers before it
            self._absorb_last()
            self._ahead = self.tasks.submit(self.done.prepare, step)
        return self._ahead.result()

    def _following(self, index: int) -> Step | None:
        """The next step, if it can be built before this one's answer is absorbed."""
        if index + 1 == len(self.steps):
            return None
        step, following = self.steps[index], self.steps[index + 1]
        return following if following.stage == step.stage else None

    def _send_overlapped(self, request: _Request, following: Step | None) -> _Answer | None:
        """Send ``request`` while the tasks absorb the last answer and build ``following``."""
        written = threading.Event()
        self.tasks.hold_until(written)
        try:
            self._absorb_last()
            self._ahead = (
                None if following is None else self.tasks.submit(self.done.prepare, following)
            )
            if request.content is None:
                return None
            return _send(self.client, request, on_written=written.set)
        finally:
            written.set()

    def _absorb_last(self) -> None:
        if self._last is not None:
            self.absorbing.append(self.tasks.submit(self.done.absorb, *self._last))
            self._last = None


class _Worker:
    """One thread that runs tasks in order, each in a copy of the caller's context."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._context = contextvars.copy_context()

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        """Run ``fn`` after every task given before it."""
        return self._pool.submit(self._context.run, fn, *args)

    def hold_until(self, event: threading.Event) -> None:
        self.submit(event.wait)


class _Inline:
    """Runs each task at once on the calling thread (a commit of one request)."""

    def submit(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:  # kept for result(), as a worker's task would keep it
            future.set_exception(error)
        return future

    def hold_until(self, event: threading.Event) -> None:
        """Nothing runs in the background: nothing to hold."""


def _unknown_if_new(step: Step) -> None:
    """A create answered but not applied (a bug in applying it): its objects must not look
    new, or the next commit would create them again."""
    if step.kind == "create":
        for obj in step.objects:
            if obj._state is NEW:
                obj._mark_unknown()


def _raise_failed(futures: deque[Future[None]]) -> None:
    """Re-raise the error of a finished absorbing task: an answer that could not be applied
    (a bug, or an upstream id already taken in the session) stops the commit."""
    while futures and futures[0].done():  # they finish in the order they were given
        futures.popleft().result()


def _send(
    client: Client, request: _Request, *, on_written: Callable[[], None] | None = None
) -> _Answer:
    """Send one mutation request (hits the network)."""
    assert request.content is not None
    step = request.step
    try:
        content = client.send_mutation(
            request.content,
            create=step.kind == "create",
            await_timeout_ms=_await_timeout(step),
            on_written=on_written,
        )
    except APIError as error:
        return _Answer(error=error)
    return _Answer(content)


def _stopping_error(answer: _Answer) -> APIError | None:
    """An error that every later request would hit too: stop sending."""
    error = answer.error
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return error
    if isinstance(error, APIConnectionError) and not error.request_sent:
        return error
    return None


def _await_timeout(step: Step) -> int | None:
    if step.awaiting is None or not step.awaiting.consumer_ids:
        return None
    timeout = step.awaiting.timeout_ms
    return timeout if timeout is not None else DEFAULT_AWAIT_TIMEOUT_MS


_NOT_APPLIED = (Outcome.FAILED, Outcome.UNKNOWN)
