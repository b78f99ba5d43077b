"""The commit as a state machine: which request goes out next, and what each answer means.

No I/O, no threads, no clock: a driver (``session.py``) asks ``next_request()``, sends its bytes,
and reports back exactly one of ``receive()`` (a 2xx body), ``receive_error()`` (an
``APIError``) or ``interrupt()`` (anything else escaped while the request was outstanding). The
flow changes the objects and records their outcomes; ``result()`` says what happened.

Steps come in stages (creates in dependency waves, then updates, then deletes). Every request
of a stage is independent of the others, so a driver may keep several outstanding; a stage
starts only when every answer of the one before was absorbed, so a later stage may refer to
objects an earlier one created.

Transitions of one request (design.md §3)::

    event                                       objects                        flow
    ------------------------------------------  -----------------------------  ---------------
    2xx, answer verified                        created / updated / deleted;   go on
                                                changes made in flight stay
    2xx, body unreadable or not verifiable      creates UNKNOWN (state); an    go on
    (count, upstream id, sync, collection;      update or delete the answer
    an update answer saying "deleted")          does not name: outcome
                                                UNKNOWN, still pending
    error, retryable, retries and deadline left nothing                        same request
                                                                               again after
                                                                               ``delay``
    error, retryable, no retry left             stay pending (FAILED)          stop
    401 / 403 / connection never opened         stay pending (FAILED)          stop
    AwaitConsumersTimeoutError                  updates, deletes applied;      go on
                                                creates UNKNOWN
    error that may have applied a create        creates UNKNOWN                go on
    (5xx but 503, read timeout, dropped)
    any other error                             stay pending (FAILED)          go on
    interrupted (KeyboardInterrupt, cancel,     creates that may have reached  stop
    a foreign exception from the transport,     the server UNKNOWN; updates
    or while the answer is applied)             and deletes stay pending

A request's objects hand their changed keys to it when it is built; a request that is not
applied (FAILED or UNKNOWN outcome) gives them back, so nothing assigned is ever lost. The
driver calls ``abandon()`` when it leaves with a request it cannot account for.

Retries share one budget per commit: a request's retry count is the larger of its own and the
retries scheduled since the last 2xx of any request, so requests in flight together that all
meet a 429 spend the budget once, not once each.

Once stopped, no request is handed out; steps never sent are FAILED with the stopping error
and their objects keep their changes. Creates are never sent twice: a create is retried only
after an error that proves it was not applied (connection never opened, 429, 503).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from sequin_orm.codec import decode_json, encode_json
from sequin_orm.config import DEFAULT_AWAIT_TIMEOUT_MS, RetryPolicy
from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    AwaitConsumersTimeoutError,
    ModelError,
    PermissionDeniedError,
    SequinError,
)
from sequin_orm.identity import IdentityMap
from sequin_orm.plan import Step, mutation_body, payloads_of, unsaved_references
from sequin_orm.record import NEW, absorb_answers, hand_over
from sequin_orm.records import nested_sync_id
from sequin_orm.results import CommitResult, ObjectOutcome, Outcome, outcomes
from sequin_orm.retry import Safety, is_retryable, retry_delay

if TYPE_CHECKING:
    from sequin_orm.model import Model  # the public type; only Record is needed at run time

__all__ = ["MUTATIONS_PATH", "CommitFlow", "Request"]

MUTATIONS_PATH = "/v1/mutations/run"

_APPLIED = {"create": Outcome.CREATED, "update": Outcome.UPDATED, "delete": Outcome.DELETED}
# compared by identity: an Enum member's hash is a Python call
_FAILED, _UNKNOWN = Outcome.FAILED, Outcome.UNKNOWN
_OUTCOME = attrgetter("outcome")
_NEW_ID: Callable[[Model], str] = attrgetter("_upstream_id")  # of an object just created
_NOTHING_SENT: Mapping[str, Any] = MappingProxyType({})  # the data of a delete


@attrs.frozen(eq=False)
class Request:
    """One attempt at one step: the bytes to send and what they were built from."""

    index: int  # the step's position in the plan: outcomes are reported in plan order
    step: Step
    payloads: list[dict[str, Any]] | None  # the ``data`` sent per object (None for deletes)
    content: bytes
    handed: tuple[set[str] | None, ...]  # each object's changed keys, taken by this request
    attempt: int = 0  # retries before this attempt
    delay: float = 0.0  # seconds to wait before sending it

    @property
    def is_create(self) -> bool:
        return self.step.kind == "create"

    @property
    def label(self) -> str:
        """What the request does, for a log line: ``create salesforce:contact, 200 records``."""
        step, count = self.step, len(self.step.objects)
        return f"{step.kind} {step.collection_id}, {count} record{'s' if count != 1 else ''}"

    @property
    def await_timeout_ms(self) -> int | None:
        """How long the server may wait for consumers (the driver extends its timeout)."""
        awaiting = self.step.awaiting
        if awaiting is None or not awaiting.consumer_ids:
            return None
        return awaiting.timeout_ms if awaiting.timeout_ms is not None else DEFAULT_AWAIT_TIMEOUT_MS


class CommitFlow:
    """The requests of one commit and the outcomes of their objects (see the module table)."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        identity: IdentityMap,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
        not_created: Iterable[Model] = (),
    ) -> None:
        """``not_created``: new objects this commit will not create (their create is
        unknown); objects that refer to them are held back."""
        self._identity = identity
        self._policy = policy
        self._jitter = jitter
        self._stages: deque[list[tuple[int, Step]]] = deque(_stages_of(steps))
        self._ready: deque[tuple[int, Step] | Request] = deque()
        self._outstanding: set[Request] = set()
        self._outcomes: dict[int, list[ObjectOutcome]] = {}
        self._not_created: set[Model] = set(not_created)
        self._slept = 0.0
        self._strikes = 0  # retries scheduled since the last 2xx, over every request
        self.requests_sent = 0
        self.stopped_by: SequinError | None = None
        #: Objects in the plan, and objects whose outcome is known (for a progress bar).
        self.records_total = sum(len(step.objects) for step in steps)
        self.records_done = 0

    # -- what to send --------------------------------------------------------------------

    def next_request(self) -> Request | None:
        """The next request to send, or None when nothing can go out until an answer comes
        back (or the commit is over: see ``finished``)."""
        while self.stopped_by is None:
            if not self._ready:
                if self._outstanding or not self._stages:
                    return None
                self._ready.extend(self._stages.popleft())
                continue
            item = self._ready.popleft()
            request = item if isinstance(item, Request) else self._build(*item)
            if request is not None:
                self._outstanding.add(request)
                return request
        return None

    @property
    def sync_ids(self) -> set[str]:
        """The syncs this commit writes to."""
        return {step.sync_id for stage in self._stages for _, step in stage}

    @property
    def widest_stage(self) -> int:
        """The most requests that could be in flight at once (retries aside)."""
        return max((len(stage) for stage in self._stages), default=0)

    @property
    def finished(self) -> bool:
        """Nothing outstanding and nothing more to send."""
        if self._outstanding:
            return False
        return self.stopped_by is not None or not (self._ready or self._stages)

    def _build(self, index: int, step: Step) -> Request | None:
        """The request for ``step``; None when none of its objects can be sent."""
        held_back: list[ObjectOutcome] = []
        if self._not_created:  # objects referring to a new object that was not created wait
            ready = []
            for obj in step.objects:
                if self._not_created.intersection(unsaved_references(obj)):
                    error = ModelError(
                        f"Not sent: a {type(obj).__name__} it references was not created"
                    )
                    held_back.append(ObjectOutcome(obj, Outcome.FAILED, error))
                else:
                    ready.append(obj)
            step = attrs.evolve(step, objects=tuple(ready))
        self._record(index, held_back)
        if not step.objects:
            return None
        try:
            payloads = payloads_of(step)
            content = encode_json(mutation_body(step, payloads))
        except ModelError as error:  # a value that cannot be sent: these objects wait
            self._record(index, [ObjectOutcome(obj, Outcome.FAILED, error) for obj in step.objects])
            return None
        handed = hand_over(step.objects)
        return Request(index, step, payloads, content, handed)

    # -- what came back ------------------------------------------------------------------

    def receive(self, request: Request, content: bytes) -> None:
        """A 2xx answer to ``request``: apply it to the objects it names."""
        self._answered(request)
        self._strikes = 0
        try:
            answer = decode_json(content, "POST", MUTATIONS_PATH)
            outcomes = self._apply(request, answer)
        except APIResponseValidationError as unreadable:
            outcomes = self._failure(request, unreadable)
        except Exception as exc:  # an answer of a shape nobody foresaw (unhashable id, depth)
            odd = _invalid(f"The answer could not be applied ({type(exc).__name__})")
            outcomes = self._failure(request, odd)
        self._record(request.index, outcomes, request)

    def receive_error(self, request: Request, error: APIError) -> None:
        """An error for ``request``: retry it, or record what it means for its objects."""
        self._answered(request)
        safety = Safety.NOT_IDEMPOTENT if request.is_create else Safety.IDEMPOTENT
        delay = retry_delay(
            error,
            safety,
            policy=self._policy,
            retries_done=max(request.attempt, self._strikes),
            elapsed=self._slept,
            jitter=self._jitter(),
        )
        if delay is not None and self.stopped_by is None:
            self._slept += delay
            self._strikes += 1
            retry = attrs.evolve(request, attempt=request.attempt + 1, delay=delay)
            self._ready.appendleft(retry)
            return
        if is_retryable(error, safety) or _stops_every_request(error):
            self._stop(error)  # one retry budget per commit: later chunks would spend it again
        self._record(request.index, self._failure(request, error), request)

    def interrupt(self, request: Request, cause: BaseException, *, reached_server: bool) -> None:
        """Something other than an answer ended ``request`` (KeyboardInterrupt, cancellation,
        a foreign exception), before or while its answer was applied. A create that may have
        reached the server becomes unknown; the commit stops."""
        if request in self._outstanding:
            self._outstanding.discard(request)
            self.requests_sent += reached_server
        error = APIConnectionError(
            f"Interrupted by {type(cause).__name__} before the answer was applied",
            method="POST",
            path=MUTATIONS_PATH,
            request_sent=reached_server,
        )
        if request.is_create and reached_server:
            outcomes = _unknown(request.step, error)
        else:
            outcomes = [ObjectOutcome(obj, Outcome.FAILED, error) for obj in request.step.objects]
        self._record(request.index, outcomes, request)
        self._stop(error)

    def abandon(self, cause: BaseException) -> None:
        """The driver is leaving with requests still outstanding (an interruption it could
        not pin to one request): each is treated as interrupted after it may have been sent."""
        for request in list(self._outstanding):
            self._outstanding.discard(request)
            self.interrupt(request, cause, reached_server=True)

    def result(self) -> CommitResult:
        """Every object's outcome in plan order (steps never sent: FAILED, still pending)."""
        if self.stopped_by is not None:
            self._give_up_waiting()
        ordered = [o for index in sorted(self._outcomes) for o in self._outcomes[index]]
        return CommitResult(tuple(ordered), self.requests_sent)

    # -- internals -----------------------------------------------------------------------

    def _answered(self, request: Request) -> None:
        self._outstanding.discard(request)
        self.requests_sent += 1

    def _stop(self, error: SequinError) -> None:
        if self.stopped_by is None:
            self.stopped_by = error

    def _give_up_waiting(self) -> None:
        """The commit stopped: record every step that will not be sent."""
        error = self.stopped_by
        assert error is not None
        waiting = [*self._ready, *(item for stage in self._stages for item in stage)]
        self._ready.clear()
        self._stages.clear()
        for item in waiting:
            request = item if isinstance(item, Request) else None
            index, step = (item.index, item.step) if isinstance(item, Request) else item
            failed = [ObjectOutcome(obj, Outcome.FAILED, error) for obj in step.objects]
            self._record(index, failed, request)

    def _record(
        self, index: int, outcomes: list[ObjectOutcome], request: Request | None = None
    ) -> None:
        """Keep ``outcomes``; objects of ``request`` not applied get their changes back."""
        if not outcomes:
            return
        kinds = list(map(_OUTCOME, outcomes))
        if _FAILED in kinds or _UNKNOWN in kinds:  # in C: most answers apply every object
            not_applied = [o.obj for o in outcomes if o.outcome in (_FAILED, _UNKNOWN)]
            if request is not None:
                handed = dict(zip(request.step.objects, request.handed, strict=True))
                for obj in not_applied:
                    obj._take_back(handed.get(obj))
            self._not_created.update(obj for obj in not_applied if obj.upstream_id is None)
        self._outcomes.setdefault(index, []).extend(outcomes)
        self.records_done += len(outcomes)

    def _apply(self, request: Request, answer: Any) -> list[ObjectOutcome]:
        """Outcomes of a readable 2xx answer; raises ``APIResponseValidationError`` when the
        answer cannot be matched to the objects (design §3)."""
        records = answer.get("records") if isinstance(answer, dict) else None
        if not isinstance(records, list) or not all(map(isinstance, records, repeat(dict))):
            raise _invalid("The answer has no list of records")
        step = request.step
        if step.kind == "create":
            return self._apply_creates(request, records)
        sync_id, collection_id = step.sync_id, step.collection_id
        is_update = step.kind == "update"
        by_id = {
            r.get("upstream_id"): r
            for r in records
            if (r.get("sync_id") or nested_sync_id(r, sync_id)) == sync_id
            and r.get("collection_id", collection_id) == collection_id
            and not (is_update and r.get("deleted") is True)  # an update never deletes
        }
        objects = step.objects
        answers = [by_id.get(obj._upstream_id) for obj in objects]
        payloads = request.payloads if is_update else repeat(_NOTHING_SENT, len(objects))
        assert payloads is not None
        absorb_answers(objects, answers, payloads, sync_id)
        if not is_update:
            for obj, answer in zip(objects, answers, strict=True):
                if answer is not None:
                    obj._absorb_delete()
                    self._identity.discard(obj)
        if None not in answers:
            return outcomes(objects, _APPLIED[step.kind])
        unmatched = _invalid(f"The answer names no record for {answers.count(None)} object(s)")
        return [
            ObjectOutcome(obj, Outcome.UNKNOWN, unmatched)
            if answer is None
            else ObjectOutcome(obj, _APPLIED[step.kind])
            for obj, answer in zip(objects, answers, strict=True)
        ]

    def _apply_creates(
        self, request: Request, records: list[dict[str, Any]]
    ) -> list[ObjectOutcome]:
        step = request.step
        members = self._identity.members(step.sync_id, step.collection_id)
        problem = _create_answer_problem(step, records, members)
        if problem is not None:
            raise _invalid(problem)
        assert request.payloads is not None
        try:
            absorb_answers(step.objects, records, request.payloads, step.sync_id)
        finally:  # also when applying a record fails midway: those before it have their ids
            created = step.objects  # applied in order: when the last one was, all were
            if created[-1]._state is NEW:
                created = tuple(obj for obj in created if obj._state is not NEW)
            members.update(zip(map(_NEW_ID, created), created, strict=True))  # checked: new ids
        return outcomes(step.objects, Outcome.CREATED)

    def _failure(self, request: Request, error: SequinError) -> list[ObjectOutcome]:
        """Outcomes of a request that failed; objects keep what was not certainly applied."""
        step = request.step
        if isinstance(error, AwaitConsumersTimeoutError):
            return self._applied_without_records(request, error)
        if step.kind == "create" and _may_have_been_applied(error):
            return _unknown(step, error)
        # an answer that came back unreadable may have been applied: say so (still pending)
        unreadable = isinstance(error, APIResponseValidationError)
        outcome = Outcome.UNKNOWN if unreadable else Outcome.FAILED
        return [ObjectOutcome(obj, outcome, error) for obj in step.objects]

    def _applied_without_records(self, request: Request, error: APIError) -> list[ObjectOutcome]:
        """The write happened but no records came back (500 after awaiting consumers)."""
        step = request.step
        if step.kind == "create":
            return _unknown(step, error)
        sent = request.payloads or [{}] * len(step.objects)
        for obj, data in zip(step.objects, sent, strict=True):
            if step.kind == "delete":
                obj._absorb_delete()
                self._identity.discard(obj)
            else:
                obj._absorb_sent_update(data)
        return [ObjectOutcome(obj, _APPLIED[step.kind], error) for obj in step.objects]


def _stages_of(steps: Sequence[Step]) -> list[list[tuple[int, Step]]]:
    stages: dict[int, list[tuple[int, Step]]] = {}
    for index, step in enumerate(steps):
        stages.setdefault(step.stage, []).append((index, step))
    return [stages[stage] for stage in sorted(stages)]


def _create_answer_problem(
    step: Step, records: list[dict[str, Any]], taken: Mapping[str, Model]
) -> str | None:
    """Why the records of a create answer cannot be given to the step's objects, if so.

    ``taken``: the tracked objects of the step's sync and collection, by upstream id.
    """
    if len(records) != len(step.objects):
        return f"Expected {len(step.objects)} records in the answer, got {len(records)}"
    collection_id, sync_id = step.collection_id, step.sync_id
    ids = []
    for obj, r in zip(step.objects, records, strict=True):  # one loop: every check passes
        if obj._state is not NEW:
            return "An object of this create is no longer new (created elsewhere meanwhile)"
        upstream_id = r.get("upstream_id")
        if upstream_id.__class__ is not str or not upstream_id:
            return "A created record came back without an upstream_id"
        named_sync = r.get("sync_id") or nested_sync_id(r, sync_id)
        if named_sync != sync_id or r.get("collection_id", collection_id) != collection_id:
            return f"The answer holds records of another sync or collection than {collection_id}"
        ids.append(upstream_id)
    if len(set(ids)) != len(ids):
        return "The answer gives two created records the same upstream_id"
    if not taken.keys().isdisjoint(ids):
        upstream_id = next(i for i in ids if i in taken)
        return f"The answer gives a new object the upstream_id {upstream_id!r} of another"
    return None


def _unknown(step: Step, error: SequinError) -> list[ObjectOutcome]:
    """A create that may have been applied: its objects are never sent again by themselves."""
    outcomes = []
    for obj in step.objects:
        if obj._state is NEW:
            obj._mark_unknown()
        outcomes.append(ObjectOutcome(obj, Outcome.UNKNOWN, error))
    return outcomes


def _invalid(message: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        message, method="POST", path=MUTATIONS_PATH, outcome_unknown=True
    )


def _stops_every_request(error: APIError) -> bool:
    """An error every later request would hit too."""
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return True
    return isinstance(error, APIConnectionError) and not error.request_sent


def _may_have_been_applied(error: SequinError) -> bool:
    if isinstance(error, APIConnectionError):
        return error.request_sent
    status = getattr(error, "status_code", None)
    if status is not None:
        return bool(status >= 500 and status != 503)
    return isinstance(error, APIError) and error.outcome_unknown
