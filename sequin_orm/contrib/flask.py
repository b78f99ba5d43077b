"""Flask integration: the ``Sequin`` extension.

::

    from flask import Flask
    from sequin_orm.contrib.flask import Sequin
    from sequin_orm.models import salesforce

    sequin = Sequin()

    def create_app():
        app = Flask(__name__)
        app.config["SEQUIN_API_TOKEN"] = os.environ["SEQUIN_API_TOKEN"]
        app.config["SEQUIN_SYNCS"] = {"salesforce": "6f0c..."}
        sequin.init_app(app)      # a bad value raises ConfigurationError here; no token or
                                  # an empty sync id only warns (SequinConfigWarning)
        return app

    @app.post("/contacts")
    def create_contact():
        salesforce.Contact(LastName=request.form["last_name"]).save()  # enqueued
        sequin.commit()                                                # sent
        return redirect(...)

Configuration keys (``app.config``): ``SEQUIN_API_TOKEN`` (else env ``SEQUIN_API_TOKEN``),
``SEQUIN_BASE_URL``, ``SEQUIN_SYNCS``, ``SEQUIN_TIMEOUT``, ``SEQUIN_MAX_RETRIES``,
``SEQUIN_BATCH_SIZE``, ``SEQUIN_COMMIT_ON_TEARDOWN`` (default False), ``SEQUIN_TRANSPORT``
(an ``httpx.BaseTransport``, e.g. ``Emulator().transport()`` in tests), and for a mirror
(``Model.objects.filter()``): ``SEQUIN_MIRROR_URL``, ``SEQUIN_MIRROR_CONSUMER_ID`` and
``SEQUIN_MIRROR_READ_YOUR_WRITES``.

Each app gets its own client (``app.extensions["sequin"].client``). Each application context
gets its own session, current for that context (a ``ContextVar``: concurrent requests never
share one), so ``obj.save()`` and ``obj.delete()`` only enqueue; ``sequin.commit()`` sends.
At teardown, pending changes are rolled back (a warning is logged) unless
``SEQUIN_COMMIT_ON_TEARDOWN`` is on, the context ended without an exception and the response,
if any, was not an error (status < 400).

``flask sequin syncs``, ``flask sequin emulator ...``, ``flask sequin generate ...`` and
``flask sequin mirror`` are added to the app's command line.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import httpx

try:
    import click
    from flask import Flask, Response, current_app, g
    from flask.cli import AppGroup
    from flask.signals import appcontext_pushed
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f'sequin_orm.contrib.flask needs Flask ({missing}): pip install "sequin-orm[flask]"'
    ) from missing

from sequin_orm.client import Client
from sequin_orm.config import TOKEN_ENV
from sequin_orm.contrib import BoundSession, describe_sync, render_sync, render_syncs, run_tool
from sequin_orm.errors import ConfigurationError, SequinError
from sequin_orm.results import CommitResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.mirror import Mirror
    from sequin_orm.plan import AwaitKwargs

__all__ = [
    "CONFIG_DEFAULTS",
    "Sequin",
    "SequinConfigWarning",
    "SequinState",
    "client_from_config",
    "mirror_from_config",
    "sequin_cli",
]

logger = logging.getLogger("sequin_orm.contrib.flask")

EXTENSION_KEY = "sequin"
_SESSION_ATTR = "_sequin_session"
_STATUS_ATTR = "_sequin_response_status"


class SequinConfigWarning(UserWarning):
    """A setting that will make requests fail (no token, an empty sync id), reported at
    ``init_app`` without stopping the app (``flask sequin emulator``, tests, migrations)."""


#: The configuration keys and their defaults (``init_app`` sets missing ones).
CONFIG_DEFAULTS: Mapping[str, Any] = {
    "SEQUIN_API_TOKEN": None,
    "SEQUIN_BASE_URL": None,
    "SEQUIN_SYNCS": None,
    "SEQUIN_TIMEOUT": None,
    "SEQUIN_MAX_RETRIES": 2,
    "SEQUIN_BATCH_SIZE": None,
    "SEQUIN_COMMIT_ON_TEARDOWN": False,
    "SEQUIN_TRANSPORT": None,
    "SEQUIN_MIRROR_URL": None,
    "SEQUIN_MIRROR_CONSUMER_ID": None,
    "SEQUIN_MIRROR_READ_YOUR_WRITES": False,
}


@attrs.define
class SequinState:
    """What ``init_app`` keeps in ``app.extensions["sequin"]``."""

    extension: Sequin
    client: Client
    commit_on_teardown: bool = False
    mirror: Mirror | None = None


def mirror_from_config(config: Mapping[str, Any]) -> Mirror | None:
    """The ``Mirror`` of ``SEQUIN_MIRROR_URL`` (None when unset); ``ConfigurationError``."""
    url = config.get("SEQUIN_MIRROR_URL")
    if url is None:
        return None
    consumer_id = config.get("SEQUIN_MIRROR_CONSUMER_ID")
    read_your_writes = config.get("SEQUIN_MIRROR_READ_YOUR_WRITES", False)
    if not isinstance(url, str) or not isinstance(consumer_id, str | None):
        raise ConfigurationError(
            "app.config['SEQUIN_MIRROR_URL'] must be a database URL and "
            "['SEQUIN_MIRROR_CONSUMER_ID'] an HTTP consumer id (strings)."
        )
    if not isinstance(read_your_writes, bool):
        raise ConfigurationError("app.config['SEQUIN_MIRROR_READ_YOUR_WRITES'] must be a bool.")
    from sequin_orm.mirror import Mirror  # an optional dependency (SQLAlchemy)

    return Mirror(url, consumer_id=consumer_id, read_your_writes=read_your_writes)


def client_from_config(config: Mapping[str, Any], *, mirror: Mirror | None = None) -> Client:
    """A ``Client`` from ``SEQUIN_*`` keys; ``ConfigurationError`` naming the bad key."""
    token = config.get("SEQUIN_API_TOKEN") or os.environ.get(TOKEN_ENV) or None
    if token is not None and not isinstance(token, str):
        raise ConfigurationError("app.config['SEQUIN_API_TOKEN'] must be a string.")
    if token is None:  # `flask sequin emulator` and tests run without one; a request raises
        warnings.warn(
            f"No Sequin API token: requests to Sequin will fail until you set "
            f"app.config['SEQUIN_API_TOKEN'] (or the {TOKEN_ENV} environment variable).",
            SequinConfigWarning,
            stacklevel=3,
        )
    syncs = config.get("SEQUIN_SYNCS") or {}
    if not isinstance(syncs, Mapping):
        raise ConfigurationError(
            "app.config['SEQUIN_SYNCS'] must be a dict of provider name to sync id, "
            f"e.g. {{'salesforce': '6f0c...'}}, not {type(syncs).__name__}."
        )
    wrong = [
        k for k, v in syncs.items() if not isinstance(k, str) or not k or not isinstance(v, str)
    ]
    if wrong:
        raise ConfigurationError(
            "app.config['SEQUIN_SYNCS'] must map provider names to sync ids, both strings; "
            f"wrong: {', '.join(repr(k) for k in wrong)}."
        )
    for provider in [k for k, v in syncs.items() if not v.strip()]:
        warnings.warn(
            f"app.config['SEQUIN_SYNCS'][{provider!r}] is empty: saving {provider} models will "
            f"fail. Set it to the sync id (is SEQUIN_SYNC_{provider.upper()} unset or empty?).",
            SequinConfigWarning,
            stacklevel=3,
        )
    timeout = config.get("SEQUIN_TIMEOUT")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigurationError(
            "app.config['SEQUIN_TIMEOUT'] must be a positive number of seconds."
        )
    retries = config.get("SEQUIN_MAX_RETRIES", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError("app.config['SEQUIN_MAX_RETRIES'] must be an integer >= 0.")
    transport = config.get("SEQUIN_TRANSPORT")
    if transport is not None and not isinstance(transport, httpx.BaseTransport):
        raise ConfigurationError(
            "app.config['SEQUIN_TRANSPORT'] must be an httpx.BaseTransport (or None)."
        )
    base_url = config.get("SEQUIN_BASE_URL")
    if base_url is not None and not isinstance(base_url, str):
        raise ConfigurationError("app.config['SEQUIN_BASE_URL'] must be a string.")
    try:
        return Client(
            token,
            base_url,
            syncs=dict(syncs),
            timeout=timeout,
            max_retries=retries,
            transport=transport,
            batch_size=config.get("SEQUIN_BATCH_SIZE"),
            mirror=mirror,
        )
    except ConfigurationError as error:
        raise ConfigurationError(
            f"Bad Sequin configuration (app.config['SEQUIN_BASE_URL'] / "
            f"['SEQUIN_BATCH_SIZE'] or the environment): {error}"
        ) from error


class Sequin:
    """The Flask extension. ``Sequin(app)`` or ``Sequin()`` then ``init_app(app)``.

    Holds no app: ``session``, ``client``, ``commit()`` work on ``current_app``.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Validate the configuration, build the app's client and register the hooks.

        Raises ``ConfigurationError`` for a missing token or an invalid value, so a
        misconfigured app fails at start-up rather than at its first request.
        """
        for key, value in CONFIG_DEFAULTS.items():
            app.config.setdefault(key, value)
        commit_on_teardown = app.config["SEQUIN_COMMIT_ON_TEARDOWN"]
        if not isinstance(commit_on_teardown, bool):
            raise ConfigurationError(
                "app.config['SEQUIN_COMMIT_ON_TEARDOWN'] must be True or False."
            )
        mirror = mirror_from_config(app.config)
        client = client_from_config(app.config, mirror=mirror)
        if mirror is not None:
            mirror.client = client  # the app's client fills it
        state = SequinState(self, client, commit_on_teardown, mirror)
        app.extensions[EXTENSION_KEY] = state
        appcontext_pushed.connect(_bind_session, app, weak=False)
        app.after_request(_remember_status)
        app.teardown_appcontext(_end_session)
        app.cli.add_command(sequin_cli)

    @property
    def state(self) -> SequinState:
        """The current app's ``SequinState``."""
        return _state(current_app)

    @property
    def client(self) -> Client:
        """The current app's client."""
        return self.state.client

    @property
    def session(self) -> BoundSession:
        """The session of the current application context (created on first need)."""
        session = g.get(_SESSION_ATTR)
        if isinstance(session, BoundSession):
            return session
        return _open_session(current_app)

    def commit(self, **awaiting: Unpack[AwaitKwargs]) -> CommitResult:
        """Send the pending changes of this context's session (hits the network).

        Raises ``CommitError`` (with the per-object result) when a request failed.
        """
        return self.session.commit(**awaiting)

    def rollback(self) -> None:
        """Forget the pending changes of this context's session (no request)."""
        self.session.rollback()


def _state(app: Flask) -> SequinState:
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, SequinState):
        raise RuntimeError(
            "The Sequin extension is not registered on this app: call Sequin(app) or "
            "sequin.init_app(app) first."
        )
    return state


def _open_session(app: Flask) -> BoundSession:
    session = BoundSession(_state(app).client)
    session.bind()
    setattr(g, _SESSION_ATTR, session)
    return session


def _bind_session(sender: Flask, **extra: Any) -> None:
    """``appcontext_pushed``: make a fresh session current for the new context."""
    if g.get(_SESSION_ATTR) is None and isinstance(
        sender.extensions.get(EXTENSION_KEY), SequinState
    ):
        _open_session(sender)


def _remember_status(response: Response) -> Response:
    setattr(g, _STATUS_ATTR, response.status_code)
    return response


def _end_session(exc: BaseException | None) -> None:
    """``teardown_appcontext``: commit (opt-in, clean contexts only) or roll back; unbind."""
    session: BoundSession | None = g.pop(_SESSION_ATTR, None)
    if session is None:
        return
    try:
        if not session.has_pending:
            return
        status = g.get(_STATUS_ATTR)
        clean = exc is None and (status is None or status < 400)
        if clean and _state(current_app).commit_on_teardown:
            _commit_at_teardown(session)
            return
        session.rollback()
        if clean:
            logger.warning(
                "Sequin: pending changes discarded at the end of the app context; call "
                "sequin.commit() (or set SEQUIN_COMMIT_ON_TEARDOWN = True)."
            )
    finally:
        try:
            session.unbind()
        except ValueError:  # the context was pushed in another contextvars.Context
            logger.debug("Sequin: session bound in another context; not unbound", exc_info=True)


def _commit_at_teardown(session: BoundSession) -> None:
    # The response is already built: a failure can only be logged.
    try:
        result = session.commit()
    except SequinError as error:
        logger.error("Sequin commit at teardown failed: %s", error, exc_info=error)
        return
    logger.debug("Sequin commit at teardown: %s", result.summary())


# --- flask sequin ... ---------------------------------------------------------------------------

sequin_cli = AppGroup("sequin", help="Sequin: list syncs, run the emulator, generate models.")

_PASS_THROUGH: dict[str, Any] = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "help_option_names": [],
}


@sequin_cli.command("syncs")
@click.argument("sync_id", required=False)
@click.option("--provider", help="only syncs of this provider (e.g. salesforce)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def syncs_command(sync_id: str | None, provider: str | None, as_json: bool) -> None:
    """List the syncs of the configured account, or show one."""
    import json

    manager = _state(current_app).client.syncs
    try:
        if sync_id:
            sync = manager.get(sync_id)
            text = (
                json.dumps(describe_sync(sync), indent=2, default=str)
                if as_json
                else render_sync(sync)
            )
        else:
            text = render_syncs(manager.list(provider=provider), as_json=as_json)
    except SequinError as error:
        raise click.ClickException(str(error)) from error
    click.echo(text)


@sequin_cli.command("emulator", context_settings=_PASS_THROUGH, with_appcontext=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator_command(args: tuple[str, ...]) -> None:
    """Run a local Sequin API emulator (arguments of `sequin-orm emulator`)."""
    _delegate("sequin_orm.emulator.cli", args)


@sequin_cli.command("generate", context_settings=_PASS_THROUGH, with_appcontext=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def generate_command(args: tuple[str, ...]) -> None:
    """Generate typed model classes (arguments of `sequin-orm generate`)."""
    _delegate("sequin_orm.codegen.cli", args)


@sequin_cli.command("mirror")
@click.option(
    "--backfill",
    "backfill",
    multiple=True,
    metavar="COLLECTION",
    help="page /v1/records of this collection first, e.g. salesforce:contact",
)
@click.option("--once", is_flag=True, help="drain the consumer once and exit")
def mirror_command(backfill: tuple[str, ...], once: bool) -> None:
    """Fill the app's mirror: backfill, then follow its consumer until Ctrl-C."""  # fmt: skip
    from sequin_orm.mirror.command import run_mirror_command

    mirror = _state(current_app).mirror
    if mirror is None:
        raise click.ClickException(
            "No mirror: set app.config['SEQUIN_MIRROR_URL'] and ['SEQUIN_MIRROR_CONSUMER_ID']"
        )
    try:
        run_mirror_command(mirror, backfill=backfill, once=once, out=sys.stdout)
    except SequinError as error:
        raise click.ClickException(str(error)) from error


def _delegate(module: str, args: tuple[str, ...]) -> None:
    try:
        code = run_tool(module, list(args))
    except ImportError as error:
        raise click.ClickException(str(error)) from error
    if code:
        sys.exit(code)
