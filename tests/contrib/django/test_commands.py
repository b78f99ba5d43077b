"""Management commands: sequin_syncs, sequin_generate, sequin_emulator."""

from __future__ import annotations

import io
import json
import sys
import types

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from sequin_orm.contrib.django.management.commands._delegate import strip_django_options
from sequin_orm.emulator import Emulator


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sequin_syncs_lists_the_syncs(emu: Emulator) -> None:
    output = run("sequin_syncs")

    lines = output.splitlines()
    assert lines[0].split() == ["ID", "PROVIDER", "NAME", "STATUS", "COLLECTIONS"]
    for name in ("salesforce_sync", "stripe_sync", "hubspot_sync"):
        assert emu.seeded[name] in output
    assert len(lines) == 4


def test_sequin_syncs_filters_by_provider_and_prints_json(emu: Emulator) -> None:
    rows = json.loads(run("sequin_syncs", "--provider", "salesforce", "--json"))

    assert [(r["id"], r["provider"]) for r in rows] == [
        (emu.seeded["salesforce_sync"], "salesforce")
    ]
    assert "salesforce:contact" in rows[0]["collection_ids"]


def test_sequin_syncs_shows_one_sync(emu: Emulator) -> None:
    sync_id = emu.seeded["stripe_sync"]

    output = run("sequin_syncs", sync_id)

    assert f"id:             {sync_id}" in output
    assert "provider:       stripe" in output
    assert json.loads(run("sequin_syncs", sync_id, "--json"))["id"] == sync_id


def test_sequin_syncs_reports_api_errors_without_a_traceback(emu: Emulator) -> None:
    with pytest.raises(CommandError, match="404"):
        run("sequin_syncs", "no-such-sync")


@pytest.fixture
def fake_tools(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Replace the emulator and codegen command lines by recorders (exit 3 on 'fail')."""
    calls: list[tuple[str, list[str]]] = []
    for module in ("sequin_orm.emulator.cli", "sequin_orm.codegen.cli"):
        fake = types.ModuleType(module)

        def main(argv: list[str], module: str = module) -> int:
            calls.append((module, argv))
            return 3 if "fail" in argv else 0

        fake.main = main  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module, fake)
    return calls


def test_sequin_emulator_passes_its_arguments_through(
    fake_tools: list[tuple[str, list[str]]],
) -> None:
    ManagementUtility(
        ["manage.py", "sequin_emulator", "--port", "0", "--seed", "demo", "--traceback"]
    ).execute()

    assert fake_tools == [("sequin_orm.emulator.cli", ["--port", "0", "--seed", "demo"])]


def test_sequin_generate_passes_its_arguments_through(
    fake_tools: list[tuple[str, list[str]]],
) -> None:
    ManagementUtility(["manage.py", "sequin_generate", "--help"]).execute()
    call_command("sequin_generate", "--", "--schema", "s.json")

    assert fake_tools == [
        ("sequin_orm.codegen.cli", ["--help"]),
        ("sequin_orm.codegen.cli", ["--schema", "s.json"]),
    ]


def test_a_failing_tool_exits_with_its_status(fake_tools: list[tuple[str, list[str]]]) -> None:
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "sequin_generate", "fail"]).execute()
    assert exited.value.code == 3
    with pytest.raises(CommandError, match="status 3"):
        call_command("sequin_emulator", "fail")


def test_a_missing_tool_is_a_command_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sequin_orm.codegen.cli", None)

    with pytest.raises(CommandError, match="not available"):
        call_command("sequin_generate")


def test_django_options_are_not_passed_on() -> None:
    args = ["--settings", "x.y", "--port", "1", "--pythonpath=/p", "--no-color", "--seed", "demo"]

    assert strip_django_options(args) == ["--port", "1", "--seed", "demo"]
