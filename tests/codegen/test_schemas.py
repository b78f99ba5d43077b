"""Validate the bundled collection schema files in ``sequin_orm/codegen/schemas``.

Each file describes one provider's collections in the shape of the items returned by
``GET /v1/collections/{credential_id}`` (plus an optional ``description``). The format is
documented in ``sequin_orm/codegen/schemas/README.md``. Only the standard library is used,
so these tests do not depend on the code generator itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sequin_orm.codegen.schema import FIELD_TYPES

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "sequin_orm" / "codegen" / "schemas"

EXPECTED_COLLECTIONS: dict[str, set[str]] = {
    "salesforce": {
        "salesforce:account",
        "salesforce:contact",
        "salesforce:lead",
        "salesforce:opportunity",
        "salesforce:task",
        "salesforce:event",
        "salesforce:case",
        "salesforce:user",
        "salesforce:campaign",
        "salesforce:campaignmember",
        "salesforce:note",
    },
    "hubspot": {
        "hubspot:contact",
        "hubspot:company",
        "hubspot:deal",
        "hubspot:ticket",
        "hubspot:line_item",
        "hubspot:product",
    },
    "stripe": {
        "stripe:customer",
        "stripe:invoice",
        "stripe:subscription",
        "stripe:product",
        "stripe:price",
        "stripe:payment_intent",
        "stripe:charge",
    },
    "shopify": {"shopify:product", "shopify:order", "shopify:customer"},
    "github": {"github:repository", "github:issue", "github:pull_request"},
    "linear": {"linear:issue", "linear:project"},
}

# Every bundled file is validated, including providers added later without an entry above.
PROVIDERS = sorted(set(EXPECTED_COLLECTIONS) | {path.stem for path in SCHEMA_DIR.glob("*.json")})

ALLOWED_TYPES = FIELD_TYPES  # the format README and the loader share one list

TOP_KEYS = {"provider", "source", "collections"}
COLLECTION_KEYS = {"id", "upstream_id", "name", "links", "fields"}
COLLECTION_OPTIONAL_KEYS = {"description"}
FIELD_KEYS = {"id", "name", "accessor", "type", "primary_key", "metadata"}
METADATA_KEYS = {
    "required",
    "read_only",
    "references",
    "picklist",
    "picklist_closed",
    "max_length",
    "description",
    "create_only",
    "write_type",
}


def _load(provider: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{provider}.json"
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _fields(provider: str) -> list[tuple[str, dict[str, Any]]]:
    """(collection id, field) pairs of one provider's file."""
    return [
        (collection["id"], field)
        for collection in _load(provider)["collections"]
        for field in collection["fields"]
    ]


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_expected_files_exist() -> None:
    found = {path.stem for path in SCHEMA_DIR.glob("*.json")}
    assert set(EXPECTED_COLLECTIONS) <= found


def test_file_parses_and_has_top_level_shape(provider: str) -> None:
    data = _load(provider)
    assert set(data) == TOP_KEYS
    assert data["provider"] == provider
    assert isinstance(data["source"], str) and data["source"].strip()
    assert isinstance(data["collections"], list) and data["collections"]


def test_expected_collections_present(provider: str) -> None:
    ids = [collection["id"] for collection in _load(provider)["collections"]]
    assert len(ids) == len(set(ids)), "duplicate collection ids"
    assert EXPECTED_COLLECTIONS.get(provider, set()) <= set(ids)


def test_collection_shape(provider: str) -> None:
    for collection in _load(provider)["collections"]:
        cid = collection["id"]
        keys = set(collection)
        assert keys >= COLLECTION_KEYS, cid
        assert keys <= COLLECTION_KEYS | COLLECTION_OPTIONAL_KEYS, cid
        assert cid.startswith(f"{provider}:"), cid
        assert cid == cid.lower(), cid
        assert len(cid.split(":")) == 2 and cid.split(":")[1], cid
        for key in ("upstream_id", "name"):
            assert isinstance(collection[key], str) and collection[key].strip(), (cid, key)
        assert isinstance(collection.get("description", ""), str), cid
        assert collection["links"] == [], cid
        assert isinstance(collection["fields"], list) and collection["fields"], cid


def test_field_shape(provider: str) -> None:
    for cid, field in _fields(provider):
        where = (cid, field.get("accessor"))
        assert set(field) == FIELD_KEYS, where
        for key in ("id", "name", "accessor"):
            assert isinstance(field[key], str) and field[key].strip(), where
        assert field["accessor"] == field["accessor"].strip(), where
        assert "" not in field["accessor"].split("."), where
        assert field["id"] == f"{cid}:{field['accessor']}", where
        assert field["type"] in ALLOWED_TYPES, where
        assert isinstance(field["primary_key"], bool), where
        assert isinstance(field["metadata"], dict), where


def test_no_duplicate_accessors(provider: str) -> None:
    for collection in _load(provider)["collections"]:
        accessors = [field["accessor"] for field in collection["fields"]]
        duplicates = sorted({a for a in accessors if accessors.count(a) > 1})
        assert not duplicates, (collection["id"], duplicates)


def test_exactly_one_primary_key(provider: str) -> None:
    for collection in _load(provider)["collections"]:
        keys = [field for field in collection["fields"] if field["primary_key"]]
        assert len(keys) == 1, collection["id"]
        key = keys[0]
        assert key["metadata"].get("read_only") is True, collection["id"]
        assert not key["metadata"].get("required", False), collection["id"]
        assert key["type"] in {"id", "string", "integer"}, collection["id"]


def test_metadata_keys_and_value_types(provider: str) -> None:
    for cid, field in _fields(provider):
        metadata = field["metadata"]
        where = (cid, field["accessor"])
        assert set(metadata) <= METADATA_KEYS, (where, set(metadata) - METADATA_KEYS)
        for flag in ("required", "read_only", "picklist_closed", "create_only"):
            if flag in metadata:
                assert isinstance(metadata[flag], bool), (where, flag)
        if "max_length" in metadata:
            value = metadata["max_length"]
            assert isinstance(value, int) and not isinstance(value, bool) and value > 0, where
        if "description" in metadata:
            assert isinstance(metadata["description"], str) and metadata["description"].strip()
        assert not (metadata.get("required") and metadata.get("read_only")), where
        assert not (metadata.get("create_only") and metadata.get("read_only")), where
        if "write_type" in metadata:
            assert metadata["write_type"] in {"string", "integer", "array"}, where
            assert metadata["write_type"] != field["type"], where


def test_references(provider: str) -> None:
    collection_ids = {c["id"] for c in _load(provider)["collections"]}
    for cid, field in _fields(provider):
        where = (cid, field["accessor"])
        target = field["metadata"].get("references")
        if target is None:
            continue
        assert field["type"] == "reference", where
        assert target in collection_ids, (where, target)


def test_picklists(provider: str) -> None:
    for cid, field in _fields(provider):
        metadata = field["metadata"]
        where = (cid, field["accessor"])
        has_list = "picklist" in metadata
        assert has_list == ("picklist_closed" in metadata), where
        if not has_list:
            continue
        assert field["type"] in {"picklist", "multipicklist"}, where
        values = metadata["picklist"]
        assert isinstance(values, list) and values, where
        assert all(isinstance(v, str) and v for v in values), where
        assert len(values) == len(set(values)), where


def test_hubspot_properties_are_strings_on_the_wire() -> None:
    # HubSpot v3 returns every property value as a string, so no properties.* field may be
    # typed as a number, boolean, date or container.
    string_valued = {"string", "text", "email", "url", "phone", "id", "reference", "picklist"}
    for cid, field in _fields("hubspot"):
        if field["accessor"].startswith("properties."):
            assert field["type"] in string_valued, (cid, field["accessor"])


@pytest.mark.parametrize(
    ("provider_name", "read_only_accessors"),
    [
        (
            "salesforce",
            {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById"},
        ),
        ("stripe", {"id", "object", "created", "livemode"}),
        (
            "hubspot",
            {
                "id",
                "createdAt",
                "updatedAt",
                "archived",
                "properties.hs_object_id",
                "properties.createdate",
            },
        ),
        ("github", {"id", "node_id", "created_at", "updated_at"}),
        ("shopify", {"id", "created_at", "updated_at"}),
        ("linear", {"id", "createdAt", "updatedAt"}),
    ],
)
def test_system_fields_are_read_only(provider_name: str, read_only_accessors: set[str]) -> None:
    for collection in _load(provider_name)["collections"]:
        by_accessor = {field["accessor"]: field for field in collection["fields"]}
        for accessor in read_only_accessors:
            assert accessor in by_accessor, (collection["id"], accessor)
            assert by_accessor[accessor]["metadata"].get("read_only") is True, (
                collection["id"],
                accessor,
            )


@pytest.mark.parametrize(
    ("collection_id", "required"),
    [
        ("salesforce:account", {"Name"}),
        ("salesforce:contact", {"LastName"}),
        ("salesforce:lead", {"LastName", "Company"}),
        ("salesforce:opportunity", {"Name", "StageName", "CloseDate"}),
        ("salesforce:case", set()),
        ("salesforce:task", set()),
        ("salesforce:campaign", {"Name"}),
        ("stripe:price", {"currency"}),
    ],
)
def test_required_fields(collection_id: str, required: set[str]) -> None:
    provider_name = collection_id.split(":")[0]
    (collection,) = [c for c in _load(provider_name)["collections"] if c["id"] == collection_id]
    found = {f["accessor"] for f in collection["fields"] if f["metadata"].get("required")}
    assert found == required
