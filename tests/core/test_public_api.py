"""The public API is exactly ``sequin_orm.__all__``, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import sequin_orm


def test_all_lists_every_public_name() -> None:
    # dir(), not vars(): the management names load on first use (module __getattr__)
    public = {
        name
        for name in dir(sequin_orm)
        if not name.startswith("_")
        and (not isinstance(getattr(sequin_orm, name), types.ModuleType) or name == "errors")
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


def test_import_loads_no_management_module_or_cattrs_until_used() -> None:
    lazy = ("cattrs", "sequin_orm.wire", "sequin_orm.syncs", "sequin_orm.streams")
    lazy += ("sequin_orm.consumers", "sequin_orm.credentials")
    code = (
        "import sys; import sequin_orm; "
        f"print(sorted(m for m in {lazy!r} if m in sys.modules)); "
        "from sequin_orm import Sync, Credential; "
        "print(sequin_orm.Sync is Sync, sequin_orm.RateLimit.__module__, 'cattrs' in sys.modules); "
        "print(type(sequin_orm.Client(api_token='t').syncs).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "True sequin_orm.syncs True", "SyncManager"]


def test_lazy_names_are_listed_and_unknown_names_raise() -> None:
    assert set(sequin_orm.__all__) <= set(dir(sequin_orm))
    assert sequin_orm.Health.__module__ == "sequin_orm.credentials"
    assert sequin_orm.Stream.__module__ == "sequin_orm.streams"
    assert sequin_orm.HttpConsumer.__module__ == "sequin_orm.consumers"
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(sequin_orm, "NoSuchName")  # noqa: B009
