"""``sequin-orm``: ``--version``, ``python -m sequin_orm``, errors on stderr, defaults in help,
and ``syncs list|get|create`` against the emulator over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import sequin_orm
from sequin_orm.cli import main
from sequin_orm.emulator import Emulator
from sequin_orm.emulator.seed import DEMO_IDS

TOKEN = "cli-token"
SECRET = "sk_live_cli_secret_0123456789"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The demo emulator served on loopback; the environment points the CLI at it."""
    emu = Emulator(TOKEN, seed="demo")
    with emu.serve() as url:
        monkeypatch.setenv("SEQUIN_BASE_URL", url)
        monkeypatch.setenv("SEQUIN_API_TOKEN", TOKEN)
        yield emu


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)``: the exit status, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"sequin-orm {sequin_orm.__version__}\n", "")


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sequin_orm", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, f"sequin-orm {sequin_orm.__version__}\n")


def test_unknown_command_is_an_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bogus")
    assert (code, out) == (2, "") and "invalid choice: 'bogus'" in err


@pytest.mark.parametrize("argv", [[], ["syncs"], ["syncs", "list", "--bogus"]])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "") and err.startswith("usage: sequin-orm")


def test_help_lists_commands_and_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(name in out for name in ("emulator", "generate", "syncs"))
    code, out, _ = run(capsys, "emulator", "--help")
    assert code == 0 and "(default: 7376)" in out and out.startswith("usage: sequin-orm emulator")


def test_generate_gets_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "generate", "--help")
    assert code == 0 and "--schema" in out


def test_syncs_list(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "syncs", "list")
    assert code == 0 and out.startswith("ID") and DEMO_IDS["salesforce_sync"] in out
    code, out, _ = run(capsys, "syncs", "list", "--provider", "stripe", "--json")
    assert code == 0 and [s["id"] for s in json.loads(out)] == [DEMO_IDS["stripe_sync"]]


def test_syncs_get(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "syncs", "get", DEMO_IDS["salesforce_sync"])
    assert code == 0 and "provider:       salesforce" in out
    code, out, _ = run(capsys, "syncs", "get", DEMO_IDS["hubspot_sync"], "--json")
    assert code == 0 and json.loads(out)["name"] == "Demo HubSpot"


def test_syncs_create_reads_the_credential_from_a_file(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    credential = tmp_path / "credential.json"
    properties = {"kind": "stripe_oauth2", "secret": SECRET, "test": True}
    credential.write_text(json.dumps({"properties": properties}), encoding="utf-8")
    code, out, _ = run(
        capsys, "syncs", "create", "--json", "--provider", "stripe",
        "--stream-id", DEMO_IDS["stream"], "--name", "From the CLI",
        "--collection-id", "stripe:customer", "--collection-id", "stripe:invoice",
        "--credential", f"@{credential}", "--max-age-days", "30", "--metadata", '{"team": "ops"}',
    )  # fmt: skip
    created = json.loads(out)
    assert code == 0 and SECRET not in out
    assert created["collection_ids"] == ["stripe:customer", "stripe:invoice"]
    assert (created["max_age_days"], created["metadata"]) == (30, {"team": "ops"})
    shown = run(capsys, "syncs", "get", created["id"])[1]
    assert shown.startswith("id:") and created["id"] in shown.splitlines()[0]


def test_syncs_create_checks_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "syncs", "create", "--provider", "stripe", "--stream-id", "s", "--name", "n",
        "--collection-id", "stripe:customer", "--credential", "[1]",
    )  # fmt: skip
    assert code == 2 and "not a JSON object" in err


def test_api_and_configuration_errors_are_one_line_on_stderr(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(capsys, "syncs", "get", "no-such-sync")
    assert (code, out) == (1, "") and err.startswith("sequin-orm syncs get: error: ")
    monkeypatch.delenv("SEQUIN_API_TOKEN")
    code, out, err = run(capsys, "syncs", "list")
    assert (code, out) == (1, "") and "SEQUIN_API_TOKEN" in err
