"""Typed models, one module per provider: ``from sequin_orm.models import salesforce``.

The modules are generated from ``sequin_orm/codegen/schemas/<provider>.json``
(``python -m sequin_orm.codegen.regenerate``). They are imported on first use only: importing
``sequin_orm`` imports none of them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sequin_orm.models import github as github
    from sequin_orm.models import hubspot as hubspot
    from sequin_orm.models import linear as linear
    from sequin_orm.models import salesforce as salesforce
    from sequin_orm.models import shopify as shopify
    from sequin_orm.models import stripe as stripe

PROVIDERS = ("github", "hubspot", "linear", "salesforce", "shopify", "stripe")


def __getattr__(name: str) -> ModuleType:
    if name in PROVIDERS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
