"""The collection schema format: loading, validation, and a canonical JSON form.

A schema describes one provider's collections, in the shape of the items of
``GET /v1/collections/{credential_id}`` (plus an optional ``description``); the bundled files
in ``sequin_orm/codegen/schemas/`` document it (see the README there)::

    {"provider": "salesforce", "source": "...", "collections": [
        {"id": "salesforce:contact", "upstream_id": "Contact", "name": "Contact", "links": [],
         "fields": [{"id": "salesforce:contact:Id", "name": "Contact ID", "accessor": "Id",
                     "type": "id", "primary_key": true, "metadata": {"read_only": true}}]}]}

A bare API response (``{"data": [...]}``, a list of collections, or one collection) is
accepted too; the provider then comes from the collection ids. Loading is strict about the
structure and lenient about what the API may add later: unknown field types are kept (the
generator types them ``Any``) unless ``strict=True``, and unknown keys are kept aside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from sequin_orm.errors import SequinError

__all__ = [
    "FIELD_TYPES",
    "CollectionSchema",
    "FieldMetadata",
    "FieldSchema",
    "ProviderSchema",
    "SchemaError",
    "load_schema",
    "parse_schema",
]

#: The field types of the format (``sequin_orm/codegen/schemas/README.md``).
FIELD_TYPES: Final = frozenset(
    {
        "string",
        "text",
        "email",
        "url",
        "phone",
        "id",
        "reference",
        "boolean",
        "integer",
        "number",
        "currency",
        "percent",
        "date",
        "datetime",
        "time",
        "picklist",
        "multipicklist",
        "array",
        "object",
        "any",
    }
)

#: The types a ``write_type`` may name: plain JSON values (no picklist, no reference).
_WRITE_TYPES: Final = frozenset(
    {"string", "integer", "number", "boolean", "array", "object", "text", "id"}
)

_COLLECTION_ID = re.compile(r"^([^:\s]+):(\S.*)$")
_KNOWN_METADATA = (
    "required",
    "read_only",
    "create_only",
    "write_type",
    "references",
    "picklist",
    "picklist_closed",
    "max_length",
    "description",
)

PicklistValue = str | int | bool


class SchemaError(SequinError, ValueError):
    """A schema file or response does not have the documented shape; says where."""


@attrs.frozen
class FieldMetadata:
    """What a field's ``metadata`` says; every key is optional.

    ``create_only``: sent on create, never in an update (the provider does not change it
    after create). ``write_type``: the type a create or update sends when it differs from the
    type records carry (Stripe ``subscription.items`` is read as an object, sent as an array).
    """

    required: bool = False
    read_only: bool = False
    create_only: bool = False
    write_type: str | None = None
    references: str | None = None
    picklist: tuple[PicklistValue, ...] | None = None
    picklist_closed: bool = False
    max_length: int | None = None
    description: str | None = None
    #: Keys the format does not define, kept as given.
    other: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class FieldSchema:
    """One field of a collection; ``accessor`` is its key in the record's ``data``."""

    id: str
    name: str
    accessor: str
    type: str
    primary_key: bool = False
    metadata: FieldMetadata = attrs.field(factory=FieldMetadata)

    @property
    def path(self) -> tuple[str, ...]:
        """The accessor split on dots: ``("properties", "firstname")``."""
        return tuple(self.accessor.split("."))


@attrs.frozen
class CollectionSchema:
    """One collection: ``id`` is ``<provider>:<collection>``."""

    id: str
    upstream_id: str
    name: str
    fields: tuple[FieldSchema, ...]
    links: tuple[Any, ...] = ()
    description: str | None = None

    @property
    def provider(self) -> str:
        return self.id.partition(":")[0]

    @property
    def key(self) -> str:
        """The part of the id after the provider: ``campaignmember``."""
        return self.id.partition(":")[2]


@attrs.frozen
class ProviderSchema:
    """Every collection of one provider."""

    provider: str
    collections: tuple[CollectionSchema, ...]
    source: str | None = None

    def collection(self, collection_id: str) -> CollectionSchema | None:
        return next((c for c in self.collections if c.id == collection_id), None)

    def unknown_types(self) -> list[str]:
        """``<field id>: <type>`` for every field whose type the format does not define."""
        return [
            f"{f.id}: {f.type}"
            for c in self.collections
            for f in c.fields
            if f.type not in FIELD_TYPES
        ]

    def to_json(self) -> dict[str, Any]:
        """The schema in the file format (what ``--save-schema`` writes)."""
        top: dict[str, Any] = {"provider": self.provider}
        if self.source is not None:
            top["source"] = self.source
        top["collections"] = [_collection_json(c) for c in self.collections]
        return top

    def dumps(self) -> str:
        """Canonical JSON text of ``to_json()`` (stable: same schema, same text)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


def _collection_json(collection: CollectionSchema) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": collection.id,
        "upstream_id": collection.upstream_id,
        "name": collection.name,
        "links": list(collection.links),
    }
    if collection.description is not None:
        item["description"] = collection.description
    item["fields"] = [_field_json(f) for f in collection.fields]
    return item


def _field_json(field: FieldSchema) -> dict[str, Any]:
    m = field.metadata
    metadata: dict[str, Any] = {}
    if m.required:
        metadata["required"] = True
    if m.read_only:
        metadata["read_only"] = True
    if m.create_only:
        metadata["create_only"] = True
    if m.write_type is not None:
        metadata["write_type"] = m.write_type
    if m.references is not None:
        metadata["references"] = m.references
    if m.picklist is not None:
        metadata["picklist"] = list(m.picklist)
        metadata["picklist_closed"] = m.picklist_closed
    if m.max_length is not None:
        metadata["max_length"] = m.max_length
    if m.description is not None:
        metadata["description"] = m.description
    metadata.update(m.other)
    return {
        "id": field.id,
        "name": field.name,
        "accessor": field.accessor,
        "type": field.type,
        "primary_key": field.primary_key,
        "metadata": metadata,
    }


# --- loading --------------------------------------------------------------------------------


def load_schema(path: str | Path, *, strict: bool = False) -> ProviderSchema:
    """Read and validate a schema file (the bundled format or a saved API response)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SchemaError(f"{path}: cannot read: {error.strerror or error}") from None
    except ValueError as error:
        raise SchemaError(f"{path}: not JSON: {error}") from None
    try:
        return parse_schema(data, strict=strict)
    except SchemaError as error:
        raise SchemaError(f"{path}: {error}") from None


def parse_schema(
    data: Any, *, strict: bool = False, provider: str | None = None, source: str | None = None
) -> ProviderSchema:
    """Validate decoded JSON and build a ``ProviderSchema``.

    Accepts ``{"provider", "source"?, "collections": [...]}``, ``{"data": [...]}`` (the API's
    list response), a bare list of collections, or one collection (``{"id", "fields", ...}``,
    optionally wrapped in ``{"data": ...}``). ``strict`` also rejects unknown field types.
    ``provider`` and ``source`` fill in what a bare response lacks.
    """
    items, where, top = _collection_items(data)
    if top is not None:
        provider = _opt_str(top, "provider", "") or provider
        source = _opt_str(top, "source", "") or source
    collections = tuple(
        _collection(item, f"{where}[{index}]", strict=strict) for index, item in enumerate(items)
    )
    collections = tuple(_airtable_paths(c) if c.provider == "airtable" else c for c in collections)
    providers = sorted({c.provider for c in collections})
    if provider is None:
        if len(providers) != 1:
            found = ", ".join(providers) or "no collections"
            raise SchemaError(f"cannot tell the provider: one is needed, found {found}")
        provider = providers[0]
    for index, collection in enumerate(collections):
        if collection.provider != provider:
            raise SchemaError(
                f"{where}[{index}].id: {collection.id!r} is not a collection of {provider!r}"
            )
    seen: set[str] = set()
    for index, collection in enumerate(collections):
        if collection.id in seen:
            raise SchemaError(f"{where}[{index}].id: duplicate collection {collection.id!r}")
        seen.add(collection.id)
    return ProviderSchema(provider=provider, collections=collections, source=source)


#: An Airtable record's ``data``: ``{"id", "createdTime", "fields": {<field name>: value}}``.
AIRTABLE_RECORD_FIELDS: Final = (
    FieldSchema(
        id="id",
        name="Record ID",
        accessor="id",
        type="id",
        metadata=FieldMetadata(read_only=True, description="Airtable record id, rec..."),
    ),
    FieldSchema(
        id="createdTime",
        name="Created Time",
        accessor="createdTime",
        type="datetime",
        metadata=FieldMetadata(read_only=True),
    ),
)


def _airtable_paths(collection: CollectionSchema) -> CollectionSchema:
    """An Airtable table as its records hold it: the listed fields (accessor: the field name)
    under ``fields.``, beside the record's ``id`` and ``createdTime``."""
    fields = [
        f if f.accessor.startswith("fields.") else attrs.evolve(f, accessor=f"fields.{f.accessor}")
        for f in collection.fields
    ]
    have = {f.accessor for f in fields}
    top = [
        attrs.evolve(f, id=f"{collection.id}:{f.accessor}")
        for f in AIRTABLE_RECORD_FIELDS
        if f.accessor not in have
    ]
    return attrs.evolve(collection, fields=(*top, *fields))


def _collection_items(data: Any) -> tuple[Sequence[Any], str, Mapping[str, Any] | None]:
    if isinstance(data, list):
        return data, "", None
    if not isinstance(data, Mapping):
        raise SchemaError(f"expected a JSON object or list, got {_kind(data)}")
    if "collections" in data:
        items = data["collections"]
        if not isinstance(items, list):
            raise SchemaError(f"collections: expected a list, got {_kind(items)}")
        return items, "collections", data
    if "data" in data:
        inner = data["data"]
        if isinstance(inner, list):
            return inner, "data", None
        if isinstance(inner, Mapping) and "fields" in inner:
            return [inner], "data", None
        raise SchemaError(f"data: expected a list of collections, got {_kind(inner)}")
    if "fields" in data and "id" in data:
        return [data], "", None
    raise SchemaError("expected a 'collections' or 'data' key (or one collection)")


def _collection(item: Any, where: str, *, strict: bool) -> CollectionSchema:
    if not isinstance(item, Mapping):
        raise SchemaError(f"{where}: expected a collection object, got {_kind(item)}")
    collection_id = _req_str(item, "id", where)
    match = _COLLECTION_ID.match(collection_id)
    if match is None:
        raise SchemaError(f"{where}.id: expected '<provider>:<collection>', got {collection_id!r}")
    key = match.group(2)
    raw_fields = item.get("fields")
    if not isinstance(raw_fields, list):
        raise SchemaError(f"{where}.fields: expected a list, got {_kind(raw_fields)}")
    fields = tuple(
        _field(f, f"{where}.fields[{i}]", collection_id, strict=strict)
        for i, f in enumerate(raw_fields)
    )
    accessors: set[str] = set()
    for index, field in enumerate(fields):
        if field.accessor in accessors:
            raise SchemaError(
                f"{where}.fields[{index}].accessor: duplicate accessor {field.accessor!r}"
            )
        accessors.add(field.accessor)
    links = item.get("links")
    if links is not None and not isinstance(links, list):
        raise SchemaError(f"{where}.links: expected a list, got {_kind(links)}")
    return CollectionSchema(
        id=collection_id,
        upstream_id=_opt_str(item, "upstream_id", where) or key,
        name=_opt_str(item, "name", where) or key,
        fields=fields,
        links=tuple(links or ()),
        description=_opt_str(item, "description", where) or None,
    )


def _field(item: Any, where: str, collection_id: str, *, strict: bool) -> FieldSchema:
    if not isinstance(item, Mapping):
        raise SchemaError(f"{where}: expected a field object, got {_kind(item)}")
    accessor = _req_str(item, "accessor", where)
    if any(not part.strip() for part in accessor.split(".")):
        raise SchemaError(f"{where}.accessor: empty path segment in {accessor!r}")
    field_type = _req_str(item, "type", where)
    if strict and field_type not in FIELD_TYPES:
        raise SchemaError(
            f"{where}.type: unknown type {field_type!r} (one of {', '.join(sorted(FIELD_TYPES))})"
        )
    primary_key = item.get("primary_key", False)
    if not isinstance(primary_key, bool):
        raise SchemaError(f"{where}.primary_key: expected true or false, got {_kind(primary_key)}")
    return FieldSchema(
        id=_opt_str(item, "id", where) or f"{collection_id}:{accessor}",
        name=_opt_str(item, "name", where) or accessor,
        accessor=accessor,
        type=field_type,
        primary_key=primary_key,
        metadata=_metadata(item.get("metadata"), f"{where}.metadata"),
    )


def _metadata(item: Any, where: str) -> FieldMetadata:
    if item is None:
        return FieldMetadata()
    if not isinstance(item, Mapping):
        raise SchemaError(f"{where}: expected an object, got {_kind(item)}")
    picklist = item.get("picklist")
    if picklist is not None:
        if not isinstance(picklist, list) or not all(isinstance(v, str | int) for v in picklist):
            raise SchemaError(f"{where}.picklist: expected a list of strings")
        picklist = tuple(dict.fromkeys(picklist))
    max_length = item.get("max_length")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
        raise SchemaError(f"{where}.max_length: expected an integer, got {_kind(max_length)}")
    read_only = _opt_bool(item, "read_only", where)
    create_only = _opt_bool(item, "create_only", where)
    if read_only and create_only:
        raise SchemaError(f"{where}: a field is read_only or create_only, not both")
    write_type = _opt_str(item, "write_type", where) or None
    if write_type is not None and write_type not in _WRITE_TYPES:
        raise SchemaError(
            f"{where}.write_type: expected one of {', '.join(sorted(_WRITE_TYPES))}, "
            f"got {write_type!r}"
        )
    return FieldMetadata(
        required=_opt_bool(item, "required", where),
        read_only=read_only,
        create_only=create_only,
        write_type=write_type,
        references=_opt_str(item, "references", where) or None,
        picklist=picklist,
        picklist_closed=_opt_bool(item, "picklist_closed", where),
        max_length=max_length,
        description=_opt_str(item, "description", where) or None,
        other={k: v for k, v in item.items() if k not in _KNOWN_METADATA},
    )


def _req_str(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if value is None else _kind(value)
        raise SchemaError(f"{where}.{key}: expected a non-empty string, got {shown}")
    return value


def _opt_str(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise SchemaError(f"{where}.{key}: expected a string, got {_kind(value)}".lstrip("."))
    return value


def _opt_bool(item: Mapping[str, Any], key: str, where: str) -> bool:
    value = item.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise SchemaError(f"{where}.{key}: expected true or false, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
