"""The JSON codec of the API (pure: no I/O): compact UTF-8 out, strict in, via orjson."""

from __future__ import annotations

import math
from typing import Any

import orjson

from sequin_orm.errors import APIResponseValidationError, ModelError

__all__ = ["decode_json", "encode_json", "error_body", "unreadable"]

# orjson writes datetimes and dataclasses itself; json.dumps refused them, and so do we
_ENCODE_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode_json(body: Any) -> bytes:
    """A request body as the API is sent it: compact UTF-8 JSON (hits no network).

    Byte for byte what ``json.dumps(body, separators=(",", ":"), ensure_ascii=False)`` wrote,
    except floats below 1e-4 (``0.00001`` rather than ``1e-05``: the same number). Raises
    ``ModelError`` for what JSON cannot carry: NaN and infinities, lone surrogates, dict keys
    that are not strings, integers beyond 64 bits, nesting deeper than 254, and values of
    other types (sets, bytes, datetimes, Decimals …).
    """
    try:
        content = orjson.dumps(body, option=_ENCODE_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise ModelError(f"The request body cannot be sent as JSON: {exc}") from None
    # orjson writes NaN and infinities as null: only a body with a null can hold one
    if b"null" in content:
        _refuse_non_finite(body)
    return content


def _refuse_non_finite(body: Any) -> None:
    path = _non_finite_path(body)
    if path is not None:
        where = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path[::-1])
        raise ModelError(
            "The request body cannot be sent as JSON: NaN or infinity at "
            + (where.lstrip(".") or "the top level")
        )


def _non_finite_path(value: Any) -> list[Any] | None:
    """The keys leading to a NaN or infinity in ``value``, innermost first; None if none."""
    if isinstance(value, float):
        return None if math.isfinite(value) else []
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list | tuple):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        path = _non_finite_path(child)
        if path is not None:
            path.append(key)
            return path
    return None


def decode_json(content: bytes, method: str, path: str) -> Any:
    """The JSON of a 2xx body (None when empty).

    Anything unreadable (invalid UTF-8, nesting deeper than 1024, not JSON) is
    ``APIResponseValidationError`` with ``outcome_unknown``, never another exception.
    """
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise unreadable(method, path, f"it is not JSON ({exc.msg})") from None


def unreadable(method: str, path: str, why: str) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"A 2xx response whose body cannot be read: {why}",
        method=method,
        path=path,
        outcome_unknown=True,
    )


def error_body(content: bytes) -> Any:
    """An error body: its JSON, else its text."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return content.decode("utf-8", "replace")
