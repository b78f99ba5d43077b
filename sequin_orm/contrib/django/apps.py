"""The app config: registers the system checks, nothing else (no network, no client)."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["SequinConfig"]


class SequinConfig(AppConfig):
    """``"sequin_orm.contrib.django"`` in ``INSTALLED_APPS``."""

    name = "sequin_orm.contrib.django"
    label = "sequin_orm"
    verbose_name = "Sequin"
    default = True

    def ready(self) -> None:
        from django.core import checks

        from sequin_orm.contrib.django.checks import check_middleware, check_settings

        checks.register(check_settings, "sequin")
        checks.register(check_middleware, "sequin")
