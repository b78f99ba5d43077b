"""The Proxy API (``/v1/proxy/sync/{sync_id}/{path}``), answered from the records it holds.

What a proxy call returns comes from the upstream API; the emulator has none, so it answers
the reads it can from the sync's collections: ``GET`` of one record (Stripe
``/v1/customers/{id}``, Salesforce ``/services/data/vNN.N/sobjects/{Object}/{id}``, HubSpot
``/crm/v3/objects/{type}/{id}``) with the record's ``data``, and Stripe lists
(``/v1/customers``). Anything else — an action such as a refund or a lead conversion, another
provider, another method — is the documented 501 ``{"summary": "The emulator cannot emulate
…"}``; a record it does not hold is the provider's own 404 body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sequin_orm.emulator.jsonutil import JSONObject
from sequin_orm.emulator.protocol import (
    ApiError,
    Request,
    Response,
    json_response,
    not_found,
    summary_error,
)
from sequin_orm.emulator.routing import Router
from sequin_orm.emulator.state import State, Sync

router = Router()

PROXY_PATTERN = "/v1/proxy/sync/{sync_id}/{rest*}"

_STRIPE = re.compile(r"^v1/(?P<plural>[a-z_]+)(?:/(?P<id>[^/]+))?$")
_SALESFORCE = re.compile(r"^services/data/v[\d.]+/sobjects/(?P<object>\w+)/(?P<id>[^/]+)$")
_HUBSPOT = re.compile(r"^crm/v3/objects/(?P<type>\w+)/(?P<id>[^/]+)$")


def _proxy(state: State, request: Request, sync_id: str, rest: str) -> Response:
    """Answer one proxy call (see the module docs)."""
    sync = state.syncs.get(sync_id)
    if sync is None:
        raise not_found()
    if request.method == "GET":
        answer = _read(state, sync, rest)
        if answer is not None:
            return answer
    raise cannot_emulate(request.method, rest)


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    router.route(_method, PROXY_PATTERN)(_proxy)


def cannot_emulate(method: str, path: str) -> ApiError:
    """The 501 for a proxy call the emulator has no answer to."""
    return summary_error(
        501,
        f"The emulator cannot emulate {method} /{path} through the Proxy API: it answers GET "
        "of one record (Stripe, Salesforce, HubSpot) and Stripe lists from the collections it "
        "holds",
    )


def _read(state: State, sync: Sync, path: str) -> Response | None:
    if sync.provider == "stripe" and (match := _STRIPE.match(path)):
        collection = f"stripe:{_singular(match['plural'])}"
        if match["id"] is None:
            return _stripe_list(state, sync, collection, path)
        return _one(state, sync, collection, match["id"], _stripe_missing)
    if sync.provider == "salesforce" and (match := _SALESFORCE.match(path)):
        collection = f"salesforce:{match['object'].lower()}"
        return _one(state, sync, collection, match["id"], _salesforce_missing)
    if sync.provider == "hubspot" and (match := _HUBSPOT.match(path)):
        collection = f"hubspot:{_singular(match['type'])}"
        return _one(state, sync, collection, match["id"], _hubspot_missing)
    return None


def _one(
    state: State, sync: Sync, collection: str, upstream_id: str, missing: Callable[[str, str], Any]
) -> Response:
    if collection not in sync.collection_ids:
        raise cannot_emulate("GET", f"{collection} (not a collection of sync {sync.id})")
    record = state.find_record(sync.id, collection, upstream_id)
    if record is None or record.deleted:
        return json_response(404, missing(collection, upstream_id))
    return json_response(200, record.data)


def _stripe_list(state: State, sync: Sync, collection: str, path: str) -> Response:
    if collection not in sync.collection_ids:
        raise cannot_emulate("GET", path)
    data = [
        record.data
        for record in reversed(state.records.values())  # newest first, as Stripe lists
        if record.sync_id == sync.id and record.collection_id == collection and not record.deleted
    ]
    return json_response(
        200, {"object": "list", "data": data, "has_more": False, "url": f"/{path}"}
    )


def _singular(plural: str) -> str:
    """``customers`` -> ``customer``, ``companies`` -> ``company``."""
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    return plural[:-1] if plural.endswith("s") else plural


def _stripe_missing(collection: str, upstream_id: str) -> JSONObject:
    name = collection.partition(":")[2]
    message = f"No such {name}: '{upstream_id}'"
    error = {"type": "invalid_request_error", "code": "resource_missing", "message": message}
    return {"error": error}


def _salesforce_missing(collection: str, upstream_id: str) -> list[JSONObject]:
    return [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def _hubspot_missing(collection: str, upstream_id: str) -> JSONObject:
    return {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "resource not found"}
