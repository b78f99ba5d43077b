"""``Emulator``: the public façade over state, handler, faults and the two front doors."""

from __future__ import annotations

import hmac
import logging
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from sequin_orm.emulator import (
    admin,
    api,
    consuming,
    management,
    mutations,
    providers,
    proxying,
)
from sequin_orm.emulator.faults import Fault, FaultList, run_with_fault
from sequin_orm.emulator.ids import new_uuid
from sequin_orm.emulator.jsonutil import JSONObject, as_object
from sequin_orm.emulator.protocol import (
    MUTATION_PATH,
    ApiError,
    Request,
    Response,
    summary_error,
)
from sequin_orm.emulator.routing import Router
from sequin_orm.emulator.seed import SEEDS, apply_demo
from sequin_orm.emulator.server import running_server
from sequin_orm.emulator.state import State
from sequin_orm.emulator.transport import AsyncEmulatorTransport, EmulatorTransport
from sequin_orm.emulator.views import (
    consumer_json,
    credential_json,
    record_json,
    scrub,
    stream_json,
    sync_json,
)

logger = logging.getLogger("sequin_orm.emulator")

V1_ROUTER = Router()
V1_ROUTER.include(api.router)
V1_ROUTER.include(consuming.router)
V1_ROUTER.include(proxying.router)

_DEFAULT_PROPERTIES: dict[str, JSONObject] = {
    "salesforce": {
        "kind": "salesforce",
        "instance_url": "https://emulated.my.salesforce.com/",
        "refresh_token": "emulated-refresh-token",
    },
    "stripe": {"kind": "stripe_key", "secret": "sk_test_emulated", "test": True},
    "hubspot": {"kind": "hubspot_oauth2", "hub_id": 1, "refresh_token": "emulated-refresh-token"},
    "airtable": {
        "kind": "airtable_oauth2",
        "airtable_uid": "usrEmulated01",
        "refresh_token": "emulated-refresh-token",
        "scope": "data.records:read data.records:write schema.bases:read",
    },
}


#: How many requests the log keeps (the oldest go first), and the largest body it keeps.
MAX_LOGGED_REQUESTS = 1000
MAX_LOGGED_BODY = 256 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    """One authenticated non-admin request the emulator received (never its headers).

    ``json`` is the body with credential secrets masked (as responses mask them), or None when
    the body was not JSON or longer than the log keeps (``truncated``); ``size`` is its length
    in bytes.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    size: int = 0
    truncated: bool = False


class Emulator:
    """A stateful, thread-safe, in-memory Sequin v1 API.

    ``token`` is the only Bearer token accepted. ``seed="demo"`` pre-creates a stream, a
    Salesforce, a Stripe and a HubSpot sync and an HTTP consumer (ids in ``seeded``).

    The request log (``requests``) keeps the last ``max_logged_requests`` authenticated
    requests, their bodies up to ``max_logged_body`` bytes, with credential secrets masked.
    """

    def __init__(
        self,
        token: str = "test",
        *,
        seed: str | None = None,
        max_logged_requests: int = MAX_LOGGED_REQUESTS,
        max_logged_body: int = MAX_LOGGED_BODY,
    ) -> None:
        if seed is not None and seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; known: {', '.join(SEEDS)}")
        self.token = token
        self.seed = seed
        self.org_id = new_uuid()
        self.seeded: dict[str, str] = {}
        self._state = State(self.org_id)
        self._faults = FaultList()
        self._log: deque[RecordedRequest] = deque(maxlen=max(0, max_logged_requests))
        self._max_logged_body = max_logged_body
        self._log_lock = threading.Lock()
        self._apply_seed()

    # -- front doors -------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: str | Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        """Answer one request; ``Response.drop`` asks the caller to close the connection."""
        request = Request.build(method, path, query, headers, body)
        is_admin = request.path == admin.PREFIX or request.path.startswith(admin.PREFIX + "/")
        if not self._authorized(request):  # before logging: strangers fill no memory
            return summary_error(401, "Your API key is wrong").response()
        if not is_admin:
            self._record(request, len(body))
        if is_admin:
            return _dispatch(admin.router, self, request)
        return run_with_fault(self._faults.take(request), request, self._call_api)

    def transport(self) -> EmulatorTransport:
        """An in-process httpx transport for sync and async clients (any base URL works)."""
        return EmulatorTransport(self.handle)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An in-process asyncio httpx transport."""
        return AsyncEmulatorTransport(self.handle)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run a real HTTP server while the block runs; yields ``http://host:port``."""
        with running_server(self.handle, host, port) as url:
            yield url

    # -- faults and inspection ---------------------------------------------------------------

    def inject(
        self,
        *,
        path: str | None = None,
        kind: str | None = None,
        method: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        latency: float = 0.0,
        drop: Literal["before", "after"] | None = None,
        malformed: bool = False,
        drop_records: int = 0,
        error: str | None = None,
        ignore_filters: bool = False,
        times: int = 1,
    ) -> Fault:
        """Make the next ``times`` requests matching ``path``/``kind``/``method`` misbehave.

        See ``Fault`` for the effects and their order.
        """
        return self.add_fault(
            Fault(
                path=path,
                kind=kind,
                method=method,
                status=status,
                retry_after=retry_after,
                latency=latency,
                drop=drop,
                malformed=malformed,
                drop_records=drop_records,
                error=error,
                ignore_filters=ignore_filters,
                times=times,
            )
        )

    def add_fault(self, fault: Fault) -> Fault:
        """Register an already built ``Fault``."""
        return self._faults.add(fault)

    @property
    def faults(self) -> list[Fault]:
        """Faults that will still fire."""
        return self._faults.active()

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the log of non-admin requests, oldest first."""
        with self._log_lock:
            return list(self._log)

    def mutation_requests(self, kind: str | None = None) -> list[RecordedRequest]:
        """Logged ``POST /v1/mutations/run`` requests, optionally of one ``kind``."""
        return [
            r
            for r in self.requests
            if r.path == MUTATION_PATH
            and r.method == "POST"
            and (kind is None or (as_object(r.json) or {}).get("kind") == kind)
        ]

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self._log.clear()

    def records(
        self, collection_id: str | None = None, include_deleted: bool = True
    ) -> list[JSONObject]:
        """Records in stream order (as ``/v1/records`` shows them)."""
        with self._state.cond:
            return [
                record_json(r)
                for r in self._state.records.values()
                if collection_id in (None, r.collection_id) and (include_deleted or not r.deleted)
            ]

    def reset(self) -> None:
        """Forget all state, faults and logged requests, then re-apply the seed."""
        with self._state.cond:
            self._state.clear()
        self.clear_faults()
        self.clear_requests()
        self._apply_seed()

    # -- state helpers for test setup (no HTTP) ----------------------------------------------

    def create_stream(self, slug: str = "default", *, id: str | None = None) -> JSONObject:
        """Create a stream; returns its JSON."""
        with self._state.cond:
            stream = _direct(management.create_stream, self._state, {"slug": slug}, stream_id=id)
            return stream_json(stream, self.org_id)

    def create_credential(
        self,
        provider: str,
        *,
        properties: JSONObject | None = None,
        id: str | None = None,
        name: str | None = None,
    ) -> JSONObject:
        """Import a credential (default properties per provider); returns its JSON."""
        props = properties or _default_properties(provider)
        body: JSONObject = {"properties": props, "name": name}
        with self._state.cond:
            credential = _direct(management.import_credential, self._state, body, credential_id=id)
            return credential_json(credential)

    def create_sync(
        self,
        provider: str,
        collection_ids: list[str],
        name: str | None = None,
        *,
        id: str | None = None,
        stream_id: str | None = None,
        credential_id: str | None = None,
        **fields: Any,
    ) -> JSONObject:
        """Create a sync directly (default stream and credential when not given).

        ``fields`` are further ``POST /v1/syncs`` body fields (``metadata``, ``external_id``, …).
        """
        with self._state.cond:
            body: JSONObject = {
                "provider": provider,
                "collection_ids": collection_ids,
                "name": name or f"{providers.display_name(provider)} sync",
                "stream_id": stream_id or self._default_stream_id(),
                "credential_id": credential_id or self.create_credential(provider)["id"],
                **fields,
            }
            sync = _direct(management.create_sync, self._state, body, sync_id=id)
            credential = self._state.credentials.get(sync.credential_id)
            return sync_json(sync, credential, self.org_id)

    def create_consumer(
        self, stream_id: str | None = None, *, id: str | None = None, **fields: Any
    ) -> JSONObject:
        """Create an HTTP consumer directly; ``fields`` as in ``POST /v1/http-consumers``."""
        with self._state.cond:
            body: JSONObject = {"stream_id": stream_id or self._default_stream_id(), **fields}
            consumer = _direct(management.create_consumer, self._state, body, consumer_id=id)
            return consumer_json(consumer)

    def create_record(
        self,
        sync_id: str,
        collection_id: str,
        data: JSONObject,
        *,
        upstream_id: str | None = None,
    ) -> JSONObject:
        """Add a record as if synced from upstream (provider system fields added); its JSON."""
        with self._state.cond:
            record = _direct(
                mutations.insert, self._state, sync_id, collection_id, data, upstream_id
            )
            return record_json(record)

    # -- internals ---------------------------------------------------------------------------

    def _default_stream_id(self) -> str:
        existing = next(iter(self._state.streams), None)
        return existing or str(self.create_stream()["id"])

    def _apply_seed(self) -> None:
        self.seeded = apply_demo(self) if self.seed == "demo" else {}

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.token.encode()
        )

    def _record(self, request: Request, size: int) -> None:
        truncated = size > self._max_logged_body
        entry = RecordedRequest(
            request.method,
            request.path,
            dict(request.query),
            None if truncated else scrub(request.json),
            size=size,
            truncated=truncated,
        )
        with self._log_lock:
            self._log.append(entry)

    def _call_api(self, request: Request) -> Response:
        with self._state.cond:
            return _dispatch(V1_ROUTER, self._state, request)


def _dispatch(router: Router, target: Any, request: Request) -> Response:
    try:
        return router.dispatch(target, request)
    except ApiError as error:
        return error.response()
    except Exception:
        logger.exception("emulator bug while answering %s %s", request.method, request.path)
        return summary_error(500, "Try again later").response()


def _direct(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except ApiError as error:
        raise ValueError(str(error)) from None


def _default_properties(provider: str) -> JSONObject:
    default = _DEFAULT_PROPERTIES.get(provider)
    if default is not None:
        return dict(default)
    return {"kind": f"{provider}_oauth2", "access_token": "emulated-access-token"}
