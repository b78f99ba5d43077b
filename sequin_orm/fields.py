"""Typed field descriptors of model classes, and values between the wire (JSON) and Python.

A model class declares each field as a descriptor, typed for mypy and pyright::

    class Contact(Record):
        __slots__ = ()

        Email: Field[str | None] = Field(str)
        Birthdate: Field[datetime.date | None] = Field(datetime.date)
        AccountId: Field[str | Account | None] = Field(str, references="salesforce:account")
        Id: ReadOnlyField[str | None] = ReadOnlyField(str)

The positional arguments are the runtime types a value is checked against (none: any JSON
value). ``T`` in ``Field[T]`` is what type checkers see: reading gives ``T``, assigning takes
``T`` (``ReadOnlyField`` takes nothing), so ``contact.Email = 1`` and ``contact.Emial = "x"``
are errors for both mypy and pyright.

Where the values live (see model.py): an object keeps one dict, ``_values``, keyed by wire key
(``"Email"``; ``"properties.email"`` for a nested HubSpot property), plus a set of changed keys.
A field's descriptor reads and writes its key there. A date or datetime loaded from a record
stays the wire string in ``_values`` and is parsed when read (cached per string), so loading
costs no parse; a list or dict read from a loaded object is copied once into ``_values`` so an
in-place change is seen by comparison with the last-known data.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar, overload

from sequin_orm.errors import FieldTypeError, ModelError, ReadOnlyFieldError

if TYPE_CHECKING:
    from sequin_orm.record import Record

__all__ = [
    "ClassSpec",
    "Field",
    "ReadOnlyField",
    "check_json",
    "fields_of",
    "format_datetime",
    "from_wire",
    "parse_date",
    "parse_datetime",
    "specs_of",
    "to_wire",
]

T = TypeVar("T")

Kind = Literal["plain", "date", "datetime", "reference"]

#: The value of ``_values.get(key, MISSING)`` for a key that is not there.
MISSING: Any = object()


class Field(Generic[T]):
    """A typed model field: a data descriptor over the object's ``_values`` dict.

    ``*types``: runtime types a value must be an instance of (``float`` accepts ``int``; a
    model class, or ``references=``, makes it a reference field that also takes a model
    object). ``wire``: the key in the record's ``data`` when it differs from the attribute
    name; dotted (``"properties.email"``) for a nested object. ``default``/``factory``: the
    value of an absent key (``None`` unless given). ``nullable``: whether ``None`` is accepted
    (default: when the default is ``None``). ``required``: a create must carry a value.
    ``create_only``: sent on create only; assigning it on an object that exists upstream
    raises ``ModelError`` (the provider does not change it after create).
    """

    __slots__ = (
        "create_only",
        "default",
        "factory",
        "fast",
        "key",
        "kind",
        "models",
        "mutable",
        "name",
        "nullable",
        "parse",
        "path",
        "plain_get",
        "plain_set",
        "read_only",
        "references",
        "required",
        "simple",
        "takes_str",
        "types",
        "wire",
    )

    name: str
    key: str
    path: tuple[str, ...]

    def __init__(
        self,
        *types: type,
        wire: str | None = None,
        references: str | None = None,
        required: bool = False,
        default: Any = None,
        factory: Callable[[], Any] | None = None,
        nullable: bool | None = None,
        create_only: bool = False,
    ) -> None:
        plain = tuple(t for t in types if not _is_model_class(t))
        #: model classes a reference accepts (empty: any model of ``references``)
        self.models = tuple(t for t in types if _is_model_class(t))
        kind: Kind = "plain"
        if references is not None or len(plain) < len(types):
            kind = "reference"
        elif datetime.datetime in plain:
            kind = "datetime"
        elif datetime.date in plain:
            kind = "date"
        if float in plain and int not in plain:
            plain += (int,)
        self.types: tuple[type, ...] | None = plain if types else None
        self.wire = wire
        self.references = references
        self.required = required
        self.default = default
        self.factory = factory
        self.nullable = nullable if nullable is not None else default is None and factory is None
        self.kind: Kind = kind
        self.mutable = not types or any(t in (list, dict) for t in plain)
        self.parse: Callable[[str], Any] | None = _PARSERS.get(kind)
        #: an ASCII ``str`` passes ``check`` without a call (the construction fast path)
        self.takes_str = str in plain or not types
        #: classes whose instances pass ``check`` as they are (no NaN, no nesting to look at)
        self.fast = frozenset(
            t for t in plain if t in (bool, int, datetime.date, datetime.datetime)
        ) - ({datetime.datetime} if kind == "date" else set())
        self.read_only = False
        self.create_only = create_only
        self.name = self.key = wire or ""
        self.path = tuple(self.key.split("."))
        self.simple = self.plain_get = self.plain_set = False

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.key = self.wire or name
        self.path = tuple(self.key.split("."))
        self.simple = self.kind == "plain" and len(self.path) == 1
        self.plain_get = self.parse is None and not self.mutable and self.factory is None
        #: an ASCII ``str`` is assigned without a call (``__set__``'s fast path)
        self.plain_set = (
            self.takes_str and self.plain_get and self.default is None and not self.create_only
        )

    @property
    def wire_name(self) -> str:
        """The dotted wire key: ``"Email"``, ``"properties.email"``."""
        return self.key

    @property
    def convert_on_load(self) -> bool:
        """Whether a wire value is converted when read (dates are parsed)."""
        return self.parse is not None

    def default_value(self) -> Any:
        return self.factory() if self.factory is not None else self.default

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.key})>"

    # -- the descriptor --------------------------------------------------------------

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Field[T]: ...
    @overload
    def __get__(self, obj: Record, owner: type[Any] | None = None) -> T: ...
    def __get__(self, obj: Record | None, owner: type[Any] | None = None) -> T | Field[T]:
        if obj is None:
            return self
        value: Any = obj._values.get(self.key, self.default)
        if self.plain_get:
            return value  # type: ignore[no-any-return]
        return self._read(obj, value)  # type: ignore[no-any-return]

    def _read(self, obj: Record, value: Any) -> Any:
        """A date from its wire string; a list or dict owned by ``_values``; a factory default."""
        parse = self.parse
        if parse is not None:
            if value.__class__ is str:
                return parse(value) or value  # a string that does not parse reads as sent
            return value
        values = obj._values
        if self.key not in values:
            if self.factory is None:
                return value
            value = self.factory()
        elif value.__class__ not in (list, dict):
            return value
        else:
            raw = obj._raw
            if raw is None or value is not lookup(raw, self.path):
                return value  # already owned by the object
            value = copy_json(value)
        # the object now owns the value: an in-place change is compared with the known data
        obj._own_values()[self.key] = value
        return value

    def __set__(self, obj: Record, value: T) -> None:
        if self.plain_set and value.__class__ is str and value.isascii():  # type: ignore[attr-defined]
            # the common case of Record._assign, inline: a str needs no other check, and
            # equal strings are equal JSON
            key = self.key
            values = obj._values
            if values.get(key) == value:
                return
            if values is obj._raw:  # Record._own_values, inline: the first change copies
                values = obj._values = dict(values)
            values[key] = value
            changed = obj._changed
            if changed is None:
                obj._changed = {key}
            else:
                changed.add(key)
            return
        obj._assign(self, value)

    # -- checks ------------------------------------------------------------------------

    def check(self, owner: type, value: Any) -> None:
        """Raise ``FieldTypeError`` (or ``ModelError`` for non-JSON) unless ``value`` fits."""
        if value is None:
            if not self.nullable:
                self._type_error(owner, value)
            return
        types = self.types
        if types is not None and not isinstance(value, types):
            if self.kind != "reference" or not self._accepts_model(value):
                self._type_error(owner, value)
            return
        cls = value.__class__
        if cls is str:
            if not value.isascii():
                check_json(value, f"{owner.__name__}.{self.name}")
        elif cls is float:
            if not math.isfinite(value):
                check_json(value, f"{owner.__name__}.{self.name}")
        elif cls is datetime.datetime:
            if self.kind == "date":
                self._type_error(owner, value)
        elif cls is list or cls is dict or types is None or isinstance(value, _JSON_BASES):
            # a list or dict, any value of an untyped field, a subclass of a JSON type (a str
            # enum, numpy.float64); other declared types (an Enum, a UUID) are the model's
            check_json(value, f"{owner.__name__}.{self.name}")

    def _accepts_model(self, value: Any) -> bool:
        if self.models:
            return isinstance(value, self.models)
        collection_id = getattr(type(value), "collection_id", None)
        if not isinstance(collection_id, str) or not _is_model_class(type(value)):
            return False
        return self.references is None or collection_id == self.references

    def _type_error(self, owner: type, value: Any) -> NoReturn:
        names = [t.__name__ for t in self.types or ()]
        if self.kind == "reference":
            names.extend([m.__name__ for m in self.models] or [self.references or "Model"])
        if float in (self.types or ()):
            names.remove("int")
        expected = " | ".join(names)
        if self.nullable:
            expected += " or None"
        raise FieldTypeError(
            f"{owner.__name__}.{self.name} takes {expected}, got {type(value).__name__}"
        )


class ReadOnlyField(Field[T]):
    """A field the API sets (``Id``, ``CreatedDate``): readable, never assigned or sent."""

    __slots__ = ()

    def __init__(
        self,
        *types: type,
        wire: str | None = None,
        references: str | None = None,
        default: Any = None,
        factory: Callable[[], Any] | None = None,
        nullable: bool | None = None,
    ) -> None:
        super().__init__(
            *types,
            wire=wire,
            references=references,
            default=default,
            factory=factory,
            nullable=nullable,
        )
        self.read_only = True

    def __set__(self, obj: Record, value: NoReturn) -> None:  # type: ignore[override]
        raise ReadOnlyFieldError(f"{type(obj).__name__}.{self.name} is read-only")


def _is_model_class(tp: type) -> bool:
    """A model class (without importing model.py): it has the record methods."""
    return isinstance(tp, type) and hasattr(tp, "_absorb_record")


# --- the compiled table of a class ---------------------------------------------------------


class ClassSpec:
    """All fields of a model class, indexed for the hot paths (built once, at class creation)."""

    __slots__ = (
        "by_key",
        "by_name",
        "create_only",
        "defaults",
        "fields",
        "flat",
        "init_names",
        "mutable",
        "names_are_keys",
        "nested",
        "nested_keys",
        "nested_leaves",
        "non_nullable",
        "plain_records",
        "position",
        "reference_keys",
        "references",
        "required",
        "required_keys",
        "str_init_keys",
        "top_level_keys",
        "wire_ready",
        "writable",
    )

    def __init__(self, fields: tuple[Field[Any], ...]) -> None:
        self.fields = fields
        self.by_name: Mapping[str, Field[Any]] = {f.name: f for f in fields}
        self.by_key: Mapping[str, Field[Any]] = {f.key: f for f in fields}
        #: a field's place in the declaration, by key (an update lists its fields in order)
        self.position: Callable[[str], int] = {f.key: i for i, f in enumerate(fields)}.__getitem__
        self.nested = tuple(f for f in fields if len(f.path) > 1)
        #: no dotted field: ``_values`` may be the record's ``data`` dict itself
        self.flat = not self.nested
        #: no dotted field and no list or dict field: an answer's ``data`` can be adopted
        #: as it is (``record.absorb_answers``)
        self.plain_records = self.flat and not any(f.mutable for f in fields)
        #: keys whose values are sent as they are: JSON scalars once checked (no date to
        #: format, no model to reference, no list or dict to copy, no nesting)
        self.wire_ready = frozenset(
            f.key for f in fields if f.simple and not f.mutable and not f.read_only
        )
        self.references = tuple(f for f in fields if f.kind == "reference")
        #: a set, for the test of every saved object (the order is ``references``)
        self.reference_keys = frozenset(f.key for f in self.references)
        self.required = tuple(f for f in fields if f.required)
        self.required_keys = tuple(f.key for f in self.required)
        self.mutable = tuple(f for f in fields if f.mutable)
        self.writable = tuple(f for f in fields if not f.read_only)
        #: the keywords of ``__init__``: every field that is not read-only
        self.init_names = frozenset(f.name for f in self.writable)
        self.names_are_keys = all(f.name == f.key for f in fields)
        #: the keywords of ``__init__`` that take an ASCII ``str`` without another check (by
        #: wire key, so only when names are keys: else every construction is checked)
        self.str_init_keys = (
            frozenset(f.key for f in self.writable if f.takes_str)
            if self.names_are_keys
            else frozenset()
        )
        self.create_only = frozenset(f.key for f in fields if f.create_only)
        self.non_nullable = tuple(f for f in fields if not f.nullable)
        #: fields whose absent key reads as something else than None (set at construction)
        self.defaults = tuple(f for f in fields if f.factory is not None or f.default is not None)
        self.top_level_keys = frozenset(f.path[0] for f in fields)
        self.nested_keys = frozenset(f.path[0] for f in self.nested)
        leaves: dict[str, set[str]] = {}
        for f in self.nested:
            leaves.setdefault(f.path[0], set()).add(f.path[1])
        self.nested_leaves: Mapping[str, frozenset[str]] = {
            k: frozenset(v) for k, v in leaves.items()
        }


def compile_spec(cls: type) -> ClassSpec:
    """The field table of ``cls``: its ``Field`` descriptors, base classes' first."""
    found: dict[str, Field[Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Field):
                found.pop(name, None)
                found[name] = value
    fields = tuple(found.values())
    keys: dict[str, str] = {}
    for f in fields:
        if f.key in keys:
            raise ModelError(f"{cls.__name__}: {keys[f.key]} and {f.name} share the key {f.key!r}")
        keys[f.key] = f.name
        for other in keys:
            if other != f.key and (other.startswith(f.key + ".") or f.key.startswith(other + ".")):
                raise ModelError(f"{cls.__name__}: keys {other!r} and {f.key!r} overlap")
        if len(f.path) > 2:
            raise ModelError(f"{cls.__name__}.{f.name}: a wire key nests one level at most")
    return ClassSpec(fields)


def specs_of(cls: type) -> ClassSpec:
    """The compiled field table of a model class."""
    spec: ClassSpec = cls._spec  # type: ignore[attr-defined]
    return spec


def fields_of(cls: type) -> tuple[Field[Any], ...]:
    """The fields of a model class, in declaration order."""
    return specs_of(cls).fields


# --- JSON values ----------------------------------------------------------------------------

_JSON_BASES = (str, float, list, dict)  # their subclasses are checked like them


def check_json(value: Any, where: str, depth: int = 0) -> None:
    """``ModelError`` unless ``value`` encodes as strict JSON: no NaN or Infinity, no lone
    surrogate in a string, only str keys, only JSON types (a date is allowed: it is sent in
    ISO format)."""
    cls = value.__class__
    if value is None or cls is bool or cls is int:
        return
    if cls is str or isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ModelError(f"{where}: a string with a lone surrogate is not JSON") from None
        return
    if isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ModelError(f"{where}: {value!r} is not a JSON number")
        return
    if depth > 100:
        raise ModelError(f"{where}: nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ModelError(f"{where}: JSON object keys are strings, got {key!r}")
            check_json(key, where)
            check_json(item, f"{where}[{key!r}]", depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, datetime.date):
        return
    if _is_model_class(type(value)):
        return  # a reference: sent as its upstream id
    raise ModelError(f"{where}: a {type(value).__name__} is not a JSON value")


def copy_json(value: Any) -> Any:
    """A copy of a JSON value: new lists and dicts, shared immutable leaves."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def same_json(a: Any, b: Any) -> bool:
    """Equality of JSON values that tells ``0`` from ``False`` and ``1`` from ``1.0``."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in record data, or ``MISSING``."""
    if len(path) == 1:
        return data.get(path[0], MISSING)
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def assign(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in record data, making nested objects as needed."""
    for key in path[:-1]:
        inner = data.get(key)
        if not isinstance(inner, dict):
            inner = data[key] = {}
        data = inner
    data[path[-1]] = value


# --- values between the wire (JSON) and Python -------------------------------------------


def from_wire(spec: Field[Any], value: Any) -> Any:
    """The Python value for a wire value; a value that does not parse is kept as sent."""
    if spec.parse is not None and isinstance(value, str):
        return spec.parse(value) or value
    return value


def to_wire(spec: Field[Any], value: Any) -> Any:
    """The JSON value for a Python field value."""
    cls = value.__class__
    if cls is datetime.datetime:
        return format_datetime(value)
    if cls is datetime.date or isinstance(value, datetime.date):
        if isinstance(value, datetime.datetime):
            return format_datetime(value)
        return value.isoformat()
    if spec.kind == "reference" and _is_model_class(cls):
        upstream_id: str | None = value.upstream_id
        if upstream_id is None:
            raise ModelError(
                f"{spec.name} references an unsaved {cls.__name__}: save it first, "
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
