"""Secret values of credentials: masked everywhere except in the request body that needs them.

Credential ``properties`` hold API keys, refresh tokens and passwords. Loaded or built, each such
value is wrapped in a ``Secret`` whose ``repr``/``str`` is ``**********``; only the JSON body of a
request that creates a credential or a sync unwraps it (``reveal``). ``scrub_json_secrets`` masks
the same keys in any JSON value, for logs and recorded cassettes.

A key is secret when it is one of ``secret``, ``secret_key``, ``refresh_token``,
``access_token``, ``password``, ``client_secret``, ``api_key``, ``private_key``, or ends in
``_secret``, ``_token`` or ``password`` (case-insensitive). ``ack_token`` is not a secret: it is
a consumer's receipt for one message, and masking it would break replayed acks.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from sequin_orm.errors import APIError, APIStatusError

__all__ = [
    "MASK",
    "Secret",
    "collect_secret_values",
    "is_secret_key",
    "redact_errors",
    "reveal",
    "scrub_json_secrets",
    "wrap_secrets",
]

#: What a secret looks like in ``repr``, logs and cassettes.
MASK: Final = "**********"

_SECRET_NAMES: Final = frozenset(
    {
        "secret",
        "secret_key",
        "refresh_token",
        "access_token",
        "password",
        "client_secret",
        "api_key",
        "private_key",
    }
)
_SECRET_SUFFIXES: Final = ("_secret", "_token", "password")
_NOT_SECRET_NAMES: Final = frozenset({"ack_token"})


def is_secret_key(name: str) -> bool:
    """Whether a JSON key names a secret value (see the module docstring for the rule)."""
    key = name.lower()
    if key in _NOT_SECRET_NAMES:
        return False
    return key in _SECRET_NAMES or key.endswith(_SECRET_SUFFIXES)


class Secret:
    """A string that never shows itself: ``repr`` and ``str`` are masked.

    ``get_secret_value()`` returns the real value. Two secrets compare equal (in constant time)
    when their values are equal.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret takes a str")
        self._value = value

    def get_secret_value(self) -> str:
        """The real value. Keep it out of logs and exception messages."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


def wrap_secrets(value: Any) -> Any:
    """A copy of a JSON value where every string under a secret key is a ``Secret``.

    Dicts and lists are copied at every depth; other values are returned as they are.
    """
    if isinstance(value, Mapping):
        return {
            key: Secret(item)
            if isinstance(item, str) and isinstance(key, str) and is_secret_key(key)
            else wrap_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [wrap_secrets(item) for item in value]
    return value


def reveal(value: Any) -> Any:
    """A copy of a JSON value with every ``Secret`` replaced by its real value (for bodies)."""
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def scrub_json_secrets(obj: Any) -> Any:
    """A copy of a JSON value with the value of every secret key, at any depth, masked.

    ``None`` stays ``None`` (nothing to hide); ``Secret`` objects anywhere become the mask.
    """
    if isinstance(obj, Secret):
        return MASK
    if isinstance(obj, Mapping):
        return {
            key: MASK
            if isinstance(key, str) and is_secret_key(key) and item is not None
            else scrub_json_secrets(item)
            for key, item in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [scrub_json_secrets(item) for item in obj]
    return obj


def collect_secret_values(value: Any) -> list[str]:
    """Every secret string held in a JSON value: ``Secret`` objects and strings at secret keys."""
    found: list[str] = []

    def walk(item: Any, secret: bool) -> None:
        if isinstance(item, Secret):
            found.append(item.get_secret_value())
        elif isinstance(item, str) and secret:
            found.append(item)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                walk(inner, isinstance(key, str) and is_secret_key(key))
        elif isinstance(item, list | tuple):
            for inner in item:
                walk(inner, secret)

    walk(value, False)
    return [s for s in found if s and s != MASK]


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _redact_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {k: _redact_value(v, secrets) for k, v in scrub_json_secrets(value).items()}
    if isinstance(value, list):
        return [_redact_value(v, secrets) for v in value]
    return value


@contextmanager
def redact_errors(sent: Any) -> Iterator[None]:
    """Mask the secrets of a request body in any ``APIError`` raised inside the block.

    Should the server echo a secret back in an error message or body, the exception that
    reaches the caller (and its ``str``, ``repr`` and ``body``) shows the mask instead.
    """
    secrets = sorted(set(collect_secret_values(sent)), key=len, reverse=True)
    try:
        yield
    except APIError as error:
        if secrets:
            error.message = _redact_text(error.message, secrets)
            error.args = tuple(_redact_value(arg, secrets) for arg in error.args)
            if isinstance(error, APIStatusError):
                error.body = _redact_value(error.body, secrets)
        raise
