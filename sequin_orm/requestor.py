"""The requestor: settings plus one pooled HTTP connection, and the process-wide default one.

Everything below the ``Client`` facade (sessions, models, the managers) talks to the API
through a ``Requestor``. Anything with a ``requestor`` attribute (a ``Client``, or a requestor
itself) can be passed where one is wanted; with none, the default is used: the one
``configure()`` installed, else one built from the environment at first use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from sequin_orm.codec import decode_json
from sequin_orm.config import Settings, resolve_settings
from sequin_orm.errors import APIError
from sequin_orm.flow import MUTATIONS_PATH
from sequin_orm.http import EventHooks, HTTPSession
from sequin_orm.retry import Safety

if TYPE_CHECKING:
    from sequin_orm.querying import MirrorHook

logger = logging.getLogger(__name__)

__all__ = [
    "ClientBound",
    "HasRequestor",
    "Requestor",
    "default_holder",
    "default_requestor",
    "install_default",
    "reset_default",
]


class Requestor:
    """Sends requests to the Sequin API with one client's settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        event_hooks: EventHooks | None = None,
        mirror: MirrorHook | None = None,
    ) -> None:
        self.settings = settings
        self.http = HTTPSession(settings, transport=transport, event_hooks=event_hooks)
        #: The mirror ``Model.objects`` queries and read-your-writes awaits (``Client(mirror=)``).
        self.mirror = mirror

    @property
    def requestor(self) -> Requestor:
        return self

    def run_mutation(self, body: Any, *, await_timeout_ms: int | None = None) -> Any:
        """``POST /v1/mutations/run`` (hits the network); retried only where safe."""
        safety = Safety.NOT_IDEMPOTENT if body.get("kind") == "create" else Safety.IDEMPOTENT
        if logger.isEnabledFor(logging.INFO):
            logger.info("mutation %s", describe_mutation(body))
        return self.http.request(
            "POST", MUTATIONS_PATH, json_body=body, safety=safety, await_timeout_ms=await_timeout_ms
        )

    def send_mutation_once(
        self, content: bytes, *, await_timeout_ms: int | None = None, label: str | None = None
    ) -> bytes:
        """One attempt at ``POST /v1/mutations/run`` with an encoded body (hits the network);
        returns the 2xx body undecoded. No retry: a commit's flow decides those.

        ``label`` (e.g. ``"create salesforce:contact, 200 records"``) is what the INFO log line
        says; without it the line is derived from ``content`` (decoded only when INFO is on).
        """
        if logger.isEnabledFor(logging.INFO):
            logger.info("mutation %s", label or _describe_content(content))
        return self.http.send_once(
            "POST", MUTATIONS_PATH, content=content, await_timeout_ms=await_timeout_ms
        )

    def close(self) -> None:
        """Release the pooled connections."""
        self.http.close()


def describe_mutation(body: Any) -> str:
    """``create salesforce:contact, 200 records``: kind, collection and record count of a
    mutation body, never its data."""
    if not isinstance(body, Mapping):
        return "(unreadable body)"
    kind, collection = body.get("kind"), body.get("collection_id")
    items = body.get("upstream_ids") if kind == "delete" else body.get("records")
    count = len(items) if isinstance(items, list) else 0
    return f"{kind} {collection}, {count} record{'' if count == 1 else 's'}"


def _describe_content(content: bytes) -> str:
    try:
        return describe_mutation(decode_json(content, "POST", MUTATIONS_PATH))
    except APIError:
        return "(unreadable body)"


class HasRequestor(Protocol):
    """A ``Client`` or a ``Requestor``: what sessions and managers accept as ``client=``."""

    @property
    def requestor(self) -> Requestor: ...


_default: HasRequestor | None = None
_lock = threading.Lock()


def default_holder() -> HasRequestor | None:
    """What ``configure()`` (or a first use) installed as the default, if anything."""
    with _lock:
        return _default


_ANY: Any = object()


def install_default(holder: HasRequestor | None, *, expected: Any = _ANY) -> HasRequestor | None:
    """Make ``holder`` the default, closing the requestor it replaces (unless ``holder``
    shares it). With ``expected``, only if the default is still ``expected``. Returns the
    default in force afterwards."""
    global _default
    with _lock:
        previous = _default
        if expected is not _ANY and previous is not expected:
            return previous
        _default = holder
    if previous is not None and (holder is None or previous.requestor is not holder.requestor):
        previous.requestor.close()
    return holder


def default_requestor() -> Requestor:
    """The default requestor: ``configure()``'s, else one built from the environment."""
    holder = default_holder()
    if holder is None:
        built = Requestor(
            resolve_settings(
                api_token=None,
                base_url=None,
                syncs=None,
                timeout=None,
                max_retries=None,
                batch_size=None,
            )
        )
        holder = install_default(built, expected=None)
        if holder is not built:
            built.close()
        assert holder is not None
    return holder.requestor


def reset_default() -> None:
    """Forget (and close) the default; the next use builds a new one."""
    install_default(None)


def requestor_of(client: HasRequestor | None) -> Requestor:
    """The requestor of ``client``, else the default one."""
    return client.requestor if client is not None else default_requestor()


class ClientBound:
    """Base of managers and consumers: bound to a client, or to the default one (looked up
    at each use, so a later ``configure()`` still applies)."""

    _bound: HasRequestor | None

    def __init__(self, client: HasRequestor | None = None) -> None:
        self._bound = client

    @property
    def requestor(self) -> Requestor:
        """The bound client's requestor, else the default one."""
        return requestor_of(self._bound)
