"""How each provider shapes a record's ``data``: system fields on create and on update."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sequin_orm.emulator import clock
from sequin_orm.emulator.jsonutil import JSONObject, as_object

_HUBSPOT_SYSTEM = ("id", "createdAt", "updatedAt", "archived")
_INTEGER_IDS = ("shopify", "github")
"""Providers whose ``data.id`` is a JSON integer (the upstream id stays a string)."""


def _hubspot_modified(object_name: str) -> str:
    """HubSpot's last-modified property: ``lastmodifieddate`` on contacts only."""
    return "lastmodifieddate" if object_name == "contact" else "hs_lastmodifieddate"


def created_data(
    provider: str, object_name: str, sent: JSONObject, upstream_id: str, now: datetime
) -> JSONObject:
    """The stored ``data`` of a new record: what was sent plus the provider's own fields."""
    data = copy.deepcopy(sent)
    if provider == "salesforce":
        stamp = clock.salesforce(now)
        data.update(Id=upstream_id, CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp)
    elif provider == "stripe":
        data.update(id=upstream_id, object=object_name, created=int(now.timestamp()))
    elif provider == "hubspot":
        stamp = clock.iso_milli(now)
        properties = dict(as_object(data.get("properties")) or {})
        properties.update(hs_object_id=upstream_id, createdate=stamp)
        properties[_hubspot_modified(object_name)] = stamp
        data.update(
            id=upstream_id, properties=properties, createdAt=stamp, updatedAt=stamp, archived=False
        )
    elif provider == "airtable":
        fields = dict(as_object(data.get("fields")) or {})
        data = {"id": upstream_id, "createdTime": clock.iso_milli(now), "fields": fields}
    else:
        data["id"] = int(upstream_id) if provider in _INTEGER_IDS else upstream_id
    return data


def updated_data(
    provider: str, object_name: str, current: JSONObject, patch: JSONObject, now: datetime
) -> JSONObject:
    """PATCH semantics: only keys in ``patch`` change (HubSpot merges ``properties``)."""
    data = copy.deepcopy(current)
    for key, value in copy.deepcopy(patch).items():
        if (provider, key) in _MERGED:
            _merge_nested(data, key, value)
        elif not _is_system_key(provider, key):
            data[key] = value
    _touch(provider, object_name, data, now)
    return data


#: Objects whose keys a PATCH merges one by one: HubSpot ``properties``, Airtable ``fields``.
_MERGED = frozenset({("hubspot", "properties"), ("airtable", "fields")})


def _merge_nested(data: JSONObject, key: str, value: Any) -> None:
    patch = as_object(value)
    if patch is None:
        return
    merged = dict(as_object(data.get(key)) or {})
    merged.update({k: v for k, v in patch.items() if k != "hs_object_id"})
    data[key] = merged


def _is_system_key(provider: str, key: str) -> bool:
    if provider == "salesforce":
        return key in ("Id", "CreatedDate")
    if provider == "stripe":
        return key in ("id", "object", "created")
    if provider == "hubspot":
        return key in _HUBSPOT_SYSTEM
    if provider == "airtable":
        return key in ("id", "createdTime")
    return key == "id"


def _touch(provider: str, object_name: str, data: JSONObject, now: datetime) -> None:
    if provider == "salesforce":
        stamp = clock.salesforce(now)
        data.update(LastModifiedDate=stamp, SystemModstamp=stamp)
    elif provider == "hubspot":
        stamp = clock.iso_milli(now)
        data["updatedAt"] = stamp
        properties = dict(as_object(data.get("properties")) or {})
        properties[_hubspot_modified(object_name)] = stamp
        data["properties"] = properties
