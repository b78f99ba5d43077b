"""The emulator's own admin API under ``/_emulator/`` (same Bearer token as the v1 API)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from sequin_orm.emulator import faults
from sequin_orm.emulator.protocol import Request, Response, empty_response, invalid, json_response
from sequin_orm.emulator.routing import Router

if TYPE_CHECKING:
    from sequin_orm.emulator.emulator import Emulator, RecordedRequest

PREFIX = "/_emulator"
router = Router()


@router.route("POST", "/_emulator/faults")
def add_fault(emulator: Emulator, request: Request) -> Response:
    """Register a fault; the body uses the keyword names of ``Emulator.inject``."""
    try:
        fault = faults.from_json(request.json)
    except ValueError as exc:
        raise invalid({"fault": [str(exc)]}) from None
    return json_response(200, emulator.add_fault(fault).to_json())


@router.route("GET", "/_emulator/faults")
def list_faults(emulator: Emulator, request: Request) -> Response:
    """The faults that will still fire."""
    return json_response(200, {"data": [fault.to_json() for fault in emulator.faults]})


@router.route("DELETE", "/_emulator/faults")
def clear_faults(emulator: Emulator, request: Request) -> Response:
    """Remove every fault."""
    emulator.clear_faults()
    return empty_response(204)


@router.route("POST", "/_emulator/reset")
def reset(emulator: Emulator, request: Request) -> Response:
    """Back to the state right after construction (seed re-applied), no faults, empty log."""
    emulator.reset()
    return empty_response(204)


@router.route("GET", "/_emulator/requests")
def list_requests(emulator: Emulator, request: Request) -> Response:
    """The request log (method, path, query, json; secrets masked) of the last authenticated
    non-admin requests; ``size`` and ``truncated`` are added for a body too large to keep."""
    return json_response(200, {"data": [_logged(r) for r in emulator.requests]})


def _logged(request: RecordedRequest) -> dict[str, Any]:
    entry = dataclasses.asdict(request)
    if not request.truncated:
        del entry["size"], entry["truncated"]
    return entry


@router.route("DELETE", "/_emulator/requests")
def clear_requests(emulator: Emulator, request: Request) -> Response:
    """Empty the request log."""
    emulator.clear_requests()
    return empty_response(204)
