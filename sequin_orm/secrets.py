"""Secret values of credentials: masked everywhere except in the request body that needs them.

Credential ``properties`` hold API keys, refresh tokens and passwords under names nobody can
list in advance (``apiKey``, ``token``, ``clientSecret`` …). So every value of a credential's
``properties`` is secret **by default**, whatever its key, except the short allow-list
``NON_SECRET_PROPERTIES`` (``kind``, ``name``, ``test``, ``instance_url`` …). Loaded or built,
each such string is wrapped in a ``Secret`` whose ``repr``/``str`` is ``**********``; only the
JSON body of a request that creates a credential or a sync unwraps it (``reveal``).
``scrub_json_secrets`` masks the same values in any JSON value, for logs, cassettes and errors.

Credential properties are found by shape, at any depth: the ``properties`` object of a
``credential`` (a sync's), or of an object whose ``properties`` carry a ``kind`` or that has an
``oauth_app_id``/``oauth_app`` (a credential). A record's ``properties`` (HubSpot) carry no
``kind`` and stay as they are.

Elsewhere a key is secret by its name: one of ``secret``, ``secret_key``, ``refresh_token``,
``access_token``, ``password``, ``client_secret``, ``api_key``, ``private_key``, or ending in
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
    "NON_SECRET_PROPERTIES",
    "Secret",
    "collect_secret_values",
    "is_credential_properties",
    "is_secret_key",
    "is_secret_property",
    "redact_errors",
    "reveal",
    "scrub_json_secrets",
    "wrap_properties",
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

#: Shorter secret values are masked where they sit in JSON but not searched for in free text.
MIN_REDACTED_LENGTH: Final = 4

#: Credential property keys whose values are not secret (everything else in ``properties`` is).
NON_SECRET_PROPERTIES: Final = frozenset(
    {"kind", "name", "test", "sandbox", "instance_url", "hub_id", "region", "environment"}
)
_CREDENTIAL_KEYS: Final = frozenset({"credential"})
_CREDENTIAL_MARKERS: Final = frozenset({"oauth_app_id", "oauth_app"})


def is_secret_property(name: str) -> bool:
    """Whether a credential property's value is secret: every key but ``NON_SECRET_PROPERTIES``."""
    return name not in NON_SECRET_PROPERTIES


def is_credential_properties(parent_key: Any, owner: Mapping[Any, Any], key: Any) -> bool:
    """Whether ``owner[key]`` holds a credential's ``properties`` (see the module docstring).

    ``parent_key`` is the key under which ``owner`` was found (None at the top).
    """
    if key != "properties" or not isinstance(owner.get(key), Mapping):
        return False
    return (
        parent_key in _CREDENTIAL_KEYS
        or "kind" in owner[key]
        or any(marker in owner for marker in _CREDENTIAL_MARKERS)
    )


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


def wrap_secrets(value: Any, _parent: Any = None) -> Any:
    """A copy of a JSON value where every secret string is a ``Secret``: strings under a secret
    key name, and every string of a credential's ``properties`` but the allow-listed keys.

    Dicts and lists are copied at every depth; other values are returned as they are.
    """
    if isinstance(value, Mapping):
        return {
            key: wrap_properties(item)
            if is_credential_properties(_parent, value, key)
            else Secret(item)
            if isinstance(item, str) and isinstance(key, str) and is_secret_key(key)
            else wrap_secrets(item, key)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [wrap_secrets(item, _parent) for item in value]
    return value


def wrap_properties(properties: Any) -> Any:
    """A copy of a credential's ``properties`` where every string, at any depth, is a ``Secret``
    except the values of ``NON_SECRET_PROPERTIES`` keys (``Credential.properties`` converter)."""
    if not isinstance(properties, Mapping):
        return properties
    return {
        key: wrap_secrets(item)
        if isinstance(key, str) and not is_secret_property(key)
        else _wrap_all(item)
        for key, item in properties.items()
    }


def _wrap_all(value: Any) -> Any:
    if isinstance(value, str):
        return Secret(value)
    if isinstance(value, Mapping):
        return {key: _wrap_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wrap_all(item) for item in value]
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


def scrub_json_secrets(obj: Any, _parent: Any = None) -> Any:
    """A copy of a JSON value with every secret, at any depth, masked: the value of every secret
    key name, and every value of a credential's ``properties`` but the allow-listed keys.

    ``None`` stays ``None`` (nothing to hide); ``Secret`` objects anywhere become the mask.
    """
    if isinstance(obj, Secret):
        return MASK
    if isinstance(obj, Mapping):
        return {
            key: _scrub_properties(item)
            if is_credential_properties(_parent, obj, key)
            else MASK
            if isinstance(key, str) and is_secret_key(key) and item is not None
            else scrub_json_secrets(item, key)
            for key, item in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [scrub_json_secrets(item, _parent) for item in obj]
    return obj


def _scrub_properties(properties: Mapping[Any, Any]) -> dict[Any, Any]:
    return {
        key: scrub_json_secrets(item)
        if isinstance(key, str) and not is_secret_property(key)
        else _mask_all(item)
        for key, item in properties.items()
    }


def _mask_all(value: Any) -> Any:
    """Every str and number masked, at any depth (booleans and None say nothing)."""
    if isinstance(value, Mapping):
        return {key: _mask_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_all(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return MASK


def collect_secret_values(value: Any) -> list[str]:
    """Every secret string held in a JSON value: ``Secret`` objects, strings at secret keys and
    the strings of a credential's ``properties`` (but the allow-listed keys)."""
    found: list[str] = []

    def walk(item: Any, secret: bool, parent: Any) -> None:
        if isinstance(item, Secret):
            found.append(item.get_secret_value())
        elif isinstance(item, str) and secret:
            found.append(item)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if is_credential_properties(parent, item, key):
                    for name, prop in inner.items():
                        hidden = secret or not isinstance(name, str) or is_secret_property(name)
                        walk(prop, hidden or is_secret_key(str(name)), name)
                else:
                    walk(inner, secret or (isinstance(key, str) and is_secret_key(key)), key)
        elif isinstance(item, list | tuple):
            for inner in item:
                walk(inner, secret, parent)

    walk(value, False, None)
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
    reaches the caller (and its ``str``, ``repr`` and ``body``) shows the mask instead. Values
    shorter than ``MIN_REDACTED_LENGTH`` are not searched for in text (replacing ``"us"``
    everywhere would garble the message); JSON bodies mask them by position all the same.
    """
    found = {s for s in collect_secret_values(sent) if len(s) >= MIN_REDACTED_LENGTH}
    secrets = sorted(found, key=len, reverse=True)
    try:
        yield
    except APIError as error:
        if secrets:
            error.message = _redact_text(error.message, secrets)
            error.args = tuple(_redact_value(arg, secrets) for arg in error.args)
            if isinstance(error, APIStatusError):
                error.body = _redact_value(error.body, secrets)
        raise
