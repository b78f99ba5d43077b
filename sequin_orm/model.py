"""The ``Model`` base class: typed fields, dirty tracking, ``extra`` keys, save and delete.

A model class is a plain attrs class over ``Model``::

    @attrs.define(kw_only=True, eq=False)
    class Contact(Model):
        collection_id: ClassVar[str] = "salesforce:contact"
        provider: ClassVar[str] = "salesforce"

        FirstName: str | None = None
        Id: str | None = attrs.field(default=None, init=False, metadata=meta(read_only=True))

Each object remembers the record ``data`` last seen from the API (``_raw``), which attributes
were assigned since (``_changed``), and undeclared keys (``extra``). Nothing here does I/O:
``save()`` and ``delete()`` hand the object to a ``Session``.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator, Mapping
from itertools import compress, repeat
from operator import is_not
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import attrs

from sequin_orm import fields as _fields
from sequin_orm.errors import (
    FieldTypeError,
    ModelError,
    ReadOnlyFieldError,
    UnknownFieldError,
)
from sequin_orm.fields import ClassSpec, FieldSpec, specs_of
from sequin_orm.records import read_meta

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.plan import WriteKwargs
    from sequin_orm.reading import RecordManager
    from sequin_orm.results import SaveResult

__all__ = ["Model", "State", "model_fields"]

_M = TypeVar("_M", bound="Model")


class State(enum.Enum):
    """Where an object stands relative to the API."""

    INIT = "init"  # inside the constructor
    NEW = "new"  # never created upstream
    PERSISTENT = "persistent"  # has an upstream_id
    DELETED = "deleted"  # a delete was applied
    UNKNOWN = "unknown"  # a create may or may not have been applied


# Hot paths compare with these: reading a member off an Enum class goes through EnumType's
# __getattr__ hook, which costs more than the comparison.
_INIT = State.INIT
NEW, PERSISTENT, DELETED, UNKNOWN = State.NEW, State.PERSISTENT, State.DELETED, State.UNKNOWN
_NONES = repeat(None)

_NONE_SLOTS = (
    "_changed",
    "_owner",
    "_created_at",
    "_extra",
    "_raw",
    "_record_id",
    "_sync_id",
    "_updated_at",
    "_updated_idx",
    "_upstream_id",
)

_METADATA_NAMES = frozenset(
    {
        "upstream_id",
        "upstream_created_at",
        "upstream_updated_at",
        "updated_idx",
        "deleted",
        "sync_id",
        "record_id",
    }
)


class _RecordsAccessor:
    """``Model.objects``: the ``RecordManager`` (reading.py) of the class it is read from."""

    def __get__(self, obj: object, owner: type[_M]) -> RecordManager[_M]:
        from sequin_orm.reading import RecordManager

        return RecordManager(owner)


class Model:
    """Base class of every Sequin model (generated or hand-written)."""

    # record metadata lives in slots of its own rather than in one object: a tuple per loaded
    # record would cost about 100 bytes more
    __slots__ = (
        "_changed",
        "_created_at",
        "_extra",
        "_owner",
        "_raw",
        "_record_id",
        "_state",
        "_sync_id",
        "_updated_at",
        "_updated_idx",
        "_upstream_id",
    )

    collection_id: ClassVar[str] = ""
    provider: ClassVar[str] = ""
    #: Records per mutation request for this model; None = the provider default.
    batch_size: ClassVar[int | None] = None
    #: Reads records of this model's collection: ``Contact.objects.iter(...)`` (reading.py).
    objects: ClassVar[_RecordsAccessor] = _RecordsAccessor()

    _changed: set[str] | None
    _created_at: str | None
    _extra: dict[str, Any] | None
    _owner: Any  # a weak reference to the session the object is pending in (session.py)
    _raw: dict[str, Any] | None
    _record_id: str | None
    _state: State
    _sync_id: str | None
    _updated_at: str | None
    _updated_idx: int | None
    _upstream_id: str | None

    @classmethod
    def __attrs_init_subclass__(cls) -> None:
        if cls.__hash__ is None:
            raise TypeError(f"{cls.__name__}: declare models with @attrs.define(eq=False)")
        if cls.collection_id:
            from sequin_orm.registry import register

            register(cls)
        from sequin_orm.constructor import install

        install(cls)

    # -- construction -------------------------------------------------------------------
    # constructor.py generates these two hooks' work inline for model classes: change both

    def __attrs_pre_init__(self) -> None:
        _set_state(self, _INIT)
        for set_slot in _NONE_SETTERS:
            set_slot(self, None)

    def __attrs_post_init__(self) -> None:
        cls = type(self)
        spec = specs_of(cls)
        if spec.direct_init:  # __init__ bypassed __setattr__: check the values given
            values = spec.held_values(self)  # what was given (a date string is not parsed)
            not_none = map(is_not, values, _NONES)  # most are None: filter them out in C
            for field, value in compress(zip(spec.fields, values, strict=True), not_none):
                if field.types is not None and not isinstance(value, field.types):
                    _raise_type_error(cls, field, value)
        for field in spec.non_nullable:  # None defaults skip __setattr__'s checks
            if getattr(self, field.name) is None:
                _raise_type_error(cls, field, None)
        object.__setattr__(self, "_state", NEW)

    @classmethod
    def from_record(cls: type[_M], record: Mapping[str, Any]) -> _M:
        """A clean object from a Sequin record (from a mutation, ``/v1/records`` or a consumer).

        No request is made. Every key of ``record["data"]`` is kept: declared ones in fields,
        the rest in ``extra``.
        """
        return cls._load(record, adopt=False)

    @classmethod
    def _load(cls: type[_M], record: Mapping[str, Any], *, adopt: bool) -> _M:
        """``from_record``; with ``adopt`` the object keeps ``record["data"]`` itself as its
        last-known data instead of a copy (only for JSON the library parsed and owns)."""
        obj = cls.__new__(cls)
        obj.__attrs_pre_init__()
        for field in specs_of(cls).fields:
            object.__setattr__(obj, field.name, field.default_value())
        data = record.get("data")
        if adopt and isinstance(data, dict):
            object.__setattr__(obj, "_raw", data)
            obj._absorb_record({k: v for k, v in record.items() if k != "data"})
        else:
            obj._absorb_record(record)
        return obj

    # -- attribute assignment: type checks and dirty tracking ------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if value is None and self._state is _INIT:
            object.__setattr__(self, name, value)  # a constructor default: the fast path
            return
        cls = type(self)
        field = specs_of(cls).by_name.get(name)
        if field is None:
            self._set_non_field(name, value)
            return
        if value is None:
            if not field.nullable:
                _raise_type_error(cls, field, value)
        elif field.types is not None and not isinstance(value, field.types):
            _raise_type_error(cls, field, value)
        if self._state is not _INIT:
            if field.read_only:
                raise ReadOnlyFieldError(f"{cls.__name__}.{name} is read-only")
            if self._changed is None:
                object.__setattr__(self, "_changed", {name})
            else:
                self._changed.add(name)
        object.__setattr__(self, name, value)

    def _set_non_field(self, name: str, value: Any) -> None:
        if name[0] == "_":
            object.__setattr__(self, name, value)
        elif name == "extra":
            if not isinstance(value, dict):
                raise FieldTypeError("extra must be a dict of record data keys")
            object.__setattr__(self, "_extra", value)
        elif name in _METADATA_NAMES:
            raise ReadOnlyFieldError(f"{name} is record metadata, set by the API")
        elif hasattr(type(self), name):
            raise ReadOnlyFieldError(f"{type(self).__name__}.{name} cannot be assigned")
        else:
            raise UnknownFieldError(
                f"{type(self).__name__} has no field {name!r}; undeclared record keys go in "
                f"obj.extra[{name!r}]"
            )

    # -- record metadata (read-only) -----------------------------------------------------

    @property
    def upstream_id(self) -> str | None:
        """The record's id in the upstream API (e.g. a Salesforce id); None until created."""
        return self._upstream_id

    @property
    def record_id(self) -> str | None:
        """Sequin's id of the record."""
        return self._record_id

    @property
    def sync_id(self) -> str | None:
        """The sync the record belongs to."""
        return self._sync_id

    @property
    def upstream_created_at(self) -> str | None:
        return self._created_at

    @property
    def upstream_updated_at(self) -> str | None:
        return self._updated_at

    @property
    def updated_idx(self) -> int | None:
        """Version of the record: increases on every change."""
        return self._updated_idx

    @property
    def deleted(self) -> bool | None:
        """True once a delete was applied; None until the record is known."""
        state = self._state
        if state is DELETED:
            return True
        return False if state is PERSISTENT else None

    @property
    def extra(self) -> dict[str, Any]:
        """Record ``data`` keys the model does not declare; saved back unchanged."""
        if self._extra is None:
            object.__setattr__(self, "_extra", {})
        return self._extra  # type: ignore[return-value]

    # -- change tracking -----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def is_new(self) -> bool:
        """True until a create was applied (False too while its outcome is unknown)."""
        return self._state is NEW

    @property
    def is_unknown(self) -> bool:
        """True when a create may have been applied but no answer came back."""
        return self._state is UNKNOWN

    @property
    def changed_fields(self) -> set[str]:
        """Names of fields (and ``extra`` keys) changed since the last load or save."""
        if self._state is NEW:
            return set(self._create_data_names())
        changed = set(self._changed or ())
        raw = self._raw or {}
        spec = specs_of(type(self))
        for field in spec.mutable:
            if field.name not in changed:
                value = getattr(self, field.name)
                known = _lookup(raw, field.path)
                if known is _MISSING:
                    known = field.default_value()  # an absent key holds the default
                if value is not None and not _same_json(value, known):
                    changed.add(field.name)
        changed.update(self._changed_extra_keys(spec))
        return changed

    @property
    def is_dirty(self) -> bool:
        """True when the object has anything to send: a create or changed fields."""
        if self._state is NEW:
            return True
        if self._state is not PERSISTENT:
            return False
        return bool(self.changed_fields)

    def _changed_extra_keys(self, spec: ClassSpec) -> list[str]:
        if not self._extra:
            return []
        raw_extra = _residual(self._raw or {}, spec)
        return [k for k, v in self._extra.items() if not _same_json(v, raw_extra.get(k, _MISSING))]

    def _create_data_names(self) -> Iterator[str]:
        changed = self._changed or ()
        for field in specs_of(type(self)).writable:
            if getattr(self, field.name) is not None or field.name in changed:
                yield field.name
        yield from self.extra

    # -- what to send (pure) -------------------------------------------------------------

    def create_data(self) -> dict[str, Any]:
        """The ``data`` of a create: every set field and every ``extra`` key."""
        spec = specs_of(type(self))
        changed = self._changed or ()
        data = _copy_json(self._extra) if self._extra else {}
        values = spec.writable_held(self)  # a date slot's wire string is sent as it is
        pairs: Iterator[tuple[FieldSpec, Any]] = zip(spec.writable, values, strict=True)
        if not changed:  # only values given: filter the Nones out in C
            pairs = compress(pairs, map(is_not, values, _NONES))
        for field, value in pairs:
            if value is None and field.name not in changed:
                continue
            if field.simple:
                data[field.path[0]] = value
            else:
                _assign(data, field.path, _fields.to_wire(field, value))
        self._check_required()
        return data

    def update_data(self) -> dict[str, Any]:
        """The ``data`` of an update: only changed fields and changed ``extra`` keys (PATCH)."""
        spec = specs_of(type(self))
        data: dict[str, Any] = {}
        changed = self.changed_fields
        for key in self._changed_extra_keys(spec):
            data[key] = _copy_json(self.extra[key])
        for field in spec.fields:
            if field.name in changed:
                _assign(data, field.path, _fields.to_wire(field, getattr(self, field.name)))
        return data

    def to_data(self) -> dict[str, Any]:
        """The full record ``data`` as it stands locally: last known data, then local values."""
        spec = specs_of(type(self))
        data = _copy_json(self._raw) if self._raw else {}
        _merge(data, _copy_json(self._extra) if self._extra else {}, spec.nested_keys)
        raw = self._raw or {}
        for field in spec.fields:
            value = getattr(self, field.name)
            unchanged = field.name not in (self._changed or ()) and not field.mutable
            if unchanged and _lookup(raw, field.path) is not _MISSING:
                continue  # keep the wire form exactly as received
            if value is not None or field.name in (self._changed or ()):
                _assign(data, field.path, _fields.to_wire(field, value))
        return data

    def _check_required(self) -> None:
        """``ModelError`` naming the required fields that have no value (no request)."""
        spec = specs_of(type(self))
        if None not in spec.required_values(self):
            return  # the common case, checked in C
        missing = [f.name for f in spec.required if getattr(self, f.name) is None]
        if missing:
            raise ModelError(
                f"{type(self).__name__} is missing required field(s) {', '.join(missing)}"
            )

    # -- applying what the API said (pure, called by the session) ------------------------

    def _absorb_record(
        self, record: Mapping[str, Any], sent: Mapping[str, Any] | None = None
    ) -> None:
        """Make the object clean and equal to ``record`` (plus ``sent`` data it may omit).

        ``sent`` is the data last sent for the object: a field or ``extra`` key assigned after
        it was built keeps its new value and stays changed.
        """
        in_flight = self._assigned_since(sent) if sent is not None else None
        self._absorb_clean(record, sent)
        if in_flight:
            self._keep_assigned(*in_flight)

    def _absorb_clean(
        self, record: Mapping[str, Any], sent: Mapping[str, Any] | None = None
    ) -> None:
        spec = specs_of(type(self))
        data = record.get("data")
        raw: dict[str, Any] = self._raw if self._raw is not None else {}
        if sent and isinstance(data, dict):
            sent = _omitted(sent, data, spec.nested_keys)
        if not raw and not sent and isinstance(data, dict) and not spec.nested_keys:
            raw = dict(data)  # the first answer for a new object: nothing to merge
        elif sent or isinstance(data, dict):
            raw = dict(raw)  # never change a dict another object or the caller may hold
            if sent:
                _merge(raw, sent, spec.nested_keys, copy=True)
            if isinstance(data, dict):
                _merge(raw, data, spec.nested_keys)
        loaders = spec.loaders
        for key, value in raw.items():
            load = loaders.get(key)
            if load is not None:  # None and strings (most values) skip the call
                load(self, value if value is None or value.__class__ is str else _owned(value))
        for field in spec.nested:
            value = _lookup(raw, field.path)
            if value is not _MISSING:
                object.__setattr__(self, field.name, _loaded(field, value))
        _set_raw(self, raw)
        residual = _residual(raw, spec)
        _set_extra(self, _copy_json(residual) if residual else None)
        _set_changed(self, None)
        deleted = self._absorb_meta(record)
        if deleted is None:
            deleted = self._state is DELETED
        _set_state(self, DELETED if deleted else PERSISTENT)

    def _assigned_since(
        self, sent: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Fields and ``extra`` keys whose value differs from what ``sent`` carried."""
        spec = specs_of(type(self))
        pending = self._pending_data(spec)
        if all(k in sent and _same_json(sent[k], v) for k, v in pending.items()):
            return None  # the common case: nothing was assigned while the request was out
        fields: dict[str, Any] = {}
        for field in spec.fields:
            now = _lookup(pending, field.path)
            if now is not _MISSING and not _same_json(now, _lookup(sent, field.path)):
                fields[field.name] = getattr(self, field.name)
        extra = {
            k: v
            for k, v in (self._extra or {}).items()
            if k in pending and not _same_json(pending[k], sent.get(k, _MISSING))
        }
        return fields, extra

    def _pending_data(self, spec: ClassSpec) -> dict[str, Any]:
        """What a save would send now (create or update data), without the required check."""
        if self._state is not NEW:
            return self.update_data()
        data = _copy_json(self._extra) if self._extra else {}
        for name in self._create_data_names():
            field = spec.by_name.get(name)
            if field is not None:
                _assign(data, field.path, _fields.to_wire(field, getattr(self, name)))
        return data

    def _keep_assigned(self, fields: dict[str, Any], extra: dict[str, Any]) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        if fields:
            _set_changed(self, set(fields))
        if extra:
            self.extra.update(extra)

    def _absorb_meta(self, record: Mapping[str, Any]) -> bool | None:
        """Take the record's metadata (keys it lacks keep their value); returns ``deleted``."""
        upstream_id, record_id, sync_id, created_at, updated_at, updated_idx, deleted = read_meta(
            record
        )
        if upstream_id is not None:
            _set_upstream_id(self, upstream_id)
        if record_id is not None:
            _set_record_id(self, record_id)
        if sync_id is not None:
            _set_sync_id(self, sync_id)
        if created_at is not None:
            _set_created_at(self, created_at)
        if updated_at is not None:
            _set_updated_at(self, updated_at)
        if updated_idx is not None:
            _set_updated_idx(self, updated_idx)
        return deleted

    def _absorb_sent_update(self, sent: Mapping[str, Any]) -> None:
        """An update was applied but no record came back: what was sent is now clean."""
        self._absorb_record({}, sent)

    def _absorb_delete(self) -> None:
        object.__setattr__(self, "_state", DELETED)
        object.__setattr__(self, "_changed", None)

    def _mark_unknown(self) -> None:
        object.__setattr__(self, "_state", UNKNOWN)

    def reset_unknown(self) -> None:
        """Declare that a create whose outcome was unknown did not happen upstream.

        Check the upstream system first: the next ``save()`` sends the create again.
        """
        if self._state is not UNKNOWN:
            raise ModelError("reset_unknown() is only for objects whose create is unknown")
        object.__setattr__(self, "_state", NEW)

    def _revert(self) -> None:
        """Throw away local changes: fields go back to the last data seen from the API."""
        if self._raw is None:
            return
        for field in specs_of(type(self)).fields:
            if _lookup(self._raw, field.path) is _MISSING:
                object.__setattr__(self, field.name, field.default_value())
        self._absorb_record({})

    def _bind_sync(self, sync_id: str | None) -> None:
        if sync_id is not None and (self._sync_id is None or self._raw is None):
            object.__setattr__(self, "_sync_id", sync_id)

    # -- persistence ---------------------------------------------------------------------

    def save(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """Create or update the record (hits the network outside a session).

        Outside a session: one mutation now, or none when nothing changed. Inside an active
        ``Session``: enqueue and return at once (``result.pending``). Options: ``sync_id``,
        ``await_consumer_ids``, ``await_consumers_timeout``.
        """
        save_object, _ = _persistence()
        return save_object(self, **options)

    def delete(self, **options: Unpack[WriteKwargs]) -> SaveResult:
        """Delete the record (hits the network outside a session; enqueues inside one)."""
        _, delete_object = _persistence()
        return delete_object(self, **options)


@functools.cache
def _persistence() -> tuple[Callable[..., SaveResult], Callable[..., SaveResult]]:
    """``save_object`` and ``delete_object`` of ``sequin_orm.session`` (which imports this
    module): an import statement in every save() would cost as much as enqueuing the object."""
    from sequin_orm.session import delete_object, save_object

    return save_object, delete_object


def _slot_setter(name: str) -> Callable[[Model, Any], None]:
    """The C setter of one of Model's own slots: cheaper than ``object.__setattr__``."""
    setter: Callable[[Model, Any], None] = Model.__dict__[name].__set__
    return setter


_set_state = _slot_setter("_state")
_set_raw = _slot_setter("_raw")
_set_extra = _slot_setter("_extra")
_set_changed = _slot_setter("_changed")
_set_upstream_id = _slot_setter("_upstream_id")
_set_record_id = _slot_setter("_record_id")
_set_sync_id = _slot_setter("_sync_id")
_set_created_at = _slot_setter("_created_at")
_set_updated_at = _slot_setter("_updated_at")
_set_updated_idx = _slot_setter("_updated_idx")
_NONE_SETTERS = tuple(_slot_setter(name) for name in _NONE_SLOTS)


def model_fields(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """attrs ``field_transformer`` for model classes (generated models use it).

    attrs' ``__init__`` then assigns fields directly, and ``Model.__attrs_post_init__``
    checks their types in one pass: construction costs about half. Assignments after
    construction still go through ``Model.__setattr__`` (type checks, dirty tracking).
    Models without it behave the same, only slower to build.
    """
    return [f.evolve(on_setattr=attrs.setters.NO_OP) for f in fields]


# --- helpers over record data --------------------------------------------------------------

_MISSING: Any = object()


def _raise_type_error(cls: type, field: FieldSpec, value: Any) -> NoReturn:
    expected = " | ".join(t.__name__ for t in field.types or ())
    if field.nullable:
        expected += " or None"
    got = type(value).__name__
    raise FieldTypeError(f"{cls.__name__}.{field.name} takes {expected}, got {got}")


def _loaded(field: FieldSpec, value: Any) -> Any:
    """A field's value from last-known data: converted, and never sharing a list or dict."""
    value = _owned(value)
    return _fields.from_wire(field, value) if field.convert_on_load else value


def _owned(value: Any) -> Any:
    """A value a field may hold: a list or dict is copied (a field never shares one with
    the last-known data)."""
    return _copy_json(value) if isinstance(value, (list, dict)) else value


def _copy_json(value: Any) -> Any:
    """A copy of a JSON value: new lists and dicts, shared immutable leaves (cheaper than
    ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that tells ``0`` from ``False`` and ``1`` from ``1.0``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _assign(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        inner = data.get(key)
        if not isinstance(inner, dict):
            inner = data[key] = {}
        data = inner
    data[path[-1]] = value


def _merge(
    target: dict[str, Any], new: Mapping[str, Any], nested: frozenset[str], *, copy: bool = False
) -> None:
    """Merge ``new`` into ``target``; objects under keys in ``nested`` merge one level down.

    With ``copy``, lists and dicts of ``new`` are copied rather than shared.
    """
    if not nested and not copy:
        target.update(new)  # the common case, at C speed
        return
    for key, value in new.items():
        inner = target.get(key)
        if key in nested and isinstance(inner, dict) and isinstance(value, dict):
            value = {**inner, **value}
        if copy and isinstance(value, (list, dict)):
            value = _copy_json(value)
        target[key] = value


def _omitted(
    sent: Mapping[str, Any], data: Mapping[str, Any], nested: frozenset[str]
) -> dict[str, Any] | None:
    """The part of ``sent`` that an answer's ``data`` may have left out (None: nothing).

    Keys ``data`` has replace what was sent anyway, except nested objects (merged key by key).
    """
    if not nested and data.keys() >= sent.keys():
        return None  # the common case: the answer repeats every key sent
    keys = sent.keys() - data.keys()
    if nested:
        keys.update(key for key in nested if key in sent and key in data)
    return {key: value for key, value in sent.items() if key in keys} if keys else None


def _residual(data: Mapping[str, Any], spec: ClassSpec) -> dict[str, Any]:
    """The part of ``data`` that no declared field covers (what goes to ``extra``)."""
    declared = spec.top_level_keys
    if not spec.nested_leaves and declared.issuperset(data):
        return {}  # the common case: every key is declared
    residual = {k: v for k, v in data.items() if k not in declared}
    for key, leaves in spec.nested_leaves.items():
        value = data.get(key)
        if isinstance(value, dict):
            rest = {k: v for k, v in value.items() if k not in leaves}
            if rest:
                residual[key] = rest
    return residual
