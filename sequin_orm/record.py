"""The ``Record`` base of every model: typed fields, dirty tracking, ``extra`` keys (pure).

``Model`` (model.py) adds what talks to the API: ``save()``, ``delete()`` and ``objects``.
A model class declares its fields as ``Field`` descriptors (fields.py) and, when generated,
its constructor's keywords, typed, for type checkers and editors (``Record.__init__`` takes
them at run time: one construction path)::

    class Contact(Model):
        __slots__ = ()
        collection_id: ClassVar[str] = "salesforce:contact"
        provider: ClassVar[str] = "salesforce"

        FirstName: Field[str | None] = Field(str)
        Id: ReadOnlyField[str | None] = ReadOnlyField(str)

        if TYPE_CHECKING:  # the keywords Record.__init__ takes

            def __init__(self, *, FirstName: str | None = None) -> None: ...

What an object holds (all in slots):

- ``_values``: the current value of every declared field that has one, in ONE dict keyed by
  wire key (``"Email"``; ``"properties.email"`` for a dotted HubSpot field). An absent key
  reads as the field's default (``None``). Dates loaded from a record stay wire strings here
  and are parsed when read.
- ``_changed``: the keys assigned since the last load or answer (``None`` when empty).
  Lists and dicts changed in place are found by comparison with ``_raw``.
- ``_raw``: the record ``data`` last seen from the API (wire form, every key), or ``None``
  for an object never loaded. Loading a record whose keys are all declared keeps ONE dict:
  ``_values is _raw`` until the first assignment copies it.
- ``_extra``: ``data`` keys no field declares (``obj.extra``); ``None`` when empty.
- ``_upstream_id``, ``_sync_id``, and ``_meta`` (the rest of the record's metadata, packed),
  ``_state``, and ``_owner`` (the session an object is pending in; only the session layer
  reads and writes it).

Slots are written directly (``self._values = ...``): there is no ``__setattr__``, so an
assignment to a field goes straight to its descriptor and anything undeclared is Python's
``AttributeError`` (a class without ``__slots__`` gets ``_setattr_declared_only``).

Nothing here does I/O.
"""

from __future__ import annotations

import enum
import operator
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, NoReturn, TypeVar

from sequin_orm.errors import (
    FieldTypeError,
    KeyCasingWarning,
    ModelError,
    ReadOnlyFieldError,
    UnknownFieldError,
)
from sequin_orm.fields import (
    MISSING,
    ClassSpec,
    Field,
    assign,
    check_json,
    compile_spec,
    copy_json,
    lookup,
    same_json,
    to_wire,
)
from sequin_orm.records import (
    CREATED_AT,
    INSERTED_AT,
    RECORD_ID,
    STREAM_ID,
    UPDATED_AT,
    Packed,
    fold_key,
    identity_of,
    meta_index,
    meta_sync,
    meta_text,
    pack_meta,
    text_of,
)

__all__ = ["Record", "State", "hand_over", "ref_record", "registered_model"]

_M = TypeVar("_M", bound="Record")


def ref_record(cls: type[Record], upstream_id: Any, sync_id: Any) -> dict[str, Any]:
    """The record of ``Model.ref``: its identity and no data; ``ModelError`` for bad ids."""
    if not isinstance(upstream_id, str) or not upstream_id.strip():
        raise ModelError(f"{cls.__name__}.ref() takes the upstream id, a non-empty string")
    if sync_id is not None and (not isinstance(sync_id, str) or not sync_id.strip()):
        raise ModelError(f"{cls.__name__}.ref(sync_id=...) must be a non-empty string")
    return {"upstream_id": upstream_id, "sync_id": sync_id, "data": {}}


class State(enum.Enum):
    """Where an object stands relative to the API."""

    NEW = "new"  # never created upstream
    PERSISTENT = "persistent"  # has an upstream_id
    DELETED = "deleted"  # a delete was applied
    UNKNOWN = "unknown"  # a create may or may not have been applied


# Hot paths compare with these: reading a member off an Enum class goes through EnumType's
# __getattr__ hook, which costs more than the comparison.
NEW, PERSISTENT, DELETED, UNKNOWN = State.NEW, State.PERSISTENT, State.DELETED, State.UNKNOWN

#: The model class of each collection id (``registry.model_for`` reads it).
_models: dict[str, type[Record]] = {}
_BUNDLED_PACKAGE = "sequin_orm.models"


def _register(cls: type[Record]) -> None:
    """Make ``cls`` the model of its collection; a user's own model wins over a bundled one."""
    if cls.__module__.startswith(_BUNDLED_PACKAGE + "."):
        _models.setdefault(cls.collection_id, cls)
    else:
        _models[cls.collection_id] = cls


def registered_model(collection_id: str) -> type[Record] | None:
    """The model class defined for ``collection_id``, if any (no import)."""
    return _models.get(collection_id)


class Record:
    """The state of one record: its values, what changed, what the API last said.

    Attributes are slots written directly (no ``__setattr__``): fields are data descriptors
    (fields.py), metadata is read-only properties, anything else is an ``AttributeError``.
    A model class that declares no ``__slots__`` gives its objects a ``__dict__``; there,
    ``_setattr_declared_only`` keeps a misspelt field name out of it.
    """

    __slots__ = (
        "_changed",
        "_extra",
        "_meta",
        "_owner",
        "_raw",
        "_state",
        "_sync_id",
        "_upstream_id",
        "_values",
    )

    collection_id: ClassVar[str] = ""
    provider: ClassVar[str] = ""
    #: Records per mutation request for this model; None = the provider default.
    batch_size: ClassVar[int | None] = None
    #: The class's fields, compiled when the class is created.
    _spec: ClassVar[ClassSpec]

    _values: dict[str, Any]
    _changed: set[str] | None
    _raw: dict[str, Any] | None
    _extra: dict[str, Any] | None
    _state: State
    _upstream_id: str | None
    _sync_id: str | None
    #: record_id, timestamps, updated_idx, stream and sync, packed in one string
    #: (records.pack_meta): rarely read, and less memory per loaded object than its parts
    _meta: Packed | None
    #: The session this object is pending in (read and written by the session layer only).
    _owner: Any

    def __getstate__(self) -> dict[str, Any]:
        """For pickle (Celery, multiprocessing): everything but the owning session."""
        return {name: getattr(self, name) for name in Record.__slots__ if name != "_owner"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_owner", None)  # a copy is pending in no session

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._spec = compile_spec(cls)
        if cls.__dictoffset__ and cls.__setattr__ is object.__setattr__:  # a __dict__, no hook
            # setattr(): an assignment would tell type checkers that any name may be set
            setattr(cls, "__setattr__", _setattr_declared_only)  # noqa: B010
        if cls.collection_id:
            _register(cls)

    # -- construction: the one path -----------------------------------------------------

    def __init__(self, **values: Any) -> None:
        """A new object from field values by attribute name: ``Contact(FirstName="Paul")``.

        A generated class declares these keywords, typed, for type checkers and editors; here
        they are checked (``FieldTypeError`` naming the field, the expected and the given
        type; ``ModelError`` for what is not JSON). Nothing is sent.
        """
        spec = self._spec
        # the common case, checked in C: keywords of fields that take a str, ASCII strings
        if not (spec.str_init_keys.issuperset(values) and _ascii_strings(values.values())):
            values = _checked_values(type(self), values)
        if spec.defaults:
            for field in spec.defaults:
                if field.key not in values:
                    values[field.key] = field.default_value()
        if spec.non_nullable:
            for field in spec.non_nullable:
                if values.get(field.key) is None:
                    field.check(type(self), None)
        self._values = values
        self._state = NEW
        self._changed = None
        self._raw = None
        self._extra = None
        self._owner = None
        self._upstream_id = None
        self._sync_id = None
        self._meta = None

    @classmethod
    def from_record(cls: type[_M], record: Mapping[str, Any]) -> _M:
        """A clean object from a Sequin record (from a mutation, ``/v1/records`` or a consumer).

        No request is made. Every key of ``record["data"]`` is kept: declared ones in fields,
        the rest in ``extra``. A record of another collection raises ``ModelError``.
        """
        return cls._load(record, adopt=False)

    @classmethod
    def _load(cls: type[_M], record: Mapping[str, Any], *, adopt: bool) -> _M:
        """``from_record``; with ``adopt`` the object keeps ``record["data"]`` itself as its
        last-known data instead of a copy (only for JSON the library parsed and owns)."""
        named = record.get("collection_id")
        if named is not None and named != cls.collection_id and cls.collection_id:
            raise ModelError(
                f"A {named} record cannot load as {cls.__name__} ({cls.collection_id}); "
                f"sequin_orm.model_for({named!r}) is its model"
            )
        obj = cls.__new__(cls)
        data: Any = record.get("data")
        if data.__class__ is not dict:
            data = {}
        elif not adopt:
            data = dict(data)
        spec = cls._spec
        obj._raw = data
        obj._changed = None
        if spec.flat and spec.top_level_keys.issuperset(data):
            obj._values = data  # the common case: one dict for values and known data
            obj._extra = None
        else:
            obj._set_from_raw(data)
        obj._owner = None
        upstream_id, sync_id, deleted = identity_of(record)
        obj._upstream_id = upstream_id
        obj._sync_id = sync_id
        obj._meta = pack_meta(record)
        obj._state = DELETED if deleted else PERSISTENT
        return obj

    def _set_from_raw(self, raw: dict[str, Any]) -> None:
        """Values and extra from last-known data ``raw``; nothing changed."""
        spec = self._spec
        self._raw = raw
        self._changed = None
        if spec.flat:
            declared = spec.top_level_keys
            if declared.issuperset(raw):
                self._values = raw  # the common case: one dict for both
                self._extra = None
                return
            self._values = {k: v for k, v in raw.items() if k in declared}
            rest = {k: copy_json(v) for k, v in raw.items() if k not in declared}
            self._extra = rest
            if len(rest) * 2 > len(raw) and type(self) not in _casing_checked:
                _check_key_casing(type(self), rest, len(raw))
            return
        values: dict[str, Any] = {}
        for field in spec.fields:
            value = lookup(raw, field.path)
            if value is not MISSING:
                values[field.key] = value
        self._values = values
        residual = _residual(raw, spec)
        self._extra = copy_json(residual) if residual else None

    def _own_values(self) -> dict[str, Any]:
        """``_values``, made a dict of its own first if it is still the last-known data."""
        values = self._values
        if values is self._raw:
            values = dict(values)
            self._values = values
        return values

    # -- attribute assignment: type checks and dirty tracking ------------------------------

    def _assign(self, field: Field[Any], value: Any) -> None:
        """``obj.<field> = value`` (called by the field's descriptor)."""
        field.check(type(self), value)
        if field.create_only and self._state is not NEW:
            _refuse_create_only(type(self), field.name)
        key = field.key
        current = self._values.get(key, MISSING)
        if current is MISSING:
            current = field.default_value()  # what an absent key reads as
        elif current.__class__ is str and field.parse is not None:
            current = field.parse(current) or current
        if current is value or same_json(current, value):
            return  # equal (0 is not False, 1 is not 1.0): nothing changes
        self._own_values()[key] = value
        changed = self._changed
        if changed is None:
            self._changed = {key}
        else:
            changed.add(key)

    def __repr__(self) -> str:
        name = type(self).__name__
        state = self._state
        ident = self._upstream_id
        if state is NEW:
            return f"<{name} new>"
        if state is UNKNOWN:
            return f"<{name} unknown>"
        shown = f"<{name} {ident}" if ident is not None else f"<{name}"
        if state is DELETED:
            return f"{shown} deleted>"
        changed = self.changed_fields
        return f"{shown} dirty={changed!r}>" if changed else f"{shown}>"

    # -- record metadata (read-only) -----------------------------------------------------

    @property
    def upstream_id(self) -> str | None:
        """The record's id in the upstream API (e.g. a Salesforce id); None until created."""
        return self._upstream_id

    @property
    def record_id(self) -> str | None:
        """Sequin's id of the record."""
        return meta_text(self._meta, RECORD_ID)

    @property
    def sync_id(self) -> str | None:
        """The sync the record belongs to."""
        return self._sync_id

    @property
    def upstream_created_at(self) -> str | None:
        return meta_text(self._meta, CREATED_AT)

    @property
    def upstream_updated_at(self) -> str | None:
        return meta_text(self._meta, UPDATED_AT)

    @property
    def updated_idx(self) -> int | None:
        """Version of the record: increases on every change."""
        return meta_index(self._meta)

    @property
    def stream_id(self) -> str | None:
        """The stream the record is in, when the record says."""
        return meta_text(self._meta, STREAM_ID)

    @property
    def inserted_at(self) -> str | None:
        """When the record was inserted into the stream (ISO 8601), when the record says."""
        return meta_text(self._meta, INSERTED_AT)

    @property
    def sync_external_id(self) -> str | None:
        """The ``external_id`` of the record's sync (your user or org id), when it has one."""
        sync = meta_sync(self._meta)
        return None if sync is None else text_of(sync.get("external_id"))

    @property
    def sync_metadata(self) -> dict[str, Any] | None:
        """The ``metadata`` of the record's sync (a copy), when the record carries it."""
        sync = meta_sync(self._meta)
        metadata = None if sync is None else sync.get("metadata")
        return metadata if isinstance(metadata, dict) else None

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
        extra = self._extra
        if extra is None:
            extra = {}
            self._extra = extra
        return extra

    @extra.setter
    def extra(self, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise FieldTypeError("extra must be a dict of record data keys")
        self._check_extra_keys(value)
        self._extra = value

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
        by_key = self._spec.by_key
        if self._state is NEW:
            names = {by_key[k].name for k in self._values if not by_key[k].read_only}
            names.update(self._extra or ())
            return names
        names = {by_key[k].name for k in self._changed_keys()}
        names.update(self._changed_extra_keys())
        return names

    @property
    def is_dirty(self) -> bool:
        """True when the object has anything to send: a create or changed fields."""
        state = self._state
        if state is NEW:
            return True
        if state is not PERSISTENT:
            return False
        if self._changed:
            return True
        if self._values is self._raw and not self._extra:
            return False  # nothing assigned, nothing read that could change in place
        return bool(self._changed_keys() or self._changed_extra_keys())

    def _equals_last_known(self) -> bool:
        """Whether values and ``extra`` are the last-known data: nothing assigned, and no
        change handed to a request still out (``is_dirty`` is False for those: their keys
        went with the request, their values are not confirmed yet)."""
        values, raw, extra = self._values, self._raw, self._extra
        if self._changed:
            return False
        if values is raw:
            return not extra
        known_data = raw if raw is not None else {}  # None: a reference, nothing known
        spec = self._spec
        for field in spec.fields:
            value = values.get(field.key, MISSING)
            known = lookup(known_data, field.path)
            if same_json(value, known):
                continue
            # an absent key holds the default (reading a field with a factory stores it)
            if known is not MISSING or not same_json(value, field.default_value()):
                return False
        return same_json(extra or {}, _residual(known_data, spec))

    def _changed_keys(self) -> set[str]:
        """Keys of fields changed since the last-known data (assigned or changed in place)."""
        changed = set(self._changed or ())
        values = self._values
        raw = self._raw
        if values is raw:
            return changed
        for field in self._spec.mutable:
            key = field.key
            if key in changed:
                continue
            value = values.get(key, MISSING)
            if value is MISSING:
                continue
            known = lookup(raw, field.path) if raw is not None else MISSING
            if known is MISSING:
                known = field.default_value()  # an absent key holds the default
            if value is not known and value is not None and not same_json(value, known):
                changed.add(key)
        return changed

    def _changed_extra_keys(self) -> list[str]:
        extra = self._extra
        if not extra:
            return []
        raw_extra = _residual(self._raw or {}, self._spec)
        return [k for k, v in extra.items() if not same_json(v, raw_extra.get(k, MISSING))]

    # -- what to send (pure) -------------------------------------------------------------

    def create_data(self) -> dict[str, Any]:
        """The ``data`` of a create: every set field and every ``extra`` key; ``ModelError``
        when a required field has no value."""
        return create_payloads((self,))[0]

    def update_data(self) -> dict[str, Any]:
        """The ``data`` of an update: only changed fields and changed ``extra`` keys (PATCH)."""
        return update_payloads((self,))[0]

    def _converted_create_data(self) -> dict[str, Any]:
        """``create_data`` when a value needs converting or copying, or there is ``extra``."""
        extra = self._extra
        data = self._extra_payload(extra, extra) if extra else {}
        by_key = self._spec.by_key
        for key, value in self._values.items():
            field = by_key[key]
            if field.read_only:
                continue
            if field.simple:
                if value.__class__ is list or value.__class__ is dict:
                    check_json(value, f"{type(self).__name__}.{field.name}")
                    value = copy_json(value)
                data[key] = value
            else:
                assign(data, field.path, to_wire(field, value))
        return data

    def _converted_update_data(self) -> dict[str, Any]:
        """``update_data`` when a value needs converting or copying, or may have changed in
        place, or ``extra`` changed."""
        data: dict[str, Any] = {}
        extra = self._extra
        if extra:
            changed_extra = self._changed_extra_keys()
            if changed_extra:
                data = self._extra_payload(extra, changed_extra)
        changed = self._changed_keys()
        if not changed:
            return data
        spec = self._spec
        by_key = spec.by_key
        values = self._values
        for key in sorted(changed, key=spec.position):
            field = by_key[key]
            value = values.get(key)
            if value.__class__ is list or value.__class__ is dict:
                check_json(value, f"{type(self).__name__}.{field.name}")
                value = copy_json(value)
            assign(data, field.path, to_wire(field, value))
        return data

    def to_data(self) -> dict[str, Any]:
        """The full record ``data`` as it stands locally: last known data, then local values."""
        spec = self._spec
        raw = self._raw
        data = copy_json(raw) if raw else {}
        if self._extra:
            _merge(data, copy_json(self._extra), spec.nested_keys)
        values = self._values
        if values is raw:
            return data
        by_key = spec.by_key
        for key, value in values.items():
            field = by_key[key]
            if raw is not None and value is lookup(raw, field.path):
                continue  # keep the wire form exactly as received
            assign(data, field.path, to_wire(field, copy_json(value)))
        return data

    def _extra_payload(self, extra: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
        """A copy of ``extra``'s ``keys``, checked: JSON values, no declared key."""
        self._check_extra_keys(extra)
        name = type(self).__name__
        data = {}
        for key in keys:
            value = extra[key]
            check_json(value, f"{name}.extra[{key!r}]")
            data[key] = copy_json(value)
        return data

    def _check_extra_keys(self, extra: Mapping[str, Any]) -> None:
        """``ModelError`` for an ``extra`` key that a declared field already sends."""
        spec = self._spec
        declared = spec.top_level_keys
        if declared.isdisjoint(extra):
            return
        for key in declared.intersection(extra):
            leaves = spec.nested_leaves.get(key)
            inner = extra[key]
            if leaves is not None and key not in spec.by_key and isinstance(inner, dict):
                clash = leaves.intersection(inner)
                if not clash:
                    continue
                key = f"{key}.{sorted(clash)[0]}"
            field = spec.by_key[key]
            raise ModelError(
                f"{type(self).__name__}.extra[{key.split('.')[0]!r}] collides with the field "
                f"{field.name} (wire key {key!r}): assign obj.{field.name} instead"
            )

    def _refuse_create_only_changes(self) -> None:
        """``ModelError`` when a create-only field of this persistent object changed."""
        spec = self._spec
        # without list or dict fields, what changed is what was assigned
        changed = self._changed_keys() if spec.mutable else (self._changed or ())
        if not spec.create_only.isdisjoint(changed):
            key = min(spec.create_only.intersection(changed))
            _refuse_create_only(type(self), spec.by_key[key].name)

    def _check_json_values(self) -> None:
        """``ModelError`` for an ``extra`` key that a field declares, or a value in ``extra``
        or in a list or dict field that is not JSON (they can change in place)."""
        name = type(self).__name__
        extra = self._extra
        if extra:
            self._check_extra_keys(extra)
            for key, value in extra.items():
                check_json(value, f"{name}.extra[{key!r}]")
        values = self._values
        for field in self._spec.mutable:
            value = values.get(field.key)
            if value is not None:
                check_json(value, f"{name}.{field.name}")

    def _refuse_missing_required(self) -> NoReturn:
        """``ModelError`` naming the required fields without a value (the callers found one,
        with ``None in map(values.get, spec.required_keys)``; no request)."""
        get = self._values.get
        missing = [f.name for f in self._spec.required if get(f.key) is None]
        raise ModelError(f"{type(self).__name__} is missing required field(s) {', '.join(missing)}")

    # -- applying what the API said (pure, called by the session) ------------------------

    def _absorb_record(
        self, record: Mapping[str, Any], sent: Mapping[str, Any] | None = None
    ) -> None:
        """Make the object equal to ``record`` (plus the ``sent`` data it may omit).

        ``sent``: the ``data`` that was sent for this object, whose changed keys were handed
        to the request (``hand_over``). A key assigned since then, or a list or dict (field
        or ``extra``) changed in place since, keeps its value and stays changed; everything
        else becomes clean and equal to the answer.
        """
        spec = self._spec
        data: Any = record.get("data")
        if data.__class__ is not dict:
            data = None
        kept: dict[str, Any] | None = None
        kept_extra: dict[str, Any] | None = None
        if sent is not None:
            kept, kept_extra = self._in_flight(sent)
        raw = self._raw
        omitted = sent
        if sent and data is not None:
            omitted = _omitted(sent, data, spec.nested_keys)
        if raw is None and not omitted and data is not None and spec.flat:
            raw = dict(data)  # the first answer: nothing to merge
        elif omitted or data is not None:
            raw = dict(raw) if raw is not None else {}  # never change a dict others may hold
            if omitted:
                _merge(raw, omitted, spec.nested_keys, copy=True)
            if data is not None:
                _merge(raw, data, spec.nested_keys)
        elif raw is None:
            raw = {}
        self._set_from_raw(raw)
        if kept:
            values = self._own_values()
            values.update(kept)
            self._changed = set(kept)
        if kept_extra:
            self.extra.update(kept_extra)
        deleted = self._absorb_meta(record)
        if deleted is None:
            deleted = self._state is DELETED
        self._state = DELETED if deleted else PERSISTENT

    def _take_back(self, handed: set[str] | None) -> None:
        """The request that took ``handed`` was not applied: they are changed again."""
        if handed:
            changed = self._changed
            self._changed = handed if changed is None else handed | changed

    def _in_flight(
        self, sent: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """What changed since ``sent`` was built: ``(values by key, extra)``: keys assigned
        since the hand-over, and lists or dicts that differ from what was sent (or, when not
        sent, from the last-known data: changed in place while the request was out)."""
        spec = self._spec
        if self._changed is None and not spec.mutable and not self._extra:
            return None, None  # the common case: nothing assigned while the request was out
        values = self._values
        kept = {key: values.get(key) for key in self._changed or ()}
        for field in spec.mutable:
            value = values.get(field.key, MISSING)
            if value is MISSING or field.key in kept or field.read_only:
                continue
            was = lookup(sent, field.path)
            if was is MISSING:  # not sent: compare with what was known when it was built
                was = lookup(self._raw, field.path) if self._raw is not None else MISSING
                if was is MISSING:
                    was = field.default_value()
            if not same_json(value, was):
                kept[field.key] = value
        kept_extra: dict[str, Any] = {}
        extra = self._extra
        if extra:
            changed_extra = set(self._changed_extra_keys())
            nested = spec.nested_keys
            for key, value in extra.items():
                was = sent.get(key, MISSING)
                if was is MISSING:
                    if key in changed_extra:
                        kept_extra[key] = value
                elif key in nested and isinstance(value, dict) and isinstance(was, dict):
                    if any(not same_json(v, was.get(k, MISSING)) for k, v in value.items()):
                        kept_extra[key] = value
                elif not same_json(value, was):
                    kept_extra[key] = value
        return kept, kept_extra

    def _absorb_meta(self, record: Mapping[str, Any]) -> bool | None:
        """Take the record's metadata (keys it lacks keep their value); returns ``deleted``."""
        upstream_id, sync_id, deleted = identity_of(record)
        if upstream_id is not None:
            self._upstream_id = upstream_id
        if sync_id is not None:
            self._sync_id = sync_id
        self._meta = pack_meta(record, self._meta)
        return deleted

    def _absorb_sent_update(self, sent: Mapping[str, Any]) -> None:
        """An update was applied but no record came back: what was sent is now clean."""
        self._absorb_record({}, sent)

    def _absorb_delete(self) -> None:
        self._state = DELETED
        self._changed = None

    def _mark_unknown(self) -> None:
        self._state = UNKNOWN

    def reset_unknown(self) -> None:
        """Declare that a create whose outcome was unknown did not happen upstream.

        Check the upstream system first: the next ``save()`` sends the create again.
        """
        if self._state is not UNKNOWN:
            raise ModelError("reset_unknown() is only for objects whose create is unknown")
        self._state = NEW

    def _revert(self) -> None:
        """Throw away local changes: fields go back to the last data seen from the API."""
        if self._raw is None:
            return
        self._absorb_record({})

    def _bind_sync(self, sync_id: str | None) -> None:
        if sync_id is not None and (self._sync_id is None or self._raw is None):
            self._sync_id = sync_id


Record._spec = compile_spec(Record)

_CHANGED = operator.attrgetter("_changed")


def absorb_answers(
    records: Sequence[Record],
    answers: Sequence[dict[str, Any] | None],
    sent: Iterable[Mapping[str, Any]],
    sync_id: str,
) -> None:
    """Each record takes its answer to a create, update or delete (None: no answer for it).

    ``answers``: JSON the library parsed (no one else holds it), verified by the caller to
    be the records of their ``upstream_id`` in ``sync_id``; ``sent``: the ``data`` sent for
    each record (empty for a delete). The common case keeps the answer's ``data`` as values
    and last-known data at once, without a merge or a copy: nothing was assigned while the
    request was out, and the answer repeats every key sent and every key known. Anything
    else goes through ``Record._absorb_record``. One loop: a commit applies one answer per
    object.
    """
    for record, answer, data_sent in zip(records, answers, sent, strict=True):
        if answer is None:
            continue
        record._upstream_id = answer["upstream_id"]
        record._sync_id = sync_id
        data: Any = answer.get("data")
        raw = record._raw
        spec = record._spec
        if (
            data.__class__ is dict
            and record._changed is None
            and not record._extra
            and spec.plain_records
            and data.keys() >= data_sent.keys()
            and (raw is None or data.keys() >= raw.keys())
            and spec.top_level_keys.issuperset(data)
        ):
            record._raw = record._values = data
            record._meta = pack_meta(answer, record._meta)
            record._state = DELETED if answer.get("deleted") else PERSISTENT
        else:
            record._absorb_record(answer, data_sent)


def create_payloads(records: Iterable[Record]) -> list[dict[str, Any]]:
    """``create_data()`` of each record: one loop, a call only for a record whose values need
    converting or copying (a commit builds one per object)."""
    payloads = []
    for record in records:
        spec, values = record._spec, record._values
        if None in map(values.get, spec.required_keys):  # in C: the common case
            record._refuse_missing_required()
        if not record._extra and spec.wire_ready.issuperset(values):
            payloads.append(dict(values))  # the common case: nothing to convert or copy
        else:
            payloads.append(record._converted_create_data())
    return payloads


def update_payloads(records: Iterable[Record]) -> list[dict[str, Any]]:
    """``update_data()`` of each record: one loop, a call only for a record whose values need
    converting or copying (a commit builds one per object)."""
    payloads = []
    for record in records:
        assigned = record._changed
        spec = record._spec
        if (
            not record._extra
            and assigned is not None
            and spec.plain_records  # nothing changes in place
            and spec.wire_ready.issuperset(assigned)
        ):  # the common case: the assigned values, as they are, in declaration order
            values = record._values
            data = {}
            for key in sorted(assigned, key=spec.position):
                data[key] = values[key]
            payloads.append(data)
        else:
            payloads.append(record._converted_update_data())
    return payloads


def check_sendable(records: Iterable[Record]) -> None:
    """``ModelError`` for the first record a save could not send: a required field without a
    value (new records), a create-only field changed, an ``extra`` key that a field declares,
    a value in ``extra`` or in a list or dict field that is not JSON (the values of other
    fields were checked when set). One loop, calls only for what is rare: a commit checks
    every object before its first request."""
    for record in records:
        spec = record._spec
        if record._state is NEW:
            if None in map(record._values.get, spec.required_keys):  # in C: the common case
                record._refuse_missing_required()
        elif spec.create_only:
            record._refuse_create_only_changes()
        if record._extra or spec.mutable:
            record._check_json_values()


def hand_over(records: Sequence[Record]) -> tuple[set[str] | None, ...]:
    """Give each record's changed keys to the request just built from them (see
    ``Record._absorb_record``); returns them, for ``_take_back`` if it is not applied."""
    handed = tuple(map(_CHANGED, records))
    for record in records:
        record._changed = None
    return handed


def _setattr_declared_only(self: Record, name: str, value: Any) -> None:
    """``__setattr__`` of a model class whose objects have a ``__dict__`` (it declares no
    ``__slots__``): private names (``_cache``) and what the class declares (fields, properties)
    are set as usual; a method is not replaced; anything else is ``UnknownFieldError``."""
    if name[:1] != "_":
        declared = getattr(type(self), name, MISSING)
        if declared is MISSING:
            raise UnknownFieldError(
                f"{type(self).__name__} has no field {name!r}; undeclared record keys go in "
                f"obj.extra[{name!r}]"
            )
        if not hasattr(declared, "__set__"):
            raise ReadOnlyFieldError(f"{type(self).__name__}.{name} cannot be assigned")
    object.__setattr__(self, name, value)


def _checked_values(cls: type[Record], values: dict[str, Any]) -> dict[str, Any]:
    """The keywords of ``cls(...)`` by wire key, checked: ``TypeError`` for one that names no
    writable field, ``FieldTypeError``/``ModelError`` for a value that does not fit; None
    values dropped (an absent key reads as None)."""
    spec = cls._spec
    if not spec.init_names.issuperset(values):
        unknown = min(values.keys() - spec.init_names)
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {unknown!r}")
    if not spec.names_are_keys:
        by_name = spec.by_name
        values = {by_name[name].key: value for name, value in values.items()}
    by_key = spec.by_key
    nones = False
    for key, value in values.items():
        field = by_key[key]
        kind = value.__class__
        if kind is str:
            if field.takes_str and value.isascii():
                continue  # an ASCII string needs no other check
        elif kind in field.fast:
            continue
        elif value is None:
            nones = True
        field.check(cls, value)
    if nones:
        values = {k: v for k, v in values.items() if v is not None}
    return values


def _ascii_strings(values: Iterable[Any]) -> bool:
    """Whether every value is an ASCII ``str``: one pass in C (``join`` refuses the rest)."""
    try:
        return "".join(values).isascii()
    except TypeError:
        return False


def _refuse_create_only(cls: type[Record], name: str) -> NoReturn:
    raise ModelError(
        f"{cls.__name__}.{name} is set when the record is created and cannot change after "
        f"(this object exists upstream): create a new {cls.__name__} instead, or use the "
        "provider's own action for it (client.proxy(sync_id))"
    )


#: Classes already warned about key casing (``_check_key_casing``): one warning per class.
_casing_checked: set[type[Record]] = set()


def _check_key_casing(cls: type[Record], undeclared: Mapping[str, Any], total: int) -> None:
    """``KeyCasingWarning`` (once per class, so per collection) when most of a record's keys
    are undeclared but match declared keys under another casing (``activity_date`` for
    ``ActivityDate``): the values went to ``extra`` and the fields read None."""
    declared = {fold_key(key): key for key in cls._spec.top_level_keys}
    matches = [(key, declared[fold_key(key)]) for key in undeclared if fold_key(key) in declared]
    if len(matches) * 2 <= total:
        return
    _casing_checked.add(cls)
    key, field = sorted(matches)[0]
    collection = cls.collection_id or cls.__name__
    warnings.warn(
        f"{collection} records use keys like {key!r} where {cls.__name__} declares {field!r} "
        f"({len(matches)} of {total} keys): their values are in obj.extra and the fields read "
        f"None. Generate a model from the records: sequin-orm generate --from-records "
        f"--collection-id {collection} --out <your package>",
        KeyCasingWarning,
        stacklevel=4,
    )


# --- helpers over record data --------------------------------------------------------------


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
            value = copy_json(value)
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
