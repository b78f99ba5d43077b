from __future__ import annotations

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.contrib.django.testapp"
    label = "sequin_testapp"
    default_auto_field = "django.db.models.BigAutoField"
