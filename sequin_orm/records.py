"""Record metadata: the part of a Sequin record around its ``data``."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

#: ``(upstream_id, record_id, sync_id, upstream_created_at, upstream_updated_at,
#: updated_idx, deleted)``; None where the record does not say.
_Str = str | None
MetaValues = tuple[_Str, _Str, _Str, _Str, _Str, int | None, bool | None]


def text_of(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None (a metadata value of the wrong
    type reads as absent)."""
    return value if value and isinstance(value, str) else None


def index_of(value: Any) -> int | None:
    """``value`` when it is an int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def identity_of(record: Mapping[str, Any]) -> tuple[_Str, _Str, bool | None]:
    """``(upstream_id, sync_id, deleted)`` of a record: what every loaded or saved object
    keeps at hand. Tolerates the documented drift: a flat ``sync_id`` or a ``sync`` object."""
    get = record.get
    upstream_id, sync_id, deleted = get("upstream_id"), get("sync_id"), get("deleted")
    if not sync_id:
        sync_id = nested_sync_id(record, None)
    # text_of, inline: every loaded or saved object comes through here
    return (
        upstream_id if upstream_id and isinstance(upstream_id, str) else None,
        sync_id if sync_id and isinstance(sync_id, str) else None,
        None if deleted is None else bool(deleted),
    )


def nested_sync_id(record: Mapping[str, Any], default: str | None) -> Any:
    """The ``id`` of the record's ``sync`` object, where a record without a flat ``sync_id``
    names its sync (the documented drift); ``default`` when it names none there (no ``sync``
    object, or no ``id`` in it). Not checked: compare it, or see ``text_of``."""
    sync = record.get("sync")
    return (sync.get("id") if isinstance(sync, Mapping) else None) or default


def read_meta(record: Mapping[str, Any]) -> MetaValues:
    """Everything Sequin says about a record besides its data, checked (for the mirror)."""
    upstream_id, sync_id, deleted = identity_of(record)
    get = record.get
    return (
        upstream_id,
        text_of(get("id")),
        sync_id,
        text_of(get("upstream_created_at")),
        text_of(get("upstream_updated_at")),
        index_of(get("updated_idx")),
        deleted,
    )


def fold_key(key: str) -> str:
    """A key without case or underscores: ``activity_date`` and ``ActivityDate`` fold alike."""
    return key.replace("_", "").lower()


def foreign_collection(record: Mapping[str, Any], collection_id: str) -> str | None:
    """The ``collection_id`` a record names when it is not ``collection_id`` (else None).

    A record that names no collection is taken as the one asked for; an empty
    ``collection_id`` (a model class without one) accepts every record.
    """
    named = record.get("collection_id")
    if not collection_id or named is None or named == collection_id:
        return None
    return named if isinstance(named, str) else repr(named)


# --- the rarely read metadata, packed ---------------------------------------------------------

#: The record keys a packed metadata value holds, in this order (``inserted_at`` is
#: ``created_at`` in the ``/v1/records`` example); ``sync`` is the sync object (``id``,
#: ``external_id``, ``metadata``).
PACKED_KEYS = (
    "id",
    "upstream_created_at",
    "upstream_updated_at",
    "updated_idx",
    "stream_id",
    "inserted_at",
    "sync",
)
RECORD_ID, CREATED_AT, UPDATED_AT, UPDATED_IDX, STREAM_ID, INSERTED_AT, SYNC = range(7)
_SAYS_NOTHING = [None] * len(PACKED_KEYS)
_said_by_every_key = operator.itemgetter(*PACKED_KEYS)

#: JSON text of the values of ``PACKED_KEYS`` (see ``pack_meta``).
Packed = str


def pack_meta(record: Mapping[str, Any], known: Packed | None = None) -> Packed | None:
    """The rarely read metadata of ``record`` as ONE string, over what was ``known``:
    keys the record lacks keep their known value (None: nothing known or said).

    Only gathered and encoded here (a few C calls for a whole record); values are checked
    when read (``meta_text``, ``meta_index``, ``meta_sync``). One string per object costs
    less memory than the strings it holds would, and nothing is parsed until asked for. (A
    str, not orjson's bytes: those keep a 4 KiB buffer whatever their length.)
    """
    said: Sequence[Any]
    try:
        said = _said_by_every_key(record)  # an answer of the API: one C call
    except KeyError:
        said = tuple(map(record.get, PACKED_KEYS))
    if said[INSERTED_AT] is None or (known is not None and None in said):
        completed = _said_over_known(record, said, known)
        if completed is None:
            return known
        said = completed
    try:
        packed = orjson.dumps(said, default=_unpackable, option=_AS_ABSENT)
    except orjson.JSONEncodeError:  # a value JSON cannot hold (a lone surrogate …): absent
        packed = orjson.dumps(tuple(_packable(value) for value in said), option=_AS_ABSENT)
    return packed.decode()


def _said_over_known(
    record: Mapping[str, Any], said: Sequence[Any], known: Packed | None
) -> list[Any] | None:
    """``said`` completed: ``created_at`` for a missing ``inserted_at``, the ``known`` values
    for keys the record lacks. None when the record says nothing."""
    values = list(said)
    if values[INSERTED_AT] is None:  # the name of the /v1/records example
        values[INSERTED_AT] = record.get("created_at")
    if values == _SAYS_NOTHING:
        return None
    if known is not None and None in values:
        return [o if n is None else n for n, o in zip(values, unpack_meta(known), strict=True)]
    return values


def unpack_meta(packed: Packed | None) -> list[Any]:
    """The values of ``PACKED_KEYS`` (None each when nothing is known), unchecked."""
    return list(_SAYS_NOTHING) if packed is None else list(orjson.loads(packed))


def meta_text(packed: Packed | None, index: int) -> str | None:
    return None if packed is None else text_of(orjson.loads(packed)[index])


def meta_index(packed: Packed | None) -> int | None:
    return None if packed is None else index_of(orjson.loads(packed)[UPDATED_IDX])


def meta_sync(packed: Packed | None) -> dict[str, Any] | None:
    """The record's ``sync`` object (a new dict), when it had one."""
    sync = None if packed is None else orjson.loads(packed)[SYNC]
    return sync if isinstance(sync, dict) else None


#: datetimes and dataclasses go to ``_unpackable`` too (orjson would write them as JSON)
_AS_ABSENT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _unpackable(value: Any) -> None:
    return None  # orjson's default for a type it cannot write: the value reads as absent


def _packable(value: Any) -> Any:
    try:
        orjson.dumps(value, default=_unpackable, option=_AS_ABSENT)
    except orjson.JSONEncodeError:
        return None
    return value
