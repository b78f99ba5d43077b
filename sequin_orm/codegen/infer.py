"""Infer a collection schema from sample records (``sequin-orm generate --from-records``).

Fields are the union of the keys of every record's ``data``, in order of first appearance;
types come from the values seen (null values say nothing). HubSpot keeps property values
under ``properties``: those become dotted fields (``properties.firstname``) typed ``string``,
since HubSpot sends every property value as a string. A field that the bundled schema of
the provider documents keeps its documented type and metadata (read-only, references,
picklists, descriptions), also under another casing (Sequin's ``salesforce:task`` examples
send ``activity_date`` for ``ActivityDate``: the field keeps the record's key and the
documented type); record ids and well-known system fields are read-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from sequin_orm.codegen.schema import (
    CollectionSchema,
    FieldMetadata,
    FieldSchema,
    ProviderSchema,
    SchemaError,
)
from sequin_orm.fields import parse_date, parse_datetime
from sequin_orm.records import fold_key

__all__ = ["infer_schema", "records_from_json"]

#: Keys whose values are objects of flat fields, per provider.
NESTED_KEYS: Final[Mapping[str, frozenset[str]]] = {"hubspot": frozenset({"properties"})}

#: Keys set by the provider, never sent (beyond the primary key ``Id``/``id``).
SYSTEM_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "salesforce": frozenset(
        {
            "attributes",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
            "IsDeleted",
            "LastActivityDate",
            "LastViewedDate",
            "LastReferencedDate",
        }
    ),
    "hubspot": frozenset(
        {
            "createdAt",
            "updatedAt",
            "archived",
            "archivedAt",
            "properties.hs_object_id",
            "properties.createdate",
            "properties.lastmodifieddate",
            "properties.hs_lastmodifieddate",
        }
    ),
    "stripe": frozenset({"object", "created", "livemode"}),
    "shopify": frozenset({"admin_graphql_api_id", "created_at", "updated_at"}),
    "github": frozenset({"node_id", "url", "html_url", "created_at", "updated_at"}),
    "linear": frozenset({"createdAt", "updatedAt", "archivedAt"}),
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_RECORD_KEYS = ("collection_id", "upstream_id", "sync_id", "updated_idx")


def records_from_json(data: Any) -> list[Mapping[str, Any]]:
    """The records in a JSON document: a list, ``{"records": [...]}`` or ``{"data": [...]}``."""
    if isinstance(data, Mapping):
        for key in ("records", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise SchemaError("expected a list of records (or {'records': [...]})")
    records = [item for item in data if isinstance(item, Mapping)]
    if len(records) != len(data):
        raise SchemaError("every record must be a JSON object")
    return records


def infer_schema(
    records: Iterable[Mapping[str, Any]],
    *,
    collection_id: str | None = None,
    base: ProviderSchema | None = None,
    source: str | None = None,
) -> ProviderSchema:
    """A schema for the collections of ``records``.

    Items are Sequin records (``{"collection_id", "upstream_id", "data": {...}, ...}``) or
    bare ``data`` objects (then ``collection_id`` names their collection). With
    ``collection_id``, records of other collections are skipped. ``base`` (the provider's
    bundled schema) supplies the metadata of the fields it documents.
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    count = 0
    for record in records:
        is_record = isinstance(record.get("data"), Mapping) and any(
            key in record for key in _RECORD_KEYS
        )
        data = record["data"] if is_record else record
        cid = (record.get("collection_id") if is_record else None) or collection_id
        if not isinstance(cid, str) or ":" not in cid:
            raise SchemaError("a record without a collection id: pass --collection-id")
        if collection_id is not None and cid != collection_id:
            continue
        grouped.setdefault(cid, []).append(data)
        count += 1
    if not grouped:
        raise SchemaError("no records to infer a schema from")
    providers = {cid.partition(":")[0] for cid in grouped}
    if len(providers) != 1:
        raise SchemaError(f"records of several providers: {', '.join(sorted(providers))}")
    provider = providers.pop()
    if base is not None and base.provider != provider:
        base = None
    collections = tuple(
        _collection(cid, datas, provider, base.collection(cid) if base else None)
        for cid, datas in grouped.items()
    )
    plural = "" if count == 1 else "s"
    return ProviderSchema(
        provider=provider,
        collections=collections,
        source=source or f"Inferred from {count} sample record{plural}",
    )


def _collection(
    collection_id: str,
    datas: list[Mapping[str, Any]],
    provider: str,
    base: CollectionSchema | None,
) -> CollectionSchema:
    known = {f.accessor: f for f in base.fields} if base else {}
    nested = set(NESTED_KEYS.get(provider, ()))
    nested.update(f.path[0] for f in known.values() if len(f.path) > 1)
    seen: dict[str, list[Any]] = {}
    for data in datas:
        for key, value in data.items():
            if not key or "." in key:
                continue  # not addressable as an accessor: stays in extra
            if key in nested and isinstance(value, Mapping):
                for inner, inner_value in value.items():
                    if inner and "." not in inner:
                        seen.setdefault(f"{key}.{inner}", []).append(inner_value)
            else:
                seen.setdefault(key, []).append(value)
    folded = {fold_key(accessor): f for accessor, f in known.items()}
    base_pk = next((f.accessor for f in known.values() if f.primary_key), None)
    if base_pk is not None and base_pk not in seen:
        base_pk = next((k for k in seen if fold_key(k) == fold_key(base_pk)), base_pk)
    primary = base_pk or next((k for k in ("Id", "id") if k in seen), None)
    system = SYSTEM_FIELDS.get(provider, frozenset())
    fields: list[FieldSchema] = []
    for accessor, values in seen.items():
        documented = known.get(accessor)
        if documented is not None:
            fields.append(documented)
            continue
        other_casing = folded.get(fold_key(accessor))
        if other_casing is not None:  # activity_date where the docs say ActivityDate
            fields.append(
                attrs.evolve(
                    other_casing,
                    id=f"{collection_id}:{accessor}",
                    accessor=accessor,
                    primary_key=accessor == primary,
                )
            )
            continue
        strings_only = len(accessor.split(".")) > 1 and provider == "hubspot"
        read_only = accessor == primary or accessor in system
        fields.append(
            FieldSchema(
                id=f"{collection_id}:{accessor}",
                name=_label(accessor.split(".")[-1]),
                accessor=accessor,
                type=_infer_type(values, strings_only=strings_only),
                primary_key=accessor == primary,
                metadata=FieldMetadata(read_only=read_only),
            )
        )
    key = collection_id.partition(":")[2]
    return CollectionSchema(
        id=collection_id,
        upstream_id=base.upstream_id if base else key,
        name=base.name if base else _label(key),
        fields=tuple(fields),
        description=base.description if base else None,
    )


def _infer_type(values: list[Any], *, strings_only: bool) -> str:
    kinds = {_kind(v, strings_only=strings_only) for v in values if v is not None}
    if not kinds:
        return "any"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds == {"integer", "number"}:
        return "number"
    if kinds == {"date", "datetime"}:
        return "datetime"
    if kinds <= {"string", "date", "datetime"}:
        return "string"
    return "any"


def _kind(value: Any, *, strings_only: bool) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        if not strings_only:
            if _DATE.match(value) and parse_date(value) is not None:
                return "date"
            if _DATETIME.match(value) and parse_datetime(value) is not None:
                return "datetime"
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "any"


def _label(key: str) -> str:
    """A display label from a key: ``LeadSource`` / ``lead_source`` -> ``Lead Source``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key)
    words = [w for w in re.split(r"[\W_]+", spaced) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or key
