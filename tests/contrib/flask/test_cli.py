"""`flask sequin ...` commands."""

from __future__ import annotations

import json
import sys
import types

import pytest
from flask import Flask

from sequin_orm.contrib.flask import Sequin
from sequin_orm.emulator import Emulator
from tests.contrib.flask.apps import emulator_config, make_app


@pytest.fixture
def app(emu: Emulator) -> Flask:
    return make_app(Sequin(), emulator_config(emu))


def test_syncs_lists_the_syncs(app: Flask, emu: Emulator) -> None:
    result = app.test_cli_runner().invoke(args=["sequin", "syncs"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "NAME", "STATUS", "COLLECTIONS"]
    assert {line.split()[0] for line in lines[1:]} == {
        emu.seeded["salesforce_sync"],
        emu.seeded["stripe_sync"],
        emu.seeded["hubspot_sync"],
    }


def test_syncs_by_provider_as_json_and_one_sync(app: Flask, emu: Emulator) -> None:
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["sequin", "syncs", "--provider", "hubspot", "--json"])
    shown = runner.invoke(args=["sequin", "syncs", emu.seeded["stripe_sync"]])

    assert [r["provider"] for r in json.loads(listed.output)] == ["hubspot"]
    assert f"id:             {emu.seeded['stripe_sync']}" in shown.output


def test_syncs_reports_api_errors_cleanly(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["sequin", "syncs", "missing"])

    assert result.exit_code == 1
    assert "Error: 404" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def fake_tools(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []
    for module in ("sequin_orm.emulator.cli", "sequin_orm.codegen.cli"):
        fake = types.ModuleType(module)

        def main(argv: list[str], module: str = module) -> int:
            calls.append((module, argv))
            return 2 if "fail" in argv else 0

        fake.main = main  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module, fake)
    return calls


def test_emulator_and_generate_pass_their_arguments_through(
    app: Flask, fake_tools: list[tuple[str, list[str]]]
) -> None:
    runner = app.test_cli_runner()

    emulator = runner.invoke(args=["sequin", "emulator", "--port", "0", "--seed", "demo"])
    generate = runner.invoke(args=["sequin", "generate", "--help"])
    failing = runner.invoke(args=["sequin", "generate", "fail"])

    assert (emulator.exit_code, generate.exit_code, failing.exit_code) == (0, 0, 2)
    assert fake_tools == [
        ("sequin_orm.emulator.cli", ["--port", "0", "--seed", "demo"]),
        ("sequin_orm.codegen.cli", ["--help"]),
        ("sequin_orm.codegen.cli", ["fail"]),
    ]


def test_a_missing_tool_is_a_clean_error(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sequin_orm.codegen.cli", None)

    result = app.test_cli_runner().invoke(args=["sequin", "generate"])

    assert result.exit_code == 1
    assert "not available" in result.output
