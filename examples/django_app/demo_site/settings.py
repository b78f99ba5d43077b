"""Settings of the demo site: one app (contacts) writing to Salesforce through Sequin.

With ``SEQUIN_API_TOKEN`` (and ``SEQUIN_SYNC_SALESFORCE``) in the environment it talks to the
real Sequin API; without, to an in-process emulator seeded with demo syncs.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "sequin_orm.contrib.django",
    "contacts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # One Sequin session per request, committed after a successful response.
    "sequin_orm.contrib.django.middleware.SequinSessionMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# The demo keeps no data of its own: every contact lives in Salesforce (through Sequin).
DATABASES: dict[str, dict[str, str]] = {}

USE_TZ = True
STATIC_URL = "static/"

SEQUIN = {
    "API_TOKEN": os.environ.get("SEQUIN_API_TOKEN"),
    "BASE_URL": os.environ.get("SEQUIN_BASE_URL"),
    # No token in the environment: use an in-process emulator with the demo syncs.
    "EMULATOR": not os.environ.get("SEQUIN_API_TOKEN"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"sequin_orm": {"handlers": ["console"], "level": "INFO"}},
}
