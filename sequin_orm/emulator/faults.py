"""Fault injection: make the next N matching requests fail, stall, drop or lie."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sequin_orm.emulator import providers
from sequin_orm.emulator.jsonutil import JSONObject, as_list, as_object
from sequin_orm.emulator.protocol import (
    DROP,
    MUTATION_PATH,
    ApiError,
    Request,
    Response,
    json_response,
    mutation_error,
    summary_error,
)

DropWhen = Literal["before", "after"]

MUTATION_MESSAGES = {
    429: "Error: Too many requests",
    500: "Error: Internal server error",
    502: "Error: Bad gateway",
    503: "Error: Service unavailable",
}
SUMMARIES = {
    400: "Your request is invalid",
    401: "Your API key is wrong",
    403: "Forbidden",
    404: "Not found",
    429: "You're requesting too many kittens! Slow down!",
    500: "Try again later",
    501: "Not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass
class Fault:
    """One injected fault; it fires for the next ``times`` matching requests.

    Matching: ``path`` is a path prefix, ``method`` an HTTP method, ``kind`` a mutation kind
    (only mutation requests match a kind). Effects, in order: ``latency`` seconds of delay;
    ``drop="before"`` (connection closed, nothing applied); ``error`` (a 400 upstream validation
    error); ``status`` (that error status, nothing applied; 429 adds ``Retry-After`` when
    ``retry_after`` is set; a 500 on a mutation that awaits consumers is applied first and
    reported as the await timeout); then, after the request was applied: ``drop="after"``,
    ``malformed`` (a 200 whose body is not JSON) or ``drop_records`` (a 200 missing that many
    records at the end). ``ignore_filters`` answers as a server that ignores the query
    parameters but ``limit`` and ``after_cursor`` (``/v1/records`` then returns every
    collection).
    """

    path: str | None = None
    kind: str | None = None
    method: str | None = None
    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0
    drop: DropWhen | None = None
    malformed: bool = False
    drop_records: int = 0
    error: str | None = None
    ignore_filters: bool = False
    times: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining: int = field(init=False)
    hits: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._check()
        if self.retry_after is not None and self.status is None:
            self.status = 429
        self.remaining = self.times

    def _check(self) -> None:
        problems = [
            (
                "status must be an HTTP error status (400-599)",
                self.status is not None and not 400 <= self.status <= 599,
            ),
            ("drop must be 'before', 'after' or None", self.drop not in (None, "before", "after")),
            ("times must be >= 1", self.times < 1),
            ("latency must be >= 0", self.latency < 0),
            ("drop_records must be >= 0", self.drop_records < 0),
            ("retry_after must be >= 0", self.retry_after is not None and self.retry_after < 0),
        ]
        failed = [message for message, bad in problems if bad]
        if failed:
            raise ValueError("; ".join(failed))

    def matches(self, request: Request) -> bool:
        """Whether this fault applies to ``request``."""
        if self.path is not None and not request.path.startswith(self.path):
            return False
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.kind is None or (
            request.path == MUTATION_PATH
            and (as_object(request.json) or {}).get("kind") == self.kind
        )

    def to_json(self) -> JSONObject:
        """The fault as the admin API shows it."""
        return dataclasses.asdict(self)


class FaultList:
    """The registered faults, consumed in registration order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Register ``fault``."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """Faults that will still fire."""
        with self._lock:
            return list(self._faults)

    def take(self, request: Request) -> Fault | None:
        """The first fault matching ``request``, counting one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    fault.hits += 1
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


def from_json(body: Any) -> Fault:
    """A ``Fault`` from the admin API's JSON (same names as ``Emulator.inject``)."""
    obj = as_object(body)
    if obj is None:
        raise ValueError("the body must be a JSON object")
    allowed = {f.name for f in dataclasses.fields(Fault) if f.init and f.name != "id"}
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError("unknown fault options: " + ", ".join(unknown))
    try:
        return Fault(**obj)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def run_with_fault(
    fault: Fault | None, request: Request, call: Callable[[Request], Response]
) -> Response:
    """Answer ``request`` through ``call``, with ``fault``'s effects applied."""
    if fault is None:
        return call(request)
    if fault.latency:
        time.sleep(fault.latency)
    if fault.drop == "before":
        return DROP
    if fault.error is not None:
        return _validation_error(request, fault.error, fault.status or 400).response()
    if fault.status is not None:
        return _status(fault, request, call)
    if fault.ignore_filters:
        kept = {k: v for k, v in request.query.items() if k in _PAGING_PARAMETERS}
        request = dataclasses.replace(request, query=kept)
    return _after(fault, call(request))


_PAGING_PARAMETERS = ("limit", "after_cursor")


def _status(fault: Fault, request: Request, call: Callable[[Request], Response]) -> Response:
    body = as_object(request.json) or {}
    awaited = as_list(body.get("await_consumer_ids"))
    if fault.status == 500 and request.path == MUTATION_PATH and awaited:
        response = call(request.with_json({**body, "await_consumer_ids": None}))
        if response.status != 200:
            return response
        ids = ", ".join(str(item) for item in awaited)
        return mutation_error(f"Error: Timed out waiting for consumers: {ids}", 500).response()
    error = _status_error(request, fault.status or 500)
    if fault.retry_after is not None:
        error.headers["Retry-After"] = _seconds(fault.retry_after)
    return error.response()


def _after(fault: Fault, response: Response) -> Response:
    if fault.drop == "after":
        return DROP
    if response.status != 200:
        return response
    if fault.malformed:
        return Response(200, response.headers, response.body[: max(1, len(response.body) // 2)])
    if fault.drop_records:
        body = as_object(json.loads(response.body))
        records = as_list(body.get("records")) if body else None
        if body is not None and records is not None:
            kept = records[: max(0, len(records) - fault.drop_records)]
            return json_response(200, {**body, "records": kept})
    return response


def _provider_name(request: Request) -> str:
    collection = (as_object(request.json) or {}).get("collection_id")
    if isinstance(collection, str) and ":" in collection:
        return providers.display_name(providers.provider_of_collection(collection))
    return "Upstream"


def _validation_error(request: Request, message: str, status: int) -> ApiError:
    if request.path.startswith("/v1/mutations"):
        text = f"Error: {_provider_name(request)} validation error: `{message}`"
        return mutation_error(text, status)
    return summary_error(status, message)


def _status_error(request: Request, status: int) -> ApiError:
    if request.path.startswith("/v1/mutations"):
        default = f"Error: {_provider_name(request)} API timed out" if status == 504 else None
        message = default or MUTATION_MESSAGES.get(status, f"Error: HTTP {status}")
        return mutation_error(message, status)
    return summary_error(status, SUMMARIES.get(status, f"HTTP {status}"))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
