"""Django settings for tests/contrib/django, configured when this folder is collected.

``settings.configure()`` (not DJANGO_SETTINGS_MODULE) keeps the rest of the suite, which runs
in the same pytest process, free of Django; pytest-django's fixtures (``db``,
``transactional_db``, ``django_capture_on_commit_callbacks``) work on these settings.
The example site (examples/django_app) is importable: its app ``contacts`` is installed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings

from sequin_orm.emulator import Emulator

EXAMPLE_DIR = Path(__file__).resolve().parents[3] / "examples" / "django_app"
MIDDLEWARE_PATH = "sequin_orm.contrib.django.middleware.SequinSessionMiddleware"
SETTINGS_SEQUIN = {"API_TOKEN": "settings-token", "SYNCS": {"salesforce": "sync-from-settings"}}

if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="tests-only",
        ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "sequin_orm.contrib.django",
            "contacts",
            "tests.contrib.django.testapp",
        ],
        MIDDLEWARE=[MIDDLEWARE_PATH],
        ROOT_URLCONF="tests.contrib.django.urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        SEQUIN=SETTINGS_SEQUIN,
    )
    django.setup()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fresh demo emulator, the default client pointed at it (in-process)."""
    from sequin_orm.contrib.django.testing import sequin_emulator

    with sequin_emulator() as emulator:
        yield emulator


@pytest.fixture
def served_emu() -> Iterator[Emulator]:
    """A fresh demo emulator served on loopback HTTP, the default client pointed at it."""
    from sequin_orm.contrib.django.testing import sequin_emulator

    with sequin_emulator(serve=True) as emulator:
        yield emulator
