"""Management API JSON <-> attrs objects, through one private cattrs converter (no I/O).

Every resource class (``Sync``, ``Credential``, ``Health`` …) is an attrs class with an
``extra: dict[str, Any]`` field. Structuring is tolerant of what the docs show:

- a response wrapped in ``{"data": ...}`` or not (``unwrap``); lists as ``{"data": [...]}`` or
  a bare array (``unwrap_list``);
- keys the class does not declare go to ``extra`` (never an error: the API adds fields);
- timestamps with or without ``T`` and ``Z`` (``2023-12-15 01:29:29``,
  ``2024-02-20T02:10:52Z``) become timezone-aware ``datetime`` objects, naive ones read as UTC;
  a timestamp that does not parse is kept, as sent, in ``extra``;
- ``null`` for a list or dict field means its empty default.

The converter is configured once, here, and never exposed; the global cattrs converter is
never touched. Errors of shape become ``APIResponseValidationError`` (for responses) or
``ModelError`` (for user input), with the path of the bad value but never the value itself.
"""

from __future__ import annotations

import datetime
import json
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from sequin_orm.errors import APIResponseValidationError, ModelError
from sequin_orm.fields import parse_datetime
from sequin_orm.secrets import wrap_secrets

__all__ = [
    "ClassManager",
    "decode",
    "decode_list",
    "encode_query_json",
    "parse_timestamp",
    "path_segment",
    "structure_input",
    "unwrap",
    "unwrap_list",
]

_T = TypeVar("_T")
_M = TypeVar("_M")

_converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)

_NUMBER_TYPES = (int | float | None, typing.Optional[int | float])  # noqa: UP045


def parse_timestamp(value: Any) -> datetime.datetime | None:
    """A timezone-aware datetime from the API's timestamp formats; None if it does not parse.

    ``2023-12-15 01:29:29`` (no zone: read as UTC), ``2024-02-20T02:10:52Z``,
    ``2024-11-10T18:39:00.070453Z`` and explicit offsets are all accepted.
    """
    if isinstance(value, datetime.datetime):
        parsed: datetime.datetime | None = value
    elif isinstance(value, str):
        parsed = parse_datetime(value)
    else:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _structure_datetime(value: Any, _: Any) -> datetime.datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError("not a timestamp")
    return parsed


def _structure_number(value: Any, _: Any) -> int | float | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise ValueError("not a number")


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("not a string")


def _is_list(hint: Any) -> bool:
    return typing.get_origin(hint) is list


def _structure_list(value: Any, hint: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TypeError("expected a JSON array")
    (item_type,) = typing.get_args(hint) or (Any,)
    return [_converter.structure(item, item_type) for item in value]


_converter.register_structure_hook(datetime.datetime, _structure_datetime)
# a predicate, not register_structure_hook(Any, ...): Python 3.10's singledispatch refuses Any
_converter.register_structure_hook_func(lambda hint: hint is Any, _structure_any)
_converter.register_structure_hook(str, _structure_str)
_converter.register_structure_hook_func(_is_list, _structure_list)
for _number in _NUMBER_TYPES:
    _converter.register_structure_hook(_number, _structure_number)


def _has_extra(cls: Any) -> bool:
    return attrs.has(cls) and "extra" in attrs.fields_dict(cls)


def _is_timestamp(hint: Any) -> bool:
    return hint is datetime.datetime or datetime.datetime in typing.get_args(hint)


def _make_structure_hook(cls: type[_T]) -> Callable[[Any, Any], _T]:
    """A hook that sends undeclared keys (and unparseable timestamps) to ``extra``."""
    hints = typing.get_type_hints(cls)
    attributes: tuple[attrs.Attribute[Any], ...] = attrs.fields(cast(Any, cls))
    fields = [a for a in attributes if a.init and a.name != "extra"]
    names = {a.name for a in fields}
    defaulted = {a.name for a in fields if isinstance(a.default, cast(Any, attrs.Factory))}
    timestamps = {a.name for a in fields if _is_timestamp(hints[a.name])}
    base = make_dict_structure_fn(cls, _converter)

    def structure(value: Any, _: Any) -> _T:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}")
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, item in value.items():
            if key not in names:
                extra[key] = item
            elif item is None and key in defaulted:
                continue
            elif key in timestamps and item is not None and parse_timestamp(item) is None:
                extra[key] = item
            else:
                known[key] = item
        known["extra"] = wrap_secrets(extra)
        return base(known, cls)

    return structure


_converter.register_structure_hook_factory(_has_extra, _make_structure_hook)


def _messages(error: Exception) -> str:
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error, path="$"))
    return type(error).__name__


def _structure(data: Any, cls: type[_T]) -> _T:
    return _converter.structure(data, cls)


def structure_input(data: Any, cls: type[_T], what: str) -> _T:
    """Structure a value given by the user (a dict of a documented shape) or raise ModelError."""
    if isinstance(data, cls):
        return data
    try:
        return _structure(data, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError) as error:
        raise ModelError(f"Invalid {what}: {_messages(error)}") from None


def unwrap(payload: Any) -> Any:
    """The object of a response, whether or not it comes wrapped in ``{"data": ...}``.

    An object with an ``id`` is never unwrapped (a record's ``data`` is its payload).

    A one-element list (the docs' copy-paste of a list response on some get pages) is
    unwrapped too.
    """
    if isinstance(payload, Mapping) and "data" in payload and "id" not in payload:
        payload = payload["data"]
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    return payload


def unwrap_list(payload: Any) -> list[Any] | None:
    """The items of a list response (``{"data": [...]}`` or a bare array); None if neither."""
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), list):
        payload = payload["data"]
    return list(payload) if isinstance(payload, list) else None


def decode(payload: Any, cls: type[_T], *, method: str, path: str) -> _T:
    """A typed object from a response body, or ``APIResponseValidationError``."""
    try:
        return _structure(unwrap(payload), cls)
    except (cattrs.BaseValidationError, TypeError, ValueError) as error:
        raise APIResponseValidationError(
            f"Unexpected {cls.__name__} in the response: {_messages(error)}",
            method=method,
            path=path,
        ) from None


def decode_list(payload: Any, cls: type[_T], *, method: str, path: str) -> list[_T]:
    """Typed objects from a list response, or ``APIResponseValidationError``."""
    items = unwrap_list(payload)
    if items is None:
        raise APIResponseValidationError(
            f"Expected a list of {cls.__name__} in the response", method=method, path=path
        )
    return [decode(item, cls, method=method, path=path) for item in items]


def path_segment(value: Any, what: str) -> str:
    """An id made safe for a URL path, or ``ModelError`` (before any request) when it is not a
    non-empty string, is ``.`` or ``..`` (a client or proxy would resolve it into another
    path: ``DELETE /v1/syncs/.`` is ``DELETE /v1/syncs``) or contains ``/`` or ``\\``."""
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{what} must be a non-empty string")
    if value.strip() in (".", "..") or "/" in value or "\\" in value:
        raise ModelError(f"{what} {value!r} is not an id: '.', '..', '/' and '\\' are refused")
    return quote(value, safe="")


def encode_query_json(value: Mapping[str, Any]) -> str:
    """A JSON map as one query parameter (how list endpoints take ``metadata``)."""
    return json.dumps(dict(value), separators=(",", ":"), sort_keys=True)


class ClassManager(Generic[_M]):
    """A class attribute that returns a manager bound to the default client (``Sync.objects``).

    The default client is looked up at each call, so ``configure()`` later still applies.
    """

    def __init__(self, factory: Callable[[], _M]) -> None:
        self._factory = factory

    def __get__(self, obj: object, owner: type | None = None) -> _M:
        return self._factory()
