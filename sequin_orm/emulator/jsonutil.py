"""Small typed helpers for untrusted JSON values and for encoding responses."""

from __future__ import annotations

import json
from typing import Any, TypeGuard, cast

JSONObject = dict[str, Any]


def as_object(value: object) -> JSONObject | None:
    """Return ``value`` as a JSON object when it is one, else ``None``."""
    if isinstance(value, dict):
        return cast(JSONObject, value)
    return None


def as_list(value: object) -> list[Any] | None:
    """Return ``value`` as a JSON array when it is one, else ``None``."""
    if isinstance(value, list):
        items: list[Any] = value
        return items
    return None


def is_int(value: object) -> TypeGuard[int]:
    """True for JSON integers (``bool`` is not an integer here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def dumps(value: object) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def loads(body: bytes) -> tuple[Any, bool]:
    """Decode a request body: ``(value, ok)``; an empty body is ``(None, True)``."""
    if not body.strip():
        return None, True
    try:
        return json.loads(body), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def get_path(data: JSONObject, dotted: str) -> tuple[bool, Any]:
    """Look up ``a.b.c`` in nested objects: ``(found, value)``."""
    current: object = data
    for part in dotted.split("."):
        obj = as_object(current)
        if obj is None or part not in obj:
            return False, None
        current = obj[part]
    return True, current
