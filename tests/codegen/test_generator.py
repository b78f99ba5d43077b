"""The generator: committed modules equal what their schemas generate, naming rules, types,
and output that ruff leaves alone."""

from __future__ import annotations

import datetime
import importlib.util
import itertools
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest

from sequin_orm import Model
from sequin_orm.codegen import (
    SchemaError,
    generate_init,
    generate_module,
    load_schema,
    parse_schema,
    schema_sha256,
)
from sequin_orm.codegen.cli import BUNDLED_HINT
from sequin_orm.codegen.generator import class_names
from sequin_orm.codegen.regenerate import main as regenerate
from sequin_orm.codegen.schema import FIELD_TYPES
from sequin_orm.fields import Field, specs_of

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "sequin_orm" / "codegen" / "schemas"
MODELS = REPO / "sequin_orm" / "models"
PROVIDERS = sorted(p.stem for p in SCHEMAS.glob("*.json"))
_counter = itertools.count()


def _field(accessor: str, type_: str = "string", **metadata: Any) -> dict[str, Any]:
    return {"accessor": accessor, "type": type_, "metadata": metadata}


def _schema(*collections: dict[str, Any], provider: str = "acme") -> dict[str, Any]:
    return {"provider": provider, "source": "test", "collections": list(collections)}


def _generate(data: dict[str, Any]) -> str:
    return generate_module(parse_schema(data), source_name="acme.json", source_sha256="0" * 64)


def _load(text: str, tmp_path: Path) -> ModuleType:
    """Import generated text as a fresh module (collection ids ``acme:*`` only)."""
    name = f"generated_acme_{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# A schema that exercises every naming and layout rule (also type-checked in test_cli).
TORTURE: dict[str, Any] = _schema(
    {
        "id": "acme:widget",
        "upstream_id": "widgets",
        "name": "Widget",
        "description": (
            'A widget with a "quoted" description \u2013 and a sentence long enough to be '
            "wrapped, because it goes on and on past the hundred-character limit of a line."
            "\n\nSecond paragraph with a back\\slash."
        ),
        "fields": [
            {**_field("id", "id", read_only=True), "primary_key": True},
            _field("class", description='Ends with a "quote"'),
            _field("_id"),
            _field("save", "boolean", required=True),
            _field("state", "string"),
            _field("properties.state"),
            _field("properties.id"),
            _field("properties.email", "email"),
            _field("foo-bar", "integer"),
            _field("2fa", "boolean"),
            _field("str"),
            _field("field"),
            _field("Widget", "reference", references="acme:widget"),
            _field("datetime", "datetime"),
            _field(
                "odd",
                "picklist",
                picklist=["Caf\u00e9", "it's", 'say "hi"', "back\\slash", "a\u2013b"],
                picklist_closed=True,
                description='"Starts with a quote.',
            ),
            _field("one", "picklist", picklist=["x" * 90], picklist_closed=True),
            _field(
                "a_really_long_attribute_name_that_goes_on_and_on_for_a_while_yes_it_does_xx",
                "reference",
                references="acme:very_long_collection_name_for_testing",
                read_only=True,
            ),
            _field(
                "properties.an_even_longer_attribute_name_that_goes_on_and_on_for_a_while_yes_zz",
                "picklist",
                picklist=["a", "b"],
                picklist_closed=False,
                required=True,
            ),
            _field("hologram", "hologram", max_length=5),
            _field("anything", "any", read_only=True),
            _field("tags", "multipicklist", picklist=["x"], picklist_closed=False),
            _field("at", "time"),
            _field("on", "date"),
            _field("owner", "reference"),
        ],
    },
    {
        "id": "acme:very_long_collection_name_for_testing",
        "name": "Very Long Collection Name For Testing",
        "fields": [
            {**_field("Id", "id", read_only=True), "primary_key": True},
            _field("WidgetId", "reference", references="acme:widget"),
        ],
    },
    {"id": "acme:gcSyR6LfxbXo7iART4m1vcLu", "name": "My Table", "fields": []},
    {"id": "acme:model", "name": "Model", "fields": [_field("Model")]},
    {"id": "acme:line_item", "upstream_id": "line_items", "name": "Line Item", "fields": []},
    {"id": "acme:lineitem", "name": "LineItem", "fields": []},
)


# --- the committed modules ------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_committed_module_is_what_its_schema_generates(provider: str) -> None:
    path = SCHEMAS / f"{provider}.json"
    expected = generate_module(
        load_schema(path, strict=True),
        source_name=path.name,
        source_sha256=schema_sha256(path.read_bytes()),
        regenerate_hint=BUNDLED_HINT,
    )
    committed = (MODELS / f"{provider}.py").read_text(encoding="utf-8")
    assert committed == expected, "run: python -m sequin_orm.codegen.regenerate"


def test_regenerate_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert regenerate(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_header_names_the_schema_and_its_hash() -> None:
    path = SCHEMAS / "salesforce.json"
    first = (MODELS / "salesforce.py").read_text(encoding="utf-8").splitlines()[0]
    digest = schema_sha256(path.read_bytes())[:16]
    assert first == (
        f"# Generated by sequin-orm codegen from salesforce.json (sha256 {digest}). Do not edit."
    )
    assert schema_sha256(b"a\r\nb\n") == schema_sha256(b"a\nb\n")


def test_generation_is_deterministic() -> None:
    assert _generate(TORTURE) == _generate(TORTURE)


# --- naming ---------------------------------------------------------------------------------


def test_class_names() -> None:
    salesforce = load_schema(SCHEMAS / "salesforce.json")
    assert class_names(salesforce)["salesforce:campaignmember"] == "CampaignMember"
    stripe = load_schema(SCHEMAS / "stripe.json")
    assert class_names(stripe)["stripe:payment_intent"] == "PaymentIntent"
    hubspot = load_schema(SCHEMAS / "hubspot.json")
    assert class_names(hubspot)["hubspot:line_item"] == "LineItem"
    names = class_names(parse_schema(TORTURE))
    assert names == {
        "acme:widget": "Widget",
        "acme:very_long_collection_name_for_testing": "VeryLongCollectionNameForTesting",
        "acme:gcSyR6LfxbXo7iART4m1vcLu": "MyTable",  # opaque id: the display name
        "acme:model": "Model_2",  # never shadows the base class
        "acme:line_item": "LineItem",
        "acme:lineitem": "LineItem2",
    }


def test_attribute_names_are_safe_and_keep_wire_names(tmp_path: Path) -> None:
    module = _load(_generate(TORTURE), tmp_path)
    wires = {f.name: f.wire_name for f in specs_of(module.Widget).fields}
    assert wires == {
        "id": "id",
        "class_": "class",  # keyword
        "id_": "_id",  # leading underscore
        "save_": "save",  # Model method
        "state_": "state",  # Model property
        "properties_state": "properties.state",  # same, and the top-level name is taken
        "properties_id": "properties.id",  # dotted name clashing with a top-level one
        "email": "properties.email",
        "foo_bar": "foo-bar",  # not an identifier
        "f_2fa": "2fa",
        "str_": "str",  # would shadow a type used in annotations
        "field_": "field",  # would shadow attrs.field in the class body
        "Widget_": "Widget",  # would shadow the class
        "datetime_": "datetime",
        "odd": "odd",
        "one": "one",
        "a_really_long_attribute_name_that_goes_on_and_on_for_a_while_yes_it_does_xx": (
            "a_really_long_attribute_name_that_goes_on_and_on_for_a_while_yes_it_does_xx"
        ),
        "an_even_longer_attribute_name_that_goes_on_and_on_for_a_while_yes_zz": (
            "properties.an_even_longer_attribute_name_that_goes_on_and_on_for_a_while_yes_zz"
        ),
        "hologram": "hologram",
        "anything": "anything",
        "tags": "tags",
        "at": "at",
        "on": "on",
        "owner": "owner",
    }
    widget = module.Widget(
        class_="c",
        id_="u",
        save_=True,
        properties_state="CA",
        foo_bar=1,
        an_even_longer_attribute_name_that_goes_on_and_on_for_a_while_yes_zz="a",
    )
    assert widget.create_data() == {
        "class": "c",
        "_id": "u",
        "save": True,
        "properties": {
            "state": "CA",
            "an_even_longer_attribute_name_that_goes_on_and_on_for_a_while_yes_zz": "a",
        },
        "foo-bar": 1,
    }
    loaded = module.Widget.from_record(
        {"upstream_id": "1", "data": {"id": "1", "properties": {"id": "p", "zz": 1}, "x": [1]}}
    )
    assert (loaded.id, loaded.properties_id) == ("1", "p")
    assert loaded.extra == {"properties": {"zz": 1}, "x": [1]}


# --- types ----------------------------------------------------------------------------------


def test_type_mapping(tmp_path: Path) -> None:
    picklist = ["a", "b"]
    fields = [_field(f"f_{t}", t) for t in sorted(FIELD_TYPES - {"picklist", "reference"})]
    fields += [
        _field("open_pick", "picklist", picklist=picklist, picklist_closed=False),
        _field("closed_pick", "picklist", picklist=picklist, picklist_closed=True),
        _field("empty_pick", "picklist"),
        _field("ref_same", "reference", references="acme:thing"),
        _field("ref_other", "reference", references="other:thing"),
        _field("ref_poly", "reference"),
        _field("future", "hologram"),
    ]
    text = _generate(_schema({"id": "acme:thing", "fields": fields}))
    # the constructor's parameters are declared for type checkers only (Record.__init__
    # runs): load the module as a type checker reads it
    module = _load(text.replace("if TYPE_CHECKING:", "if True:"), tmp_path)
    hints = typing.get_type_hints(module.Thing.__init__)
    expected: dict[str, Any] = {
        "f_string": str | None,
        "f_text": str | None,
        "f_email": str | None,
        "f_url": str | None,
        "f_phone": str | None,
        "f_id": str | None,
        "f_time": str | None,
        "f_boolean": bool | None,
        "f_integer": int | None,
        "f_number": float | None,
        "f_currency": float | None,
        "f_percent": float | None,
        "f_date": datetime.date | None,
        "f_datetime": datetime.datetime | None,
        "f_multipicklist": list[str] | None,
        "f_array": list[Any] | None,
        "f_object": dict[str, Any] | None,
        "f_any": Any,
        "open_pick": Literal["a", "b"] | str | None,
        "closed_pick": Literal["a", "b"] | None,
        "empty_pick": str | None,
        "ref_same": str | module.Thing | None,
        "ref_other": str | Model | None,
        "ref_poly": str | Model | None,
        "future": Any,
    }
    # Python 3.10's get_type_hints makes a parameter defaulting to None Optional (Any too)
    any_param = Any if sys.version_info >= (3, 11) else typing.Optional[Any]  # noqa: UP045
    params = {**expected, "f_any": any_param, "future": any_param}
    assert {k: hints[k] for k in expected} == params
    declared = typing.get_type_hints(module.Thing)  # the descriptors, typed the same
    assert {k: declared[k] for k in expected} == {k: Field[v] for k, v in expected.items()}
    assert 'open_pick: Field[Literal["a", "b"] | str | None] = Field(str)' in text
    assert '        open_pick: Literal["a", "b"] | str | None = None,\n' in text
    spec = specs_of(module.Thing).by_name
    assert spec["ref_other"].references == "other:thing" and spec["ref_other"].kind == "reference"
    assert spec["ref_poly"].kind == "reference"


def test_long_picklists_become_named_aliases() -> None:
    text = (MODELS / "salesforce.py").read_text(encoding="utf-8")
    assert "AccountIndustry: TypeAlias = Literal[\n" in text
    assert "    Industry: Field[AccountIndustry | str | None] = Field(str)\n" in text
    assert "        Industry: AccountIndustry | str | None = None,\n" in text
    from sequin_orm.models import salesforce

    assert "AccountIndustry" in salesforce.__all__
    assert "Agriculture" in typing.get_args(salesforce.AccountIndustry)


def test_docstrings_come_from_descriptions() -> None:
    text = (MODELS / "salesforce.py").read_text(encoding="utf-8")
    assert '    """Salesforce Contact (``salesforce:contact``).\n\n' in text
    assert "    LastName: Field[str | None] = Field(str, required=True)\n" in text
    assert "(max 80 characters)" in text
    tor = _generate(TORTURE)
    assert "description - and" in tor  # look-alike characters become ASCII in prose
    assert '"a\\u2013b"' in tor  # ... and are escaped in values, which stay exact
    assert "back\\\\slash" in tor


def test_schema_errors_say_where() -> None:
    bad = _schema({"id": "acme:x", "fields": [{"accessor": "a"}]})
    with pytest.raises(SchemaError, match=r"collections\[0\]\.fields\[0\]\.type"):
        parse_schema(bad)
    with pytest.raises(SchemaError, match="unknown type 'hologram'"):
        parse_schema(_schema({"id": "acme:x", "fields": [_field("a", "hologram")]}), strict=True)
    with pytest.raises(SchemaError, match="not a collection of 'acme'"):
        parse_schema(_schema({"id": "other:x", "fields": []}))
    with pytest.raises(SchemaError, match="duplicate accessor"):
        parse_schema(_schema({"id": "acme:x", "fields": [_field("a"), _field("a")]}))
    with pytest.raises(SchemaError, match="<provider>:<collection>"):
        parse_schema(_schema({"id": "nocolon", "fields": []}))


def test_bare_api_responses_are_accepted() -> None:
    item = {
        "id": "stripe:customer",
        "upstream_id": "customer",
        "name": "Customer",
        "links": [],
        "fields": [
            {
                "id": "stripe:customer:balance",
                "name": "Balance",
                "accessor": "balance",
                "type": "number",
                "primary_key": False,
                "metadata": {},
            }
        ],
    }
    for data in ({"data": [item]}, [item], item, {"data": item}):
        schema = parse_schema(data)
        assert schema.provider == "stripe"
        assert schema.collections[0].fields[0].type == "number"
    assert parse_schema(parse_schema({"data": [item]}).to_json()) == parse_schema([item])


# --- style ----------------------------------------------------------------------------------


def test_output_is_ruff_formatted_and_lint_clean(tmp_path: Path) -> None:
    (tmp_path / "acme.py").write_text(_generate(TORTURE), encoding="utf-8")
    (tmp_path / "__init__.py").write_text(generate_init(["acme", "salesforce"]), "utf-8")
    (tmp_path / "long_init.py").write_text(generate_init(f"m{i:030}" for i in range(5)), "utf-8")
    paths = [str(p) for p in sorted(tmp_path.glob("*.py"))]
    paths += [str(MODELS / f"{p}.py") for p in PROVIDERS]
    config = ["--config", str(REPO / "pyproject.toml")]
    ruff = [sys.executable, "-m", "ruff"]
    fmt = subprocess.run(
        [*ruff, "format", "--check", "--diff", *config, *paths], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    first_party = ["--config", 'lint.isort.known-first-party=["sequin_orm"]']
    lint = subprocess.run(
        [*ruff, "check", "--no-cache", *config, *first_party, *paths],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
