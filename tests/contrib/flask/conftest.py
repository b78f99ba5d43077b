"""Fixtures of the Flask integration tests; the example app (examples/flask_app) is importable."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sequin_orm.emulator import Emulator

EXAMPLE_DIR = Path(__file__).resolve().parents[3] / "examples" / "flask_app"

if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))


@pytest.fixture
def emu() -> Emulator:
    return Emulator(seed="demo")


@pytest.fixture
def served_url(emu: Emulator) -> Iterator[str]:
    with emu.serve() as url:
        yield url
