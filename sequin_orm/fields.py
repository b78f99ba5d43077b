"""Field specifications of model classes: wire names, types, read-only and reference flags.

A model declares fields as plain attrs attributes; ``meta(...)`` puts what the wire needs in
the attribute's ``metadata``. ``specs_of(cls)`` compiles, once per class, the table that
loading, type checks and serialization use.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import operator
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union

import attrs

from sequin_orm.errors import ModelError

_META_KEY = "sequin"


def meta(
    *,
    wire: str | None = None,
    read_only: bool = False,
    references: str | None = None,
    required: bool = False,
) -> dict[str, Any]:
    """Metadata for ``attrs.field(metadata=...)`` on a model field.

    ``wire`` is the key in the record's ``data`` when it differs from the attribute name; a
    dotted key (``"properties.email"``) addresses a nested object. ``references`` names the
    collection a reference field points to.
    """
    return {
        _META_KEY: {
            "wire": wire,
            "read_only": read_only,
            "references": references,
            "required": required,
        }
    }


@attrs.frozen
class FieldSpec:
    """One model field, compiled: how to check, load and send it."""

    name: str
    path: tuple[str, ...]
    types: tuple[type, ...] | None  # None: any value accepted
    nullable: bool
    read_only: bool
    required: bool
    references: str | None
    kind: Literal["plain", "date", "datetime", "reference"]
    mutable: bool  # list/dict values: in-place changes are tracked by comparison
    default: Any  # the value of an absent key
    factory: Callable[[], Any] | None  # or a factory for it
    simple: bool  # sent and loaded as is under one top-level key (no conversion, no nesting)
    parsed_on_read: bool  # a date slot that holds the wire string until read (_ParsedOnRead)

    @property
    def convert_on_load(self) -> bool:
        """Loading parses the wire value (dates whose class has no slot to parse on read)."""
        return self.kind in _PARSERS and not self.parsed_on_read

    @property
    def wire_name(self) -> str:
        return ".".join(self.path)

    def default_value(self) -> Any:
        return self.factory() if self.factory is not None else self.default


@attrs.frozen
class ClassSpec:
    """All fields of a model class, indexed for the hot paths (built once per class)."""

    fields: tuple[FieldSpec, ...]
    by_name: Mapping[str, FieldSpec]
    loaders: Mapping[str, Callable[[object, Any], None]]  # top-level data key -> sets the field
    nested: tuple[FieldSpec, ...]  # dotted fields ("properties.email")
    references: tuple[FieldSpec, ...]
    required: tuple[FieldSpec, ...]
    mutable: tuple[FieldSpec, ...]
    writable: tuple[FieldSpec, ...]  # not read-only: what a create may send
    non_nullable: tuple[FieldSpec, ...]
    direct_init: bool  # attrs' __init__ assigns fields directly (see model.model_fields)
    #: what each field's slot holds, in field order (parsed-on-read ones not parsed)
    held_values: Callable[[object], tuple[Any, ...]]
    reference_values: Callable[[object], tuple[Any, ...]]  # the values of ``references``
    writable_held: Callable[[object], tuple[Any, ...]]  # what ``writable`` slots hold
    required_values: Callable[[object], tuple[Any, ...]]  # the values of ``required``
    top_level_keys: frozenset[str]  # first path elements of declared fields
    nested_keys: frozenset[str]  # first path elements of dotted fields ("properties")
    nested_leaves: Mapping[str, frozenset[str]]  # "properties" -> {"email", ...}


_SPECS: dict[type, ClassSpec] = {}


def specs_of(cls: type) -> ClassSpec:
    """The compiled field table of a model class (built on first use, then cached)."""
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = _compile(cls)
    return spec


def _compile(cls: type) -> ClassSpec:
    hints = typing.get_type_hints(cls)
    fields = tuple(_field_spec(cls, a, hints[a.name]) for a in attrs.fields(cls))

    def pick(keep: Callable[[FieldSpec], bool]) -> tuple[FieldSpec, ...]:
        return tuple(f for f in fields if keep(f))

    references = pick(lambda f: f.kind == "reference")
    required = pick(lambda f: f.required)
    writable = pick(lambda f: not f.read_only)
    return ClassSpec(
        fields=fields,
        by_name={f.name: f for f in fields},
        loaders={f.path[0]: _loader(cls, f) for f in fields if len(f.path) == 1},
        nested=pick(lambda f: len(f.path) > 1),
        references=references,
        required=required,
        mutable=pick(lambda f: f.mutable),
        writable=writable,
        non_nullable=pick(lambda f: not f.nullable),
        direct_init=all(a.on_setattr is attrs.setters.NO_OP for a in attrs.fields(cls)),
        held_values=_values_getter(fields, held=True),
        reference_values=_values_getter(references),
        writable_held=_values_getter(writable, held=True),
        required_values=_values_getter(required),
        top_level_keys=frozenset(f.path[0] for f in fields),
        nested_keys=frozenset(f.path[0] for f in fields if len(f.path) > 1),
        nested_leaves=_nested_leaves(fields),
    )


def _loader(cls: type, field: FieldSpec) -> Callable[[object, Any], None]:
    """Sets ``field`` from a wire value as fast as the class allows: its slot's C setter."""
    slot = slot_of(cls, field.name)
    if slot is not None and not field.convert_on_load:
        setter: Callable[[object, Any], None] = slot.__set__
        return setter

    def load(obj: object, value: Any) -> None:
        object.__setattr__(obj, field.name, from_wire(field, value))

    return load


def slot_of(cls: type, name: str) -> Any:
    """The member descriptor of a slotted class's field (under a _ParsedOnRead), or None."""
    current = inspect.getattr_static(cls, name, None)
    if isinstance(current, _ParsedOnRead):
        return current.slot
    return current if isinstance(current, types.MemberDescriptorType) else None


def _values_getter(
    fields: tuple[FieldSpec, ...], *, held: bool = False
) -> Callable[[object], tuple[Any, ...]]:
    """A function returning the values of ``fields`` of an object, as a tuple.

    ``held``: what the slots hold, wire strings of parsed-on-read fields included (read
    through their bare slots, see ``_parse_on_read``).
    """
    names = tuple(_held_name(f.name) if held and f.parsed_on_read else f.name for f in fields)
    if len(names) > 1:
        return operator.attrgetter(*names)  # one C call for every value
    if names:
        get_one = operator.attrgetter(names[0])
        return lambda obj: (get_one(obj),)
    return lambda obj: ()


def _nested_leaves(fields: tuple[FieldSpec, ...]) -> dict[str, frozenset[str]]:
    leaves: dict[str, set[str]] = {}
    for f in fields:
        if len(f.path) > 1:
            leaves.setdefault(f.path[0], set()).add(f.path[1])
    return {key: frozenset(names) for key, names in leaves.items()}


def _field_spec(cls: type, attribute: attrs.Attribute[Any], hint: Any) -> FieldSpec:
    info: Mapping[str, Any] = attribute.metadata.get(_META_KEY, {})
    allowed, kind = _allowed_types(hint)
    if info.get("references") and kind == "plain":
        kind = "reference"
    default: Any = attribute.default
    factory = getattr(default, "factory", None)
    if factory is not None and getattr(default, "takes_self", False):
        raise ModelError(f"{attribute.name}: model fields cannot use takes_self factories")
    path = tuple((info.get("wire") or attribute.name).split("."))
    return FieldSpec(
        name=attribute.name,
        path=path,
        types=allowed,
        nullable=type(None) in _union_members(hint) or allowed is None,
        read_only=bool(info.get("read_only")),
        required=bool(info.get("required")),
        references=info.get("references"),
        kind=kind,
        mutable=allowed is not None and any(t in (list, dict) for t in allowed),
        default=None if default is attrs.NOTHING or factory is not None else default,
        factory=factory,
        simple=kind == "plain" and len(path) == 1,
        parsed_on_read=kind in _PARSERS and _parse_on_read(cls, attribute.name, kind),
    )


def _allowed_types(
    hint: Any,
) -> tuple[tuple[type, ...] | None, Literal["plain", "date", "datetime", "reference"]]:
    """Runtime ``isinstance`` types for an annotation, and how its values convert."""
    members = _union_members(hint)
    allowed: list[type] = []
    kind: Literal["plain", "date", "datetime", "reference"] = "plain"
    for member in members:
        if member is type(None):
            continue
        if member is Any:
            return None, kind
        origin = typing.get_origin(member)
        if origin is Literal:
            allowed.extend({type(v) for v in typing.get_args(member)})
        elif origin is not None:
            allowed.append(origin)
        elif member is float:
            allowed.extend((int, float))
        elif isinstance(member, type):
            allowed.append(member)
            if member is datetime.datetime:
                kind = "datetime"
            elif member is datetime.date and kind != "datetime":
                kind = "date"
            elif _is_model(member):
                kind = "reference"
    return tuple(dict.fromkeys(allowed)), kind


def _union_members(hint: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(hint)
    return (hint,)


def _is_model(tp: type) -> bool:
    from sequin_orm.model import Model

    return issubclass(tp, Model)


# --- values between the wire (JSON) and Python -------------------------------------------


class _ParsedOnRead(property):
    """A date or datetime slot that may hold the wire string: parsed at the first read.

    Loading a record then costs neither a parse nor a date object per field until the field
    is read (about 100 bytes per loaded Salesforce contact). Assignment stays the slot's own
    C setter. A string that does not parse is returned as sent, as ``from_wire`` does.
    """

    def __init__(self, slot: Any, parse: Callable[[str], Any]) -> None:
        read, write = slot.__get__, slot.__set__

        def get(obj: object) -> Any:
            value = read(obj)
            if value.__class__ is str:
                parsed = parse(value)
                if parsed is not None:
                    write(obj, parsed)
                    return parsed
            return value

        super().__init__(get, write)
        self.slot = slot


def _parse_on_read(cls: type, name: str, kind: str) -> bool:
    """Make a slotted date field parse on read; False when the class has no slot for it.

    The bare slot stays reachable under ``_held_name(name)``, so that one ``attrgetter`` reads
    what every field holds without parsing (type checks, payloads).
    """
    current = inspect.getattr_static(cls, name, None)
    if isinstance(current, types.MemberDescriptorType):
        setattr(cls, name, _ParsedOnRead(current, _PARSERS[kind]))
        setattr(cls, _held_name(name), current)
        return True
    return isinstance(current, _ParsedOnRead)


def _held_name(name: str) -> str:
    return f"_sequin_held_{name}"


def from_wire(spec: FieldSpec, value: Any) -> Any:
    """The Python value for a wire value; a value that does not parse is kept as sent."""
    if isinstance(value, str):
        if spec.kind == "datetime":
            return parse_datetime(value) or value
        if spec.kind == "date":
            return parse_date(value) or value
    return value


def to_wire(spec: FieldSpec, value: Any) -> Any:
    """The JSON value for a Python field value."""
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if spec.kind == "reference" and _is_model(type(value)):
        upstream_id: str | None = value.upstream_id
        if upstream_id is None:
            raise ModelError(
                f"{spec.name} references an unsaved {type(value).__name__}: save it first, "
                "or commit both in one Session"
            )
        return upstream_id
    return value


@functools.lru_cache(maxsize=4096)
def parse_datetime(value: str) -> datetime.datetime | None:
    """Parse ISO 8601 as the API sends it (``Z``, ``+0000``, space separator); None if not.

    Cached: records repeat timestamps (Salesforce's LastModifiedDate and SystemModstamp), and
    the results are immutable, so equal strings share one object.
    """
    text = value.strip()
    if len(text) < 10:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Salesforce's +0000
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


_PARSERS: dict[str, Callable[[str], Any]] = {"datetime": parse_datetime, "date": parse_date}


def format_datetime(value: datetime.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
