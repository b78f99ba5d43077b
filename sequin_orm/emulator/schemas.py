"""Collection schemas per provider, for ``/v1/collections`` and for sync validation.

The source is ``sequin_orm/codegen/schemas/<provider>.json`` (written by codegen) when the
file exists; collections missing from it come from a small built-in table.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Final

from sequin_orm.emulator.jsonutil import JSONObject, as_list, as_object

# provider -> collection -> (primary key, other accessors with their types)
_BUILTIN: Final[dict[str, dict[str, tuple[str, dict[str, str]]]]] = {
    "salesforce": {
        "contact": (
            "Id",
            {
                "FirstName": "string",
                "LastName": "string",
                "Email": "string",
                "Phone": "string",
                "Title": "string",
                "AccountId": "string",
            },
        ),
        "account": (
            "Id",
            {
                "Name": "string",
                "Industry": "string",
                "Website": "string",
                "Phone": "string",
                "AnnualRevenue": "number",
            },
        ),
        "task": (
            "Id",
            {
                "Subject": "string",
                "Status": "string",
                "Priority": "string",
                "ActivityDate": "date",
                "Description": "string",
                "WhoId": "string",
                "WhatId": "string",
            },
        ),
        "lead": (
            "Id",
            {
                "FirstName": "string",
                "LastName": "string",
                "Company": "string",
                "Email": "string",
                "Status": "string",
            },
        ),
        "opportunity": (
            "Id",
            {
                "Name": "string",
                "StageName": "string",
                "CloseDate": "date",
                "Amount": "number",
                "AccountId": "string",
            },
        ),
    },
    "stripe": {
        "customer": (
            "id",
            {
                "object": "string",
                "email": "string",
                "name": "string",
                "description": "string",
                "balance": "number",
                "created": "number",
                "metadata": "object",
            },
        ),
        "invoice": (
            "id",
            {
                "object": "string",
                "customer": "string",
                "status": "string",
                "amount_due": "number",
                "currency": "string",
                "created": "number",
            },
        ),
        "subscription": (
            "id",
            {"object": "string", "customer": "string", "status": "string", "created": "number"},
        ),
    },
    "hubspot": {
        "contact": (
            "id",
            {
                "properties.firstname": "string",
                "properties.lastname": "string",
                "properties.email": "string",
                "createdAt": "datetime",
                "updatedAt": "datetime",
                "archived": "boolean",
            },
        ),
        "company": (
            "id",
            {
                "properties.name": "string",
                "properties.domain": "string",
                "createdAt": "datetime",
                "updatedAt": "datetime",
                "archived": "boolean",
            },
        ),
    },
}


#: The base an Airtable credential lists (Airtable collection ids are opaque table ids; a
#: field's accessor is its name, the key under the record's ``data.fields``).
AIRTABLE_BASE: Final[tuple[JSONObject, ...]] = (
    {
        "id": "airtable:gcSyR6LfxbXo7iART4m1vcLu",
        "upstream_id": "tblGuilds01",
        "name": "Guilds",
        "links": [],
        "fields": [
            {"id": "fldName01", "name": "Name", "accessor": "Name", "type": "string",
             "primary_key": True, "metadata": {}},
            {"id": "fldMembers01", "name": "Members", "accessor": "Members", "type": "integer",
             "primary_key": False, "metadata": {}},
            {"id": "fldFounded01", "name": "Founded", "accessor": "Founded", "type": "date",
             "primary_key": False, "metadata": {}},
            {"id": "fldHomeWorld01", "name": "Home World", "accessor": "Home World",
             "type": "string", "primary_key": False, "metadata": {}},
        ],
    },
)  # fmt: skip


def collections(provider: str) -> list[JSONObject]:
    """Every known collection of ``provider`` (codegen file first, then built-ins)."""
    if provider == "airtable":
        return [dict(c) for c in AIRTABLE_BASE]
    merged = {c["id"]: c for c in builtin_collections(provider)}
    merged.update({c["id"]: c for c in _from_codegen(provider)})
    return list(merged.values())


def collection(provider: str, collection_id: str) -> JSONObject | None:
    """One collection by id, or ``None``."""
    return next((c for c in collections(provider) if c["id"] == collection_id), None)


def collection_ids(provider: str) -> frozenset[str]:
    """Ids of the known collections of ``provider`` (empty when nothing is known)."""
    return frozenset(c["id"] for c in collections(provider))


@functools.cache
def _from_codegen(provider: str) -> tuple[JSONObject, ...]:
    if not re.fullmatch(r"[a-z0-9_]+", provider):
        return ()
    try:
        path = (
            resources.files("sequin_orm.codegen").joinpath("schemas").joinpath(f"{provider}.json")
        )
        document = as_object(json.loads(path.read_text(encoding="utf-8")))
    except (ImportError, OSError, ValueError, TypeError):
        return ()
    items = as_list(document.get("collections")) if document else None
    found = (as_object(item) for item in items or [])
    return tuple(c for c in found if c is not None and isinstance(c.get("id"), str))


@functools.cache
def builtin_collections(provider: str) -> tuple[JSONObject, ...]:
    """The built-in fallback collections of ``provider``."""
    table = _BUILTIN.get(provider, {})
    return tuple(_build(provider, name, pk, fields) for name, (pk, fields) in table.items())


def _build(provider: str, name: str, pk: str, fields: dict[str, str]) -> JSONObject:
    collection_id = f"{provider}:{name}"
    upstream = {"salesforce": name.capitalize(), "hubspot": name + "s"}.get(provider, name)
    columns = {pk: "string", **fields}
    return {
        "id": collection_id,
        "upstream_id": upstream,
        "name": _humanize(name),
        "links": [],
        "fields": [
            {
                "id": f"{collection_id}:{accessor}",
                "name": _humanize(accessor.rpartition(".")[2]),
                "accessor": accessor,
                "type": kind,
                "primary_key": accessor == pk,
                "metadata": {},
            }
            for accessor, kind in columns.items()
        ],
    }


def _humanize(key: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ")
    return " ".join(word[:1].upper() + word[1:] for word in spaced.split())
