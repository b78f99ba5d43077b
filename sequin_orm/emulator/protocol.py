"""Transport-neutral request and response types shared by every front door."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from sequin_orm.emulator.jsonutil import dumps, loads


@dataclass(frozen=True)
class Request:
    """One HTTP request as the handler sees it (header names lower-cased)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    json: Any = None
    json_ok: bool = True

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query: str | Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Request:
        """Normalise raw parts: upper-case method, decoded path, parsed query and JSON body."""
        params = (
            dict(parse_qsl(query, keep_blank_values=True)) if isinstance(query, str) else {**query}
        )
        value, ok = loads(body)
        clean_path = "/" + "/".join(unquote(p) for p in path.split("/") if p)
        return cls(
            method=method.upper(),
            path=clean_path,
            query=params,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            json=value,
            json_ok=ok,
        )

    def with_json(self, value: Any) -> Request:
        """A copy of this request carrying another JSON body."""
        return Request(self.method, self.path, self.query, self.headers, dumps(value), value)


@dataclass(frozen=True)
class Response:
    """What the handler answers; ``drop`` means: close the connection without answering."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    drop: bool = False


DROP = Response(status=0, drop=True)
"""The response that makes a front door close the connection without a reply."""


def json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response."""
    pairs = (("Content-Type", "application/json"), *(headers or {}).items())
    return Response(status=status, headers=tuple(pairs), body=dumps(value))


def empty_response(status: int = 204) -> Response:
    """A response without a body (ack, nack, admin deletes)."""
    return Response(status=status)


@dataclass(eq=False)
class ApiError(Exception):
    """An error answer raised anywhere below the handler and turned into a ``Response``."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict[str, str])

    def __str__(self) -> str:
        return f"{self.status}: {self.body}"

    def response(self) -> Response:
        """This error as a JSON response."""
        return json_response(self.status, self.body, self.headers)


MUTATION_PATH = "/v1/mutations/run"
MUTATION_DOCS = "https://sequin.io/docs/mutations/overview"


def mutation_error(message: str, status: int = 400, doc: str = MUTATION_DOCS) -> ApiError:
    """A Mutation API error: ``{"error": "Error: ...", "docs": [...]}``."""
    return ApiError(status, {"error": message, "docs": [doc]})


def summary_error(status: int, summary: str) -> ApiError:
    """A Management API error: ``{"summary": ...}``."""
    return ApiError(status, {"summary": summary})


def not_found() -> ApiError:
    """The 404 for unknown ids and paths."""
    return summary_error(404, "Not found")


def invalid(errors: Mapping[str, list[str]]) -> ApiError:
    """The 422 with ``validation_errors``."""
    return ApiError(422, {"summary": "Validation failed", "validation_errors": dict(errors)})


def invalid_field(name: str, reason: str) -> ApiError:
    """A 422 for a single field."""
    return invalid({name: [reason]})
