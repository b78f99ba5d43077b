"""The ``SEQUIN`` settings dict, read lazily through one object, and the default client.

::

    # settings.py
    SEQUIN = {
        "API_TOKEN": env("SEQUIN_API_TOKEN"),
        "SYNCS": {"salesforce": "6f0c..."},
    }

``sequin_settings.API_TOKEN`` (etc.) reads ``settings.SEQUIN`` on first access and caches it;
the cache is dropped on Django's ``setting_changed`` signal, so ``override_settings(SEQUIN=...)``
works in tests. Nothing here reads settings or builds a client at import time.

The default client (``sequin_orm.get_client()``, used by models and sessions) is built from
these settings with ``sequin_orm.configure(...)`` the first time the integration needs it (a
request through the middleware, a management command, ``get_client()`` below), rebuilt after
``SEQUIN`` changes, and left alone when you configured one yourself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

import sequin_orm
from sequin_orm.client import Client, peek_default_client, reset_default_client
from sequin_orm.config import (
    BASE_URL_ENV,
    INSECURE_HTTP_ENV,
    TOKEN_ENV,
    is_loopback,
    normalize_base_url,
)
from sequin_orm.errors import ConfigurationError

if TYPE_CHECKING:
    from sequin_orm.emulator import Emulator
    from sequin_orm.mirror import Mirror

__all__ = [
    "DEFAULTS",
    "EMULATOR_BASE_URL",
    "Problem",
    "SequinSettings",
    "client_kwargs",
    "emulator",
    "ensure_configured",
    "get_client",
    "mirror",
    "mirror_url",
    "pin_client",
    "sequin_settings",
    "validate",
]

#: Every key of ``SEQUIN`` with its default.
DEFAULTS: Mapping[str, Any] = {
    "API_TOKEN": None,  # else env SEQUIN_API_TOKEN
    "BASE_URL": None,  # else env SEQUIN_BASE_URL, then https://api.sequin.io
    "SYNCS": {},  # {"salesforce": "<sync id>"}; also env SEQUIN_SYNC_<PROVIDER>
    "TIMEOUT": None,  # seconds; None = the client's defaults
    "MAX_RETRIES": 2,
    "BATCH_SIZE": None,  # int, or {"salesforce": 200, ...}
    "SESSION_PER_REQUEST": True,  # the middleware opens a Session per request
    "DATABASE": "default",  # alias whose transactions gate the request's Sequin writes
    "EMULATOR": False,  # True: an in-process emulator (demo seed), for examples and tests
    # {"DATABASE": "default" or a URL, "CONSUMER_ID": "...", "READ_YOUR_WRITES": False}
    "MIRROR": None,
}

#: The base URL of the in-process emulator (``EMULATOR: True``); never contacted.
EMULATOR_BASE_URL = "http://127.0.0.1"

_SETTING = "SEQUIN"


class SequinSettings:
    """Lazy, cached view of ``settings.SEQUIN``: ``sequin_settings.API_TOKEN`` etc.

    Missing keys read as their ``DEFAULTS``. ``generation`` grows at every reload.
    """

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.generation = 0

    @property
    def user_settings(self) -> Any:
        """``settings.SEQUIN`` as written (``{}`` when absent), not validated."""
        from django.conf import settings

        value = getattr(settings, _SETTING, None)
        return {} if value is None else value

    def _merged(self) -> dict[str, Any]:
        cache = self._cache
        if cache is None:
            user = self.user_settings
            cache = {**DEFAULTS, **(user if isinstance(user, Mapping) else {})}
            with self._lock:
                self._cache = cache
        return cache

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown SEQUIN setting {name!r}; known: {', '.join(DEFAULTS)}")
        return self._merged()[name]

    def reload(self) -> None:
        """Forget the cached values (they are read again at the next access)."""
        with self._lock:
            self._cache = None
            self.generation += 1


sequin_settings = SequinSettings()


# --- validation (shared by the system checks and the client factory) ---------------------------


@attrs.frozen
class Problem:
    """One thing wrong with ``SEQUIN``; ``id`` is the system check id (``sequin_orm.E001``)."""

    id: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return ".E" in self.id


def validate(
    user: Any, *, debug: bool = False, environ: Mapping[str, str] | None = None
) -> list[Problem]:
    """Everything wrong with a ``SEQUIN`` value (no network, no client built)."""
    env = os.environ if environ is None else environ
    if not isinstance(user, Mapping):
        return [Problem("sequin_orm.E004", "SEQUIN must be a dict.", _DICT_HINT)]
    problems: list[Problem] = []
    unknown = sorted(str(k) for k in user if k not in DEFAULTS)
    if unknown:
        problems.append(
            Problem(
                "sequin_orm.W002",
                f"Unknown SEQUIN key(s): {', '.join(unknown)}.",
                f"Known keys: {', '.join(DEFAULTS)}.",
            )
        )
    values = {**DEFAULTS, **user}
    emulated = values["EMULATOR"]
    if not isinstance(emulated, bool):
        problems.append(Problem("sequin_orm.E004", "SEQUIN['EMULATOR'] must be True or False."))
        emulated = False
    token = values["API_TOKEN"]
    if token is not None and not isinstance(token, str):
        problems.append(Problem("sequin_orm.E001", "SEQUIN['API_TOKEN'] must be a string."))
    elif not emulated and not token and not env.get(TOKEN_ENV):
        # a warning: check, migrate and test run without a token; a request raises
        problems.append(
            Problem(
                "sequin_orm.W004",
                "No Sequin API token: requests to Sequin will fail until one is set.",
                f"Set SEQUIN['API_TOKEN'] (or the {TOKEN_ENV} environment variable), or "
                "SEQUIN['EMULATOR'] = True to work against the in-process emulator.",
            )
        )
    problems += _base_url_problems(values["BASE_URL"], env, emulated=emulated, debug=debug)
    problems += _sync_problems(values["SYNCS"])
    problems += _number_problems(values)
    if not isinstance(values["SESSION_PER_REQUEST"], bool):
        problems.append(
            Problem("sequin_orm.E004", "SEQUIN['SESSION_PER_REQUEST'] must be True or False.")
        )
    if not isinstance(values["DATABASE"], str) or not values["DATABASE"]:
        problems.append(
            Problem("sequin_orm.E004", "SEQUIN['DATABASE'] must be a database alias (a string).")
        )
    problems += _mirror_problems(values["MIRROR"])
    return problems


_MIRROR_HINT = (
    "For example: SEQUIN['MIRROR'] = {'DATABASE': 'default', 'CONSUMER_ID': '8ff58ef0-...'} "
    "(DATABASE: a DATABASES alias or a URL such as postgresql+psycopg://...)"
)


def _mirror_problems(value: Any) -> list[Problem]:
    """E005 for a ``MIRROR`` of the wrong shape."""
    if value is None:
        return []
    wrong = not isinstance(value, Mapping) or not (
        isinstance(value.get("DATABASE", "default"), str)
        and isinstance(value.get("CONSUMER_ID"), str | None)
        and isinstance(value.get("READ_YOUR_WRITES", False), bool)
        and set(value) <= {"DATABASE", "CONSUMER_ID", "READ_YOUR_WRITES"}
    )
    if wrong:
        return [
            Problem("sequin_orm.E005", "SEQUIN['MIRROR'] is not a mirror setting.", _MIRROR_HINT)
        ]
    return []


_DICT_HINT = "For example: SEQUIN = {'API_TOKEN': '...', 'SYNCS': {'salesforce': '...'}}"
_SYNCS_HINT = "For example: {'salesforce': os.environ['SEQUIN_SYNC_SALESFORCE']}"


def _sync_problems(syncs: Any) -> list[Problem]:
    """E003 for a wrong shape; W005 naming each provider whose sync id is empty (an unset
    ``SEQUIN_SYNC_<PROVIDER>`` read with a default of ``""``): saving its models fails."""
    if not isinstance(syncs, Mapping):
        return [
            Problem(
                "sequin_orm.E003",
                f"SEQUIN['SYNCS'] must be a dict of provider name to sync id, "
                f"not {type(syncs).__name__}.",
                _SYNCS_HINT,
            )
        ]
    wrong = [
        k for k, v in syncs.items() if not isinstance(k, str) or not k or not isinstance(v, str)
    ]
    if wrong:
        return [
            Problem(
                "sequin_orm.E003",
                f"SEQUIN['SYNCS'] must map provider names to sync ids, both strings; "
                f"wrong: {', '.join(repr(k) for k in wrong)}.",
                _SYNCS_HINT,
            )
        ]
    return [
        Problem(
            "sequin_orm.W005",
            f"SEQUIN['SYNCS'][{provider!r}] is empty: saving {provider} models will fail.",
            f"Set it to the sync id (SEQUIN_SYNC_{provider.upper()} is unset or empty?); "
            "`sequin-orm syncs list` shows the ids.",
        )
        for provider, sync_id in syncs.items()
        if not sync_id.strip()
    ]


def _base_url_problems(
    base_url: Any, env: Mapping[str, str], *, emulated: bool, debug: bool
) -> list[Problem]:
    if emulated:
        if debug:
            return []
        return [
            Problem(
                "sequin_orm.W001",
                "SEQUIN['EMULATOR'] is True while DEBUG is False: writes go to an in-memory "
                "emulator, not to Sequin.",
                "Use the emulator for development and tests only.",
            )
        ]
    if base_url is not None and not isinstance(base_url, str):
        return [Problem("sequin_orm.E002", "SEQUIN['BASE_URL'] must be a string.")]
    url = base_url or env.get(BASE_URL_ENV)
    if not url:
        return []
    where = "SEQUIN['BASE_URL']" if base_url else f"the {BASE_URL_ENV} environment variable"
    insecure = env.get(INSECURE_HTTP_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    try:
        normalized = normalize_base_url(url, allow_insecure_http=insecure)
    except ConfigurationError as error:
        return [Problem("sequin_orm.E002", f"Invalid Sequin base URL in {where}: {error}")]
    if not debug and is_loopback(urlsplit(normalized).hostname or ""):
        return [
            Problem(
                "sequin_orm.W001",
                f"{where} points at a loopback address ({normalized}) while DEBUG is False.",
                "A loopback base URL is an emulator or a tunnel; production should use "
                "https://api.sequin.io.",
            )
        ]
    return []


def _number_problems(values: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    timeout = values["TIMEOUT"]
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        problems.append(
            Problem("sequin_orm.E004", "SEQUIN['TIMEOUT'] must be a positive number of seconds.")
        )
    retries = values["MAX_RETRIES"]
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        problems.append(
            Problem("sequin_orm.E004", "SEQUIN['MAX_RETRIES'] must be an integer >= 0.")
        )
    batch = values["BATCH_SIZE"]
    sizes = list(batch.values()) if isinstance(batch, Mapping) else [batch]
    if batch is not None and not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        problems.append(
            Problem(
                "sequin_orm.E004",
                "SEQUIN['BATCH_SIZE'] must be an integer >= 1 or a dict of provider to one.",
            )
        )
    return problems


# --- the default client --------------------------------------------------------------------------

_client_lock = threading.RLock()
_emulator: Emulator | None = None
#: Set by the test helpers: a SEQUIN change then leaves their client in place.
_pinned: Client | None = None


def emulator() -> Emulator:
    """The process's in-process emulator (``EMULATOR: True``), created at first use."""
    global _emulator
    with _client_lock:
        if _emulator is None:
            from sequin_orm.emulator import Emulator

            _emulator = Emulator(seed="demo")
        return _emulator


def client_kwargs() -> dict[str, Any]:
    """Keyword arguments of ``sequin_orm.configure()`` from ``SEQUIN``.

    Raises ``ConfigurationError`` (naming the key) when a value is invalid; the system checks
    report the same problems at start-up.
    """
    from django.conf import settings

    problems = [
        p for p in validate(sequin_settings.user_settings, debug=bool(settings.DEBUG)) if p.is_error
    ]
    if problems:
        raise ConfigurationError(f"{problems[0].message} ({problems[0].id})")
    s = sequin_settings
    kwargs: dict[str, Any] = {
        "api_token": s.API_TOKEN,
        "base_url": s.BASE_URL,
        "syncs": dict(s.SYNCS),
        "timeout": s.TIMEOUT,
        "max_retries": s.MAX_RETRIES,
        "batch_size": s.BATCH_SIZE,
    }
    if s.MIRROR is not None:
        kwargs["mirror"] = mirror()
    if s.EMULATOR:
        emu = emulator()
        demo_syncs = {
            name.removesuffix("_sync"): value
            for name, value in emu.seeded.items()
            if name.endswith("_sync")
        }
        kwargs.update(
            api_token=emu.token,
            base_url=EMULATOR_BASE_URL,
            syncs={**demo_syncs, **kwargs["syncs"]},
            transport=emu.transport(),
        )
    return kwargs


_mirrors: dict[tuple[str, str | None, bool], Mirror] = {}


def mirror_url(database: str) -> str:
    """The SQLAlchemy URL of ``SEQUIN['MIRROR']['DATABASE']``: a URL as it is, or the URL of
    that ``DATABASES`` alias (SQLite or PostgreSQL)."""
    if "://" in database:
        return database
    from django.conf import settings
    from sqlalchemy import URL

    found = settings.DATABASES.get(database)
    if found is None:
        raise ConfigurationError(f"SEQUIN['MIRROR']['DATABASE'] names no database: {database!r}")
    engine, name = str(found.get("ENGINE", "")), str(found.get("NAME", ""))
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    if engine.endswith("postgresql"):
        port = found.get("PORT")
        url = URL.create(
            "postgresql+psycopg",
            username=found.get("USER") or None,
            password=found.get("PASSWORD") or None,
            host=found.get("HOST") or None,
            port=int(port) if port else None,
            database=name,
        )
        return url.render_as_string(hide_password=False)
    raise ConfigurationError(
        f"The mirror runs on SQLite or PostgreSQL; DATABASES[{database!r}] uses {engine}"
    )


def mirror() -> Mirror:
    """The mirror ``SEQUIN['MIRROR']`` describes (one per setting; filled by the default
    client). ``ConfigurationError`` when it is not set."""
    from sequin_orm.mirror import Mirror

    value = sequin_settings.MIRROR
    problems = _mirror_problems(value)
    if value is None or problems:
        raise ConfigurationError(
            problems[0].message if problems else "SEQUIN['MIRROR'] is not set. " + _MIRROR_HINT
        )
    key = (
        mirror_url(value.get("DATABASE", "default")),
        value.get("CONSUMER_ID"),
        value.get("READ_YOUR_WRITES", False),
    )
    with _client_lock:
        found = _mirrors.get(key)
        if found is None:
            found = _mirrors[key] = Mirror(key[0], consumer_id=key[1], read_your_writes=key[2])
        return found


def ensure_configured() -> Client:
    """The default client, first built from ``SEQUIN`` if there is none yet."""
    current = peek_default_client()
    if current is not None:
        return current
    with _client_lock:
        current = peek_default_client()
        if current is None:
            current = sequin_orm.configure(**client_kwargs())
        return current


def get_client() -> Client:
    """The default client, configured from ``SEQUIN`` (use it outside requests too)."""
    return ensure_configured()


def pin_client(client: Client | None) -> None:
    """Keep ``client`` as the default even when ``SEQUIN`` changes (test helpers)."""
    global _pinned
    _pinned = client


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting != _SETTING:
        return
    sequin_settings.reload()
    if _pinned is None:
        with _client_lock:
            reset_default_client()


def _connect_signals() -> None:
    from django.test.signals import setting_changed

    setting_changed.connect(_on_setting_changed, dispatch_uid="sequin_orm.settings_changed")


_connect_signals()
