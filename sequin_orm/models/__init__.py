"""Typed models, one module per provider: ``from sequin_orm.models import salesforce``.

Modules are imported on first use only: importing ``sequin_orm`` imports none of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROVIDERS = ("github", "hubspot", "linear", "salesforce", "shopify", "stripe")


def __getattr__(name: str) -> ModuleType:
    if name in PROVIDERS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
