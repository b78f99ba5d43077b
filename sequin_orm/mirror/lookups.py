"""Lookups (``Email="…"``, ``Amount__gte=10``) to SQL expressions over ``data`` (no I/O).

A model field is read out of the JSON ``data`` and compared **by its declared type**: text as
text, numbers as numbers, booleans as booleans, dates and datetimes as such, on PostgreSQL and
on SQLite alike (SQLite has no timestamp type: datetimes go through ``sequin_utc()``, a
function the mirror registers on each SQLite connection). JSON paths are rendered as literals,
so the expression of a query is the expression of an index (``Mirror.index``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement

from sequin_orm.errors import ModelError, UnknownFieldError
from sequin_orm.fields import Field, parse_date, parse_datetime
from sequin_orm.mirror.tables import records
from sequin_orm.model import Model
from sequin_orm.registry import DynamicModel

__all__ = ["LOOKUPS", "Target", "condition", "expression_of", "sequin_utc", "target"]

Kind = Literal["text", "number", "boolean", "date", "datetime"]

LOOKUPS = (
    "exact", "in", "gt", "gte", "lt", "lte", "contains", "icontains", "startswith", "isnull",
)  # fmt: skip
_TEXT_ONLY = ("contains", "icontains", "startswith")
#: Record metadata that can be looked up like a field (columns, not ``data`` keys).
_COLUMNS = {"upstream_id": records.c.upstream_id, "sync_id": records.c.sync_id}


class Target:
    """What a lookup names: a column, or a typed path into ``data``."""

    def __init__(self, name: str, kind: Kind, path: tuple[str, ...] | None) -> None:
        self.name = name
        self.kind = kind
        self.path = path


def target(model: type[Model], name: str) -> Target:
    """The field ``name`` of ``model`` (or ``upstream_id``/``sync_id``); ``ModelError``."""
    if name in _COLUMNS:
        return Target(name, "text", None)
    spec_field = model._spec.by_name.get(name)
    if spec_field is not None:
        return Target(name, _kind_of(spec_field), spec_field.path)
    if issubclass(model, DynamicModel):
        return Target(name, "text", (name,))  # no declared fields: any data key, as text
    hint = f"; lookups are __{', __'.join(LOOKUPS)}" if "__" in name else ""
    raise UnknownFieldError(
        f"{model.__name__} has no field {name!r} to query (fields are named as in the record's "
        f"data, e.g. 'Email'; also 'upstream_id' and 'sync_id'){hint}"
    )


def _kind_of(spec_field: Field[Any]) -> Kind:
    if spec_field.kind in ("date", "datetime"):
        return spec_field.kind
    types = set(spec_field.types or ())
    if types and types <= {int, float}:
        return "number"
    if types == {bool}:
        return "boolean"
    return "text"


def expression_of(found: Target, dialect: str) -> ColumnElement[Any]:
    """The SQL value of a target, typed by its kind (what queries, ``order_by`` and indexes
    use)."""
    if found.path is None:
        return _COLUMNS[found.name]
    text = _json_text(found.path)
    if found.kind == "number":
        return sa.cast(text, sa.Numeric) if dialect == "postgresql" else _json_value(found.path)
    if found.kind == "boolean":
        return cast("ColumnElement[Any]", _json_at(found.path).as_boolean())
    if found.kind == "date":
        return sa.cast(text, sa.Date) if dialect == "postgresql" else sa.func.date(text)
    if found.kind == "datetime":
        if dialect == "postgresql":
            return sa.cast(text, sa.TIMESTAMP(timezone=True))
        return sa.func.sequin_utc(text, type_=sa.String)
    return text


def _json_at(path: tuple[str, ...]) -> Any:
    """``data`` at ``path``, the path rendered inline (an index on ``data->>'Email'`` serves
    only queries that name the key as a literal, not as a parameter)."""
    data = records.c.data.comparator
    if len(path) == 1:
        key = sa.bindparam(None, path[0], type_=sa.JSON.JSONIndexType, literal_execute=True)
        return data.operate(operators.json_getitem_op, key, result_type=records.c.data.type)
    steps = sa.bindparam(None, path, type_=sa.JSON.JSONPathType, literal_execute=True)
    return data.operate(operators.json_path_getitem_op, steps, result_type=records.c.data.type)


def _json_text(path: tuple[str, ...]) -> ColumnElement[Any]:
    return cast("ColumnElement[Any]", _json_at(path).as_string())


def _json_value(path: tuple[str, ...]) -> ColumnElement[Any]:
    return cast("ColumnElement[Any]", _json_at(path).as_float())


def condition(model: type[Model], lookup: str, value: Any, dialect: str) -> ColumnElement[bool]:
    """The SQL condition of one lookup (``"LastName__in"``, ``["A", "B"]``); ``ModelError``
    for an unknown field or lookup, or a value of the wrong type, before any query."""
    name, _, op = lookup.rpartition("__")
    if op not in LOOKUPS:  # no lookup: the whole is a field name (Salesforce's Code__c)
        name, op = lookup, "exact"
    found = target(model, name)
    column = expression_of(found, dialect)
    if op == "isnull":
        if not isinstance(value, bool):
            raise ModelError(f"{lookup} takes True or False")
        return column.is_(None) if value else column.is_not(None)
    if op in _TEXT_ONLY and found.kind != "text":
        raise ModelError(f"{lookup}: {op} works on text fields; {name} is a {found.kind}")
    if op == "in":
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ModelError(f"{lookup} takes a list of values")
        return column.in_([_bind(found, v, lookup, dialect) for v in value])
    bound = _bind(found, value, lookup, dialect)
    if op in _TEXT_ONLY:
        return _text_match(column, op, bound, dialect)
    if value is None:
        if op != "exact":
            raise ModelError(f"{lookup}: None only compares with exact (or use __isnull)")
        return column.is_(None)
    return _COMPARE[op](column, bound)


def _text_match(column: Any, op: str, value: str, dialect: str) -> ColumnElement[bool]:
    """contains/startswith match case (SQLite's LIKE does not: it uses instr/substr there);
    icontains does not."""
    if op == "icontains":
        return cast("ColumnElement[bool]", column.icontains(value, autoescape=True))
    if dialect == "postgresql":
        if op == "contains":
            return cast("ColumnElement[bool]", column.contains(value, autoescape=True))
        return cast("ColumnElement[bool]", column.startswith(value, autoescape=True))
    if op == "contains":
        return sa.func.instr(column, value) > 0
    return sa.func.substr(column, 1, len(value)) == value


_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "exact": lambda c, v: c == v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
}


def _bind(found: Target, value: Any, lookup: str, dialect: str) -> Any:
    """The parameter for a value compared with ``found``: checked, in the SQL form."""
    if value is None:
        return None
    kind = found.kind
    if kind == "text":
        if isinstance(value, Model):  # a reference field compared with an object
            value = value.upstream_id
        if not isinstance(value, str):
            raise ModelError(f"{lookup} compares text; got {type(value).__name__}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(f"{lookup} compares numbers; got {type(value).__name__}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ModelError(f"{lookup} compares True/False; got {type(value).__name__}")
        return value
    if kind == "date":
        day = parse_date(value) if isinstance(value, str) else value
        if isinstance(day, datetime.datetime) or not isinstance(day, datetime.date):
            raise ModelError(f"{lookup} compares dates; got {value!r}")
        return day if dialect == "postgresql" else day.isoformat()
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime.datetime):
        raise ModelError(f"{lookup} compares datetimes; got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment if dialect == "postgresql" else _utc_text(moment)


def _utc_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def sequin_utc(value: Any) -> str | None:
    """SQLite's ``sequin_utc(text)``: an ISO datetime as sortable UTC text, None if it is not
    one (registered on each SQLite connection of a mirror)."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return _utc_text(moment)
