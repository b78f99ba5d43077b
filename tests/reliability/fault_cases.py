"""The fault matrix: every fault, and what docs/sessions.md says a commit does with it.

One table drives both ``test_fault_matrix.py`` (which checks each cell against the emulator over
loopback HTTP) and ``make_fault_matrix_doc.py`` (which renders ``docs/fault-matrix.md``), so the
published table is exactly what the tests check.

The expectations are written from the outcome table of ``docs/sessions.md`` and design §3:

- 429 and 503 are retried for every kind; a connection that cannot be opened too;
- a timeout, a dropped connection, a plain 500, a 502 or a 504 leaves a create ``unknown``
  (never re-sent by itself), and an update or delete is retried (idempotent), then ``failed``;
- a request whose retries ran out stops the commit (one retry budget per commit): the requests
  of later stages are not sent (``failed``, still pending);
- a 500 while awaiting consumers (the documented message): the write happened (creates
  ``unknown``, updates and deletes applied with the error attached);
- a 200 whose body cannot be matched: ``unknown``, updates and deletes still dirty (they are
  matched by ``upstream_id``: only the object the answer leaves out is ``unknown``).

``DISAGREEMENTS`` lists the cells where the library does something else today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sequin_orm import Outcome
from sequin_orm.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AwaitConsumersTimeoutError,
    InternalServerError,
    RateLimitError,
    SequinError,
    UpstreamTimeoutError,
)

Kind = Literal["create", "update", "delete"]
KINDS: tuple[Kind, ...] = ("create", "update", "delete")
ObjectState = Literal["clean", "dirty", "unknown"]

#: ``Client(max_retries=...)`` in the matrix: the default, 2 retries = 3 attempts.
MAX_RETRIES = 2
ATTEMPTS = MAX_RETRIES + 1
#: The read-timeout row: the client's read timeout and the latency injected on the server.
READ_TIMEOUT = 0.5
LATENCY = 1.2
#: The await row: a consumer that never acks, and how long the server waits for it (ms).
AWAIT_TIMEOUT_MS = 100
RETRY_AFTER = 1.0

Category = Literal["retried", "refused", "ambiguous", "await", "unmatched"]


@dataclass(frozen=True)
class Fault:
    """One row of the matrix.

    ``inject`` are the ``Emulator.inject`` options (``kind`` and ``times`` are added per case);
    ``every_attempt`` makes the fault fire on every attempt, so retries run out;
    ``applies`` says whether a faulted request still changes the emulator's state.
    """

    id: str
    title: str
    category: Category
    inject: Mapping[str, Any] = field(default_factory=dict)
    error: type[SequinError] | None = None
    applies: bool = False
    every_attempt: bool = False

    @property
    def times(self) -> int:
        return ATTEMPTS if self.every_attempt else 1


def _both(fault: Fault) -> list[Fault]:
    """The fault once (the retry succeeds) and on every attempt (retries run out)."""
    again = Fault(
        id=f"{fault.id}-every-attempt",
        title=f"{fault.title}, on every attempt",
        category=fault.category,
        inject=fault.inject,
        error=fault.error,
        applies=fault.applies,
        every_attempt=True,
    )
    return [fault, again]


FAULTS: tuple[Fault, ...] = (
    *_both(
        Fault(
            "429-retry-after",
            f"429 with `Retry-After: {RETRY_AFTER:g}`",
            "retried",
            {"status": 429, "retry_after": RETRY_AFTER},
            RateLimitError,
        )
    ),
    *_both(Fault("429", "429 without `Retry-After`", "retried", {"status": 429}, RateLimitError)),
    *_both(Fault("500", "500", "ambiguous", {"status": 500}, InternalServerError)),
    Fault(
        "500-awaiting",
        f"500 while awaiting consumers (a consumer that never acks, "
        f"`await_consumers_timeout={AWAIT_TIMEOUT_MS}`)",
        "await",
        {},
        AwaitConsumersTimeoutError,
        applies=True,
    ),
    *_both(Fault("502", "502", "ambiguous", {"status": 502}, InternalServerError)),
    *_both(Fault("503", "503", "retried", {"status": 503}, InternalServerError)),
    *_both(Fault("504", "504", "ambiguous", {"status": 504}, UpstreamTimeoutError)),
    Fault(
        "refused",
        "connection refused (nothing listens on the port)",
        "refused",
        {},
        APIConnectionError,
    ),
    *_both(
        Fault(
            "drop-before",
            "connection dropped before the server applied the mutation",
            "ambiguous",
            {"drop": "before"},
            APIConnectionError,
        )
    ),
    *_both(
        Fault(
            "drop-after",
            "connection dropped after the server applied the mutation",
            "ambiguous",
            {"drop": "after"},
            APIConnectionError,
            applies=True,
        )
    ),
    *_both(
        Fault(
            "read-timeout",
            f"read timeout (server latency {LATENCY:g} s > client read timeout "
            f"{READ_TIMEOUT:g} s; the server applies it late)",
            "ambiguous",
            {"latency": LATENCY},
            APITimeoutError,
            applies=True,
        )
    ),
    Fault(
        "malformed",
        "200 with a body that is not JSON",
        "unmatched",
        {"malformed": True},
        APIResponseValidationError,
        applies=True,
    ),
    Fault(
        "wrong-count",
        "200 with one record too few",
        "unmatched",
        {"drop_records": 1},
        APIResponseValidationError,
        applies=True,
    ),
)

FAULTS_BY_ID = {fault.id: fault for fault in FAULTS}


@dataclass(frozen=True)
class Expected:
    """What one cell should do.

    ``requests``: requests of the faulted kind that reached the server (for ``refused``: the
    client's connection attempts, none of which reach it). ``outcome``/``error``: each faulted
    object's ``ObjectOutcome``. ``state``: each faulted object afterwards — ``clean`` (nothing
    left to send), ``dirty`` (its change is still pending and the next commit sends it) or
    ``unknown`` (``obj.is_unknown``: a create never re-sent by itself). ``applied``: whether
    the emulator holds the change after this first commit. ``stops``: the commit stops after
    this request, so requests of later stages are not sent.
    """

    requests: int
    outcome: Outcome
    error: type[SequinError] | None
    state: ObjectState
    applied: bool
    stops: bool = False

    @property
    def raises(self) -> bool:
        """``commit()`` raises ``CommitError`` whenever an outcome carries an error."""
        return self.error is not None

    @property
    def retried(self) -> bool:
        return self.requests > 1


SUCCESS = {"create": Outcome.CREATED, "update": Outcome.UPDATED, "delete": Outcome.DELETED}


def documented(kind: Kind, fault: Fault) -> Expected:
    """The outcome docs/sessions.md and design §3 promise for ``kind`` under ``fault``."""
    ok = Expected(2, SUCCESS[kind], None, "clean", True)
    if fault.category == "retried":  # 429 and 503: every kind, then `failed` with changes intact
        if fault.every_attempt:
            return Expected(ATTEMPTS, Outcome.FAILED, fault.error, "dirty", False, stops=True)
        return ok
    if fault.category == "refused":  # never sent: retried for every kind, then `failed`
        return Expected(ATTEMPTS, Outcome.FAILED, fault.error, "dirty", False, stops=True)
    if fault.category == "await":  # the write happened, no ids came back for creates
        if kind == "create":
            return Expected(1, Outcome.UNKNOWN, fault.error, "unknown", True)
        return Expected(1, SUCCESS[kind], fault.error, "clean", True)
    if fault.category == "unmatched":  # a 200 we cannot match to the objects
        state: ObjectState = "unknown" if kind == "create" else "dirty"
        return Expected(1, Outcome.UNKNOWN, fault.error, state, True)
    # ambiguous: timeouts, dropped connections, 500, 502, 504
    if kind == "create":
        return Expected(1, Outcome.UNKNOWN, fault.error, "unknown", fault.applies)
    if fault.every_attempt:
        return Expected(ATTEMPTS, Outcome.FAILED, fault.error, "dirty", fault.applies, stops=True)
    return ok


@dataclass(frozen=True)
class Disagreement:
    """A cell where the library does not do what docs/sessions.md says."""

    observed: Expected
    note: str


#: Empty: the library does what docs/sessions.md says in every cell.
DISAGREEMENTS: dict[tuple[Kind, str], Disagreement] = {}


def observed(kind: Kind, fault: Fault) -> Expected:
    """What the library does today (``documented`` except in ``DISAGREEMENTS``)."""
    disagreement = DISAGREEMENTS.get((kind, fault.id))
    return disagreement.observed if disagreement else documented(kind, fault)


CASES: list[tuple[Kind, Fault]] = [(kind, fault) for fault in FAULTS for kind in KINDS]
