"""Applying what the API answered to the objects of a step (no I/O).

Design §3: records come back in request order and their count is checked; an unanswerable
create is ``unknown`` (never re-sent by itself); a failed update or delete keeps its changes
so the next commit sends it again; after a 500 while awaiting consumers the write happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AwaitConsumersTimeoutError,
    SequinError,
)
from sequin_orm.plan import Step
from sequin_orm.results import ObjectOutcome, Outcome

_APPLIED = {"create": Outcome.CREATED, "update": Outcome.UPDATED, "delete": Outcome.DELETED}


def apply_response(
    step: Step, payloads: Sequence[dict[str, Any]] | None, response: Any, *, path: str
) -> list[ObjectOutcome]:
    """Outcomes of a 2xx answer; a body we cannot match to the objects makes them unknown."""
    records = response.get("records") if isinstance(response, dict) else None
    if not isinstance(records, list) or len(records) != len(step.objects):
        got = len(records) if isinstance(records, list) else "no"
        error = APIResponseValidationError(
            f"Expected {len(step.objects)} records in the response, got {got}",
            method="POST",
            path=path,
            outcome_unknown=True,
        )
        return apply_failure(step, payloads, error)
    applied = _APPLIED[step.kind]
    sent_data = payloads if payloads is not None else [None] * len(records)
    deleting = applied is Outcome.DELETED
    for obj, record, sent in zip(step.objects, records, sent_data, strict=True):
        obj._absorb_record(record if isinstance(record, dict) else {}, sent)
        if deleting:
            obj._absorb_delete()
    return [ObjectOutcome(obj, applied) for obj in step.objects]


def apply_failure(
    step: Step, payloads: Sequence[dict[str, Any]] | None, error: SequinError
) -> list[ObjectOutcome]:
    """Outcomes of a request that raised; objects keep what was not certainly applied."""
    if isinstance(error, AwaitConsumersTimeoutError):
        return _applied_without_records(step, payloads, error)
    if step.kind == "create" and _may_have_been_applied(error):
        for obj in step.objects:
            obj._mark_unknown()
        return [ObjectOutcome(obj, Outcome.UNKNOWN, error) for obj in step.objects]
    outcome = Outcome.UNKNOWN if isinstance(error, APIResponseValidationError) else Outcome.FAILED
    return [ObjectOutcome(obj, outcome, error) for obj in step.objects]


def _applied_without_records(
    step: Step, payloads: Sequence[dict[str, Any]] | None, error: APIError
) -> list[ObjectOutcome]:
    """The write was applied but no records came back (500 after awaiting consumers)."""
    if step.kind == "create":
        for obj in step.objects:
            obj._mark_unknown()
        return [ObjectOutcome(obj, Outcome.UNKNOWN, error) for obj in step.objects]
    for index, obj in enumerate(step.objects):
        if step.kind == "delete":
            obj._absorb_delete()
        else:
            obj._absorb_sent_update(payloads[index] if payloads else {})
    return [ObjectOutcome(obj, _APPLIED[step.kind], error) for obj in step.objects]


def _may_have_been_applied(error: SequinError) -> bool:
    if isinstance(error, APIConnectionError):
        return error.request_sent
    if isinstance(error, APIStatusError):
        return error.status_code >= 500 and error.status_code != 503
    return isinstance(error, APIError) and error.outcome_unknown
