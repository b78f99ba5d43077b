"""Field-by-field validation of Management API bodies, collected into one 422."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sequin_orm.emulator.jsonutil import JSONObject, as_list, as_object, is_int
from sequin_orm.emulator.protocol import invalid, summary_error


def require_object(value: Any) -> JSONObject:
    """The body as an object, or the documented 400 for a malformed request."""
    body = as_object(value)
    if body is None:
        raise summary_error(400, "Your request is invalid")
    return body


class Checker:
    """Reads typed fields from a body and collects every problem before raising one 422."""

    def __init__(self, body: JSONObject) -> None:
        self.body = body
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, reason: str) -> None:
        """Record a problem with ``key``."""
        self.errors.setdefault(key, []).append(reason)

    def done(self) -> None:
        """Raise the 422 when any problem was recorded."""
        if self.errors:
            raise invalid(self.errors)

    def string(
        self, key: str, *, required: bool = False, choices: Collection[str] = ()
    ) -> str | None:
        """A string field (``null`` and absent are ``None``)."""
        value = self.body.get(key)
        if value is None:
            if required:
                self.fail(key, "can't be blank")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(key, "must be a non-empty string" if required else "must be a string")
            return None
        if choices and value not in choices:
            self.fail(key, "must be one of: " + ", ".join(choices))
            return None
        return value

    def integer(self, key: str, default: int, *, minimum: int, allow: int | None = None) -> int:
        """An integer field of at least ``minimum`` (or exactly ``allow``)."""
        value = self.body.get(key, default)
        if is_int(value) and (value >= minimum or value == allow):
            return int(value)
        extra = f" (or {allow})" if allow is not None else ""
        self.fail(key, f"must be an integer >= {minimum}{extra}")
        return default

    def number_or_null(self, key: str) -> int | float | None:
        """A non-negative number or ``null``."""
        value = self.body.get(key)
        if value is None or (
            isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        ):
            return value
        self.fail(key, "must be a non-negative number or null")
        return None

    def obj(self, key: str) -> JSONObject | None:
        """An object field (absent or ``null`` is ``None``)."""
        value = self.body.get(key)
        if value is None:
            return None
        found = as_object(value)
        if found is None:
            self.fail(key, "must be an object")
        return found

    def strings(self, key: str) -> list[str]:
        """A non-empty list of strings."""
        items = as_list(self.body.get(key))
        if not items or not all(isinstance(item, str) for item in items):
            self.fail(key, "must be a non-empty list of strings")
            return []
        return [str(item) for item in items]

    def only(self, allowed: Collection[str]) -> None:
        """Reject every key outside ``allowed`` (PATCH bodies)."""
        for key in self.body:
            if key not in allowed:
                self.fail(key, "cannot be changed")
