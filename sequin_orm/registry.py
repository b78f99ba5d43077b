"""Which model class serves which collection: generated, user-defined or dynamic."""

from __future__ import annotations

import importlib
from typing import Any

from sequin_orm.errors import ModelError
from sequin_orm.model import Model
from sequin_orm.record import registered_model

__all__ = ["AirtableRecord", "DynamicModel", "model_for"]

#: Providers with a bundled module in ``sequin_orm.models``.
BUNDLED_PROVIDERS = frozenset({"salesforce", "hubspot", "stripe", "shopify", "github", "linear"})
_BUNDLED_PACKAGE = "sequin_orm.models"

_dynamic: dict[str, type[DynamicModel]] = {}


def model_for(collection_id: str) -> type[Model]:
    """The model class of a collection id such as ``"salesforce:contact"``.

    Imports the bundled provider module on first use; for collections without a generated
    model, returns a ``DynamicModel`` subclass that keeps every key of ``data``.
    """
    provider, sep, name = collection_id.partition(":")
    if not sep or not provider or not name:
        raise ModelError(f"A collection id looks like 'provider:collection', got {collection_id!r}")
    cls = registered_model(collection_id)
    if cls is None and provider in BUNDLED_PROVIDERS:
        importlib.import_module(f"{_BUNDLED_PACKAGE}.{provider}")
        cls = registered_model(collection_id)
    if isinstance(cls, type) and issubclass(cls, Model):
        return cls
    return _dynamic_model(collection_id, provider)


class DynamicModel(Model):
    """A model without declared fields: every ``data`` key lives in ``extra``.

    ``obj["Name"]`` reads and writes ``extra["Name"]``.
    """

    __slots__ = ()

    def __init__(self, **data: Any) -> None:
        super().__init__()
        self.extra.update(data)

    def _items(self) -> dict[str, Any]:
        """The dict ``obj[key]`` addresses: ``extra`` (the whole ``data``)."""
        return self.extra

    def __getitem__(self, key: str) -> Any:
        return self._items()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._items()[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self._items().get(key, default)


class AirtableRecord(DynamicModel):
    """A dynamic model of an ``airtable:*`` collection: Airtable keeps a record's values under
    ``data["fields"]`` (beside ``id`` and ``createdTime``), so ``obj["Name"]`` reads and writes
    ``data["fields"]["Name"]`` and ``AirtableRecord(Name=...)`` creates ``{"fields": {...}}``.

    For typed classes, generate them from the base's collections:
    ``sequin-orm generate --credential-id <airtable credential>``.
    """

    __slots__ = ()

    def __init__(self, **fields: Any) -> None:
        super().__init__()
        self.extra["fields"] = dict(fields)

    @property
    def fields(self) -> dict[str, Any]:
        """The record's values by Airtable field name (``data["fields"]``)."""
        fields = self.extra.get("fields")
        if not isinstance(fields, dict):
            fields = self.extra["fields"] = {}
        return fields

    def _items(self) -> dict[str, Any]:
        return self.fields


def _dynamic_model(collection_id: str, provider: str) -> type[DynamicModel]:
    cls = _dynamic.get(collection_id)
    if cls is None:
        name = "".join(part.capitalize() for part in collection_id.split(":", 1)[1].split("_"))
        namespace = {"collection_id": collection_id, "provider": provider, "__slots__": ()}
        if provider == "airtable":
            cls = type(name or "Record", (AirtableRecord,), namespace)
        else:
            cls = type(name or "Record", (DynamicModel,), namespace)
        _dynamic[collection_id] = cls
    return cls
