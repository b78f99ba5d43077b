"""The public API is exactly ``sequin_orm.__all__``, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import sequin_orm


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, value in vars(sequin_orm).items()
        if not name.startswith("_")
        and (not isinstance(value, types.ModuleType) or name == "errors")
    }
    assert set(sequin_orm.__all__) == public


def test_design_names_exist() -> None:
    for name in ("Client", "configure", "get_client", "Session", "Sync", "Consumer", "model_for"):
        assert name in sequin_orm.__all__
    for name in ("RateLimit", "Health", "Credential", "CommitResult", "SaveResult"):
        assert name in sequin_orm.__all__


def test_import_touches_no_model_module_network_or_environment() -> None:
    code = (
        "import os, sys; os.environ.clear(); import sequin_orm; "
        "print(sorted(m for m in sys.modules if m.startswith('sequin_orm.models.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
