"""System checks (``manage.py check``): settings only, never the network.

=================== =====================================================================
``sequin_orm.E001`` ``API_TOKEN`` is not a string
``sequin_orm.E002`` ``BASE_URL`` (or ``SEQUIN_BASE_URL``) invalid, e.g. plain http to a
                    non-loopback host without ``SEQUIN_ALLOW_INSECURE_HTTP=1``
``sequin_orm.E003`` ``SYNCS`` is not a dict of provider name to sync id (names what is wrong)
``sequin_orm.E004`` another value has the wrong type (``SEQUIN``, ``TIMEOUT``,
                    ``MAX_RETRIES``, ``BATCH_SIZE``, ``SESSION_PER_REQUEST``, ``DATABASE``,
                    ``EMULATOR``), or ``DATABASE`` is not in ``DATABASES``
``sequin_orm.E005`` ``MIRROR`` is not a dict of ``DATABASE``, ``CONSUMER_ID`` and
                    ``READ_YOUR_WRITES``
``sequin_orm.W001`` the emulator or a loopback base URL while ``DEBUG`` is False
``sequin_orm.W002`` unknown key in ``SEQUIN`` (a typo such as ``API_KEY``)
``sequin_orm.W003`` ``SESSION_PER_REQUEST`` is on but the middleware is not in ``MIDDLEWARE``
``sequin_orm.W004`` no API token (and no emulator): ``check``, ``migrate`` and ``test`` still
                    run; a request to Sequin raises ``ConfigurationError``
``sequin_orm.W005`` a sync id in ``SYNCS`` is empty (names the provider)
=================== =====================================================================
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from sequin_orm.contrib.django.conf import sequin_settings, validate

__all__ = ["MIDDLEWARE_PATH", "check_middleware", "check_settings"]

MIDDLEWARE_PATH = "sequin_orm.contrib.django.middleware.SequinSessionMiddleware"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate ``settings.SEQUIN``."""
    messages: list[checks.CheckMessage] = []
    for problem in validate(sequin_settings.user_settings, debug=bool(settings.DEBUG)):
        kind = checks.Error if problem.is_error else checks.Warning
        messages.append(kind(problem.message, hint=problem.hint, id=problem.id))
    alias = sequin_settings.DATABASE
    databases = getattr(settings, "DATABASES", None) or {}
    if isinstance(alias, str) and alias and databases and alias not in databases:
        messages.append(
            checks.Error(
                f"SEQUIN['DATABASE'] is {alias!r}, which is not in DATABASES.",
                hint="Name the database whose transactions your views use.",
                id="sequin_orm.E004",
            )
        )
    return messages


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The per-request session needs the middleware."""
    if sequin_settings.SESSION_PER_REQUEST is not True:
        return []
    if MIDDLEWARE_PATH in (getattr(settings, "MIDDLEWARE", None) or []):
        return []
    return [
        checks.Warning(
            "SEQUIN['SESSION_PER_REQUEST'] is on but SequinSessionMiddleware is not installed: "
            "obj.save() in a view sends a request at once instead of joining a session.",
            hint=f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE, or set "
            "SEQUIN['SESSION_PER_REQUEST'] = False.",
            id="sequin_orm.W003",
        )
    ]
