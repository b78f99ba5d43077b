"""``sequin-orm generate``: schema files, the collections API, sample records, ``--check``,
refused locations, schema inference, and generated packages that type-check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sequin_orm
from sequin_orm import cli as top_cli
from sequin_orm.codegen import infer_schema, load_schema, parse_schema
from sequin_orm.codegen.cli import main

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "sequin_orm" / "codegen" / "schemas"
BIN = Path(sys.executable).parent

ACME: dict[str, Any] = {
    "provider": "acme",
    "source": "test schema",
    "collections": [
        {
            "id": "acme:account",
            "upstream_id": "Account",
            "name": "Account",
            "fields": [
                {
                    "accessor": "Id",
                    "type": "id",
                    "primary_key": True,
                    "metadata": {"read_only": True},
                },
                {"accessor": "Name", "type": "string", "metadata": {"required": True}},
                {"accessor": "class", "type": "string"},
                {"accessor": "state", "type": "picklist", "metadata": {"picklist": ["a", "b"]}},
                {
                    "accessor": "Tier",
                    "type": "picklist",
                    "metadata": {"picklist": ["gold", "silver"], "picklist_closed": True},
                },
                {"accessor": "properties.score", "type": "integer"},
                {
                    "accessor": "ParentId",
                    "type": "reference",
                    "metadata": {"references": "acme:account"},
                },
                {"accessor": "OwnerId", "type": "reference"},
                {"accessor": "Since", "type": "date"},
                {"accessor": "future", "type": "hologram"},
            ],
        },
        {
            "id": "acme:line_item",
            "upstream_id": "line_items",
            "name": "Line Item",
            "fields": [
                {
                    "accessor": "id",
                    "type": "id",
                    "primary_key": True,
                    "metadata": {"read_only": True},
                },
                {
                    "accessor": "account",
                    "type": "reference",
                    "metadata": {"references": "acme:account"},
                },
            ],
        },
    ],
}

HUBSPOT_RECORDS: list[dict[str, Any]] = [
    {
        "id": "rec-1",
        "upstream_id": "51",
        "collection_id": "hubspot:contact",
        "sync_id": "sync-hs",
        "data": {
            "id": "51",
            "properties": {"firstname": "Chani", "custom_score": "12", "closedate": None},
            "createdAt": "2024-01-02T03:04:05.678Z",
            "archived": False,
        },
    },
    {
        "id": "rec-2",
        "upstream_id": "52",
        "collection_id": "hubspot:contact",
        "data": {
            "id": "52",
            "properties": {"lastname": "Kynes", "custom_score": "7", "is_vip": "true"},
            "archived": False,
            "associations": {"companies": {"results": []}},
        },
    },
]


@pytest.fixture
def acme_schema(tmp_path: Path) -> Path:
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(ACME, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    """The default client answers from canned responses; yields the requests sent."""
    sent: list[httpx.Request] = []
    collections = {"data": [c for c in ACME["collections"]]}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/v1/collections/cred-1":
            return httpx.Response(200, json=collections)
        if request.url.path == "/v1/records":
            cid = request.url.params["collection_id"]
            records = [r for r in HUBSPOT_RECORDS if r["collection_id"] == cid]
            return httpx.Response(200, json={"records": records, "cursor": None})
        return httpx.Response(404, json={"summary": "Not found"})

    sequin_orm.configure(
        api_token="token-1", base_url="http://127.0.0.1", transport=httpx.MockTransport(handler)
    )
    yield sent


# --- --schema -------------------------------------------------------------------------------


def test_schema_to_package_and_check(
    acme_schema: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mymodels"
    assert main(["--schema", str(acme_schema), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "acme.py", "py.typed"]
    assert "from . import acme" in (out / "__init__.py").read_text(encoding="utf-8")
    text = (out / "acme.py").read_text(encoding="utf-8")
    assert text.startswith("# Generated by sequin-orm codegen from acme.json (sha256 ")
    assert 'class_: Field[str | None] = Field(str, wire="class")' in text
    assert "note: unknown field type, typed Any: acme:account:future: hologram" in (
        capsys.readouterr().err
    )

    assert main(["--schema", str(acme_schema), "--out", str(out), "--check"]) == 0
    (out / "acme.py").write_text(text + "# edited\n", encoding="utf-8")
    assert main(["--schema", str(acme_schema), "--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["--schema", str(acme_schema), "--out", str(out)]) == 0
    assert (out / "acme.py").read_text(encoding="utf-8") == text


def test_a_second_provider_joins_the_package(acme_schema: Path, tmp_path: Path) -> None:
    out = tmp_path / "mymodels"
    assert main(["--schema", str(acme_schema), "--out", str(out)]) == 0
    assert main(["--schema", str(SCHEMAS / "stripe.json"), "--out", str(out)]) == 0
    init = (out / "__init__.py").read_text(encoding="utf-8")
    assert "from . import acme, stripe" in init


def test_top_level_cli_dispatches_generate(acme_schema: Path, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    assert top_cli.main(["generate", "--schema", str(acme_schema), "--out", str(out)]) == 0
    assert (out / "acme.py").is_file()


def test_refuses_installed_locations_and_foreign_files(
    acme_schema: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inside = REPO / "sequin_orm" / "models"
    assert main(["--schema", str(acme_schema), "--out", str(inside)]) == 2
    assert "--bundled" in capsys.readouterr().err
    assert not (inside / "acme.py").exists()
    site = tmp_path / "lib" / "site-packages" / "mine"
    assert main(["--schema", str(acme_schema), "--out", str(site)]) == 2
    assert not site.exists()

    out = tmp_path / "pkg"
    out.mkdir()
    (out / "acme.py").write_text("# mine\n", encoding="utf-8")
    assert main(["--schema", str(acme_schema), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "acme.py").read_text(encoding="utf-8") == "# mine\n"
    (out / "__init__.py").write_text("# my init\n", encoding="utf-8")
    assert main(["--schema", str(acme_schema), "--out", str(out), "--force"]) == 0
    assert (out / "__init__.py").read_text(encoding="utf-8") == "# my init\n"


def test_usage_errors(acme_schema: Path, tmp_path: Path) -> None:
    assert main([]) == 2
    assert main(["--schema", str(acme_schema)]) == 2  # no --out
    assert main(["--schema", str(tmp_path / "missing.json"), "--out", str(tmp_path)]) == 2
    assert main(["--from-records", "--out", str(tmp_path)]) == 2  # no collection
    (tmp_path / "bad.json").write_text('{"collections": [{"id": "x"}]}', encoding="utf-8")
    assert main(["--schema", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")]) == 2


def test_bundled_regenerates_into_a_chosen_directory(tmp_path: Path) -> None:
    assert main(["--bundled", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{p.stem}.py" for p in SCHEMAS.glob("*.json"))
    for path in tmp_path.iterdir():
        bundled = REPO / "sequin_orm" / "models" / path.name
        assert path.read_text(encoding="utf-8") == bundled.read_text(encoding="utf-8")


# --- --credential-id and --from-records -----------------------------------------------------


def test_credential_id_fetches_the_collections(api: list[httpx.Request], tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    saved = tmp_path / "schema.json"
    assert main(["--credential-id", "cred-1", "--out", str(out), "--save-schema", str(saved)]) == 0
    assert [(r.method, r.url.path) for r in api] == [("GET", "/v1/collections/cred-1")]
    assert api[0].headers["authorization"] == "Bearer token-1"
    text = (out / "acme.py").read_text(encoding="utf-8")
    assert "from collections of credential cred-1 (sha256 " in text
    assert "class LineItem(Model):" in text
    assert load_schema(saved).collections == parse_schema(ACME).collections


def test_from_records_through_the_api(api: list[httpx.Request], tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    args = ["--from-records", "--collection-id", "hubspot:contact", "--sync-id", "sync-hs"]
    assert main([*args, "--limit", "5", "--out", str(out)]) == 0
    params = dict(api[0].url.params)
    assert params == {"collection_id": "hubspot:contact", "limit": "5", "sync_id": "sync-hs"}
    text = (out / "hubspot.py").read_text(encoding="utf-8")
    assert "from records of hubspot:contact (sha256 " in text
    wire = 'wire="properties.custom_score"'
    assert f"custom_score: Field[str | None] = Field(str, {wire})" in text


def test_from_records_file(tmp_path: Path) -> None:
    records = tmp_path / "records.json"
    records.write_text(json.dumps({"records": HUBSPOT_RECORDS}), encoding="utf-8")
    out = tmp_path / "pkg"
    assert main(["--from-records", "--records-file", str(records), "--out", str(out)]) == 0
    assert "from records.json (sha256 " in (out / "hubspot.py").read_text(encoding="utf-8")


# --- inference ------------------------------------------------------------------------------


def test_infer_types_keys_and_hubspot_properties() -> None:
    base = load_schema(SCHEMAS / "hubspot.json")
    schema = infer_schema(HUBSPOT_RECORDS, base=base)
    (contact,) = schema.collections
    fields = {f.accessor: f for f in contact.fields}
    # union of keys over the records, in order of first appearance
    assert list(fields) == [
        "id",
        "properties.firstname",
        "properties.custom_score",
        "properties.closedate",
        "createdAt",
        "archived",
        "properties.lastname",
        "properties.is_vip",
        "associations",
    ]
    # documented fields keep their documented metadata
    assert fields["properties.firstname"] == base.collections[0].fields[3]
    assert fields["id"].primary_key and fields["id"].metadata.read_only
    # property values are strings on the wire, whatever they look like
    assert fields["properties.custom_score"].type == "string"
    assert fields["properties.is_vip"].type == "string"
    assert fields["associations"].type == "object"
    assert contact.upstream_id == "contacts"


def test_infer_from_bare_data_objects() -> None:
    rows: list[dict[str, Any]] = [
        {
            "Id": "003A",
            "Name": "x",
            "Amount": 1,
            "Seen": "2024-01-02",
            "At": "2024-01-02T10:00:00Z",
        },
        {"Id": "003B", "Name": None, "Amount": 2.5, "Seen": "2024-03-04", "Tags": ["a"]},
        {"Id": "003C", "Mixed": 1, "Weird.Key": 1, "Obj": {"a": 1}},
        {"Mixed": "one"},
    ]
    schema = infer_schema(rows, collection_id="acme:thing")
    types = {f.accessor: f.type for f in schema.collections[0].fields}
    assert types == {
        "Id": "string",
        "Name": "string",
        "Amount": "number",
        "Seen": "date",
        "At": "datetime",
        "Tags": "array",
        "Mixed": "any",
        "Obj": "object",
    }
    assert schema.collections[0].fields[0].primary_key
    assert schema.source == "Inferred from 4 sample records"


def test_infer_needs_a_collection_id() -> None:
    with pytest.raises(sequin_orm.errors.SequinError, match="--collection-id"):
        infer_schema([{"Id": "1"}])


# --- generated packages import and type-check -----------------------------------------------


USAGE = '''
"""Uses the generated packages; type-checked by mypy --strict and pyright, then run."""

from __future__ import annotations

import datetime

from typing_extensions import assert_type

from gen_records import hubspot as inferred
from gen_schema import acme, stripe


def check() -> None:
    account = acme.Account(Name="Acme", class_="A", state_="a", Tier="gold", score=3)
    item = acme.LineItem(account=account)
    assert_type(item.account, str | acme.Account | None)
    assert_type(account.Since, datetime.date | None)
    assert_type(account.score, int | None)
    customer = stripe.Customer(email="a@b.c", balance=1)
    assert_type(customer.balance, int | None)
    contact = inferred.Contact(firstname="Chani", custom_score="12")
    assert_type(contact.custom_score, str | None)
    assert_type(contact.createdAt, datetime.datetime | None)

    record = {
        "upstream_id": "1",
        "data": {"Id": "1", "class": "B", "properties": {"score": 5, "x": 1}, "Zed__c": True},
    }
    loaded = acme.Account.from_record(record)
    assert (loaded.class_, loaded.score) == ("B", 5)
    assert loaded.extra == {"properties": {"x": 1}, "Zed__c": True}
    assert loaded.to_data() == record["data"]
    import sequin_orm

    assert sequin_orm.model_for("acme:account") is acme.Account
    assert sequin_orm.model_for("hubspot:contact") is inferred.Contact


def errors() -> None:  # never run: each line must be a type error
    acme.Account(Tier="bronze")  # type: ignore[arg-type]
    acme.Account(Id="1")  # type: ignore[call-arg]
    inferred.Contact(custom_score=12)  # type: ignore[arg-type]


if __name__ == "__main__":
    check()
    print("ok")
'''


def test_generated_packages_import_and_type_check(acme_schema: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    records = tmp_path / "records.json"
    records.write_text(json.dumps(HUBSPOT_RECORDS), encoding="utf-8")
    args = ["--schema", str(acme_schema), str(SCHEMAS / "stripe.json")]
    assert main([*args, "--out", str(project / "gen_schema")]) == 0
    args = ["--from-records", "--records-file", str(records)]
    assert main([*args, "--out", str(project / "gen_records")]) == 0
    (project / "usage.py").write_text(textwrap.dedent(USAGE).lstrip(), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MYPYPATH": str(REPO)}

    run = subprocess.run(
        [sys.executable, "usage.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr

    targets = ["gen_schema", "gen_records", "usage.py"]
    if not (BIN / "mypy").exists() or not (BIN / "pyright").exists():
        pytest.skip("mypy and pyright are not installed next to this Python")
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--python-version", "3.10", "--cache-dir",
         str(tmp_path / "mypy-cache"), *targets],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    config = {
        "include": targets,
        "extraPaths": [str(REPO)],
        "pythonVersion": "3.10",
        "typeCheckingMode": "standard",
    }
    (project / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    pyright = subprocess.run(
        [str(BIN / "pyright"), "-p", str(project), "--pythonpath", sys.executable],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert pyright.returncode == 0, pyright.stdout + pyright.stderr


@pytest.fixture(autouse=True)
def _keep_bundled_registry() -> Iterator[None]:
    """Generated packages are only imported in subprocesses; the registry stays bundled."""
    yield
    from sequin_orm.models import salesforce

    assert sequin_orm.model_for("salesforce:contact") is salesforce.Contact
