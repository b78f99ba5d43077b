"""The wheel built from this checkout, installed into a fresh venv with only its runtime
dependencies (no dev tools): metadata, ``py.typed``, the console script, the emulator, the
generator and one session commit against the emulator.

Runs under the Python that runs pytest, so ``make test`` checks it on every Python it finds.
About 20 s: pip builds the wheel (hatchling from the index or pip's cache) and installs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

import httpx
import pytest

import sequin_orm

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[2]
TOKEN = "wheel-token"
COMMIT = """
import sequin_orm
from sequin_orm.models import salesforce

with sequin_orm.Session():
    contact = salesforce.Contact(FirstName="Ada", LastName="Lovelace")
    contact.save()
print(sequin_orm.__file__)
print(contact.upstream_id)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel`` of the checkout."""
    out = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    check([*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(REPO)])
    (built,) = out.glob("sequin_orm-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its runtime dependencies; its ``bin`` directory."""
    root = tmp_path_factory.mktemp("venv")
    check([sys.executable, "-m", "venv", str(root)])
    bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "--disable-pip-version-check"]
    check([*pip, "install", "--quiet", str(wheel)])
    return bin_dir


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout or a Sequin configuration leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("SEQUIN_")
    }
    return {**env, **extra}


def check(argv: list[str], env: dict[str, str] | None = None) -> str:
    """Run ``argv`` outside the checkout; its stdout, or fail with its output."""
    done = subprocess.run(
        argv, capture_output=True, text=True, env=env or clean_env(), cwd=Path.home(),
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{argv}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_metadata_and_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"sequin_orm-{sequin_orm.__version__}.dist-info"
        metadata = HeaderParser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    assert {"sequin_orm/py.typed", f"{dist_info}/licenses/LICENSE"} <= names
    assert "sequin_orm/codegen/schemas/salesforce.json" in names
    assert not any(name.startswith("tests/") for name in names)
    assert metadata["Version"] == sequin_orm.__version__
    assert metadata["License-Expression"] == "MIT"
    assert set(metadata.get_all("Provides-Extra") or []) == {
        "django",
        "flask",
        "mirror",
        "progress",
    }
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    versions = [f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)]
    assert set(versions) <= set(classifiers)


def test_fresh_venv_has_no_dev_tools(venv: Path) -> None:
    installed = check([str(venv / "python"), "-m", "pip", "list", "--format=freeze"]).lower()
    assert "sequin-orm==" in installed
    assert not any(f"\n{tool}==" in f"\n{installed}" for tool in ("pytest", "mypy", "ruff"))


def test_console_script(venv: Path) -> None:
    assert "emulator" in check([str(venv / "sequin-orm"), "--help"])
    version = f"sequin-orm {sequin_orm.__version__}\n"
    assert check([str(venv / "sequin-orm"), "--version"]) == version
    assert check([str(venv / "python"), "-m", "sequin_orm", "--version"]) == version


def test_generate_from_a_bundled_schema(venv: Path, tmp_path: Path) -> None:
    python = str(venv / "python")
    code = "from sequin_orm.codegen.cli import BUNDLED_SCHEMAS_DIR as d; print(d)"
    schemas = Path(check([python, "-c", code]).strip())
    assert schemas.is_relative_to(venv.parent)  # the installed copy, not the checkout
    out = tmp_path / "models"
    schema = str(schemas / "stripe.json")
    check([str(venv / "sequin-orm"), "generate", "--schema", schema, "--out", str(out)])
    assert "class Customer(" in (out / "stripe.py").read_text(encoding="utf-8")
    assert (out / "py.typed").exists()


@pytest.fixture
def emulator(venv: Path) -> Iterator[dict[str, str]]:
    """``sequin-orm emulator --port 0 --seed demo`` as a subprocess; its banner's settings."""
    argv = [str(venv / "sequin-orm"), "emulator", "--port", "0", "--token", TOKEN]
    process = subprocess.Popen(
        [*argv, "--seed", "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_env(PYTHONUNBUFFERED="1"), cwd=Path.home(),
    )  # fmt: skip
    timer = threading.Timer(60, process.kill)  # a banner that never comes fails, not hangs
    timer.start()
    try:
        yield read_banner(process)
    finally:
        timer.cancel()
        process.terminate()
        process.wait(timeout=10)


def read_banner(process: subprocess.Popen[str]) -> dict[str, str]:
    """The ``NAME=value`` lines the emulator prints up to ``Press Ctrl-C``."""
    assert process.stdout is not None
    settings: dict[str, str] = {}
    for line in process.stdout:
        name, sep, value = line.strip().partition("=")
        if sep and name.startswith("SEQUIN_"):
            settings[name] = value
        if line.startswith("Press Ctrl-C"):
            return settings
    raise AssertionError(f"no banner; stderr: {process.stderr.read() if process.stderr else ''}")


def test_emulator_and_a_session_commit(emulator: dict[str, str], venv: Path) -> None:
    url, token = emulator["SEQUIN_BASE_URL"], emulator["SEQUIN_API_TOKEN"]
    answer = httpx.get(f"{url}/v1/syncs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["data"]
    printed = check([str(venv / "python"), "-c", COMMIT], env=clean_env(**emulator))
    module, upstream_id = printed.split()
    assert Path(module).is_relative_to(venv.parent) and upstream_id
    query = {"sync_id": emulator["SEQUIN_SYNC_SALESFORCE"], "collection_id": "salesforce:contact"}
    records = httpx.get(
        f"{url}/v1/records", params=query, headers={"Authorization": f"Bearer {token}"}
    )
    assert records.status_code == 200, records.text
    assert upstream_id in records.text
