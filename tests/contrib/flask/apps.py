"""A small Flask app for the extension tests: views that save, commit, raise, abort."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, abort, request

from sequin_orm.contrib.flask import Sequin
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce

#: Set by a test to hold every request inside its view until all have arrived.
BARRIER: threading.Barrier | None = None


def emulator_config(emu: Emulator, **extra: Any) -> dict[str, Any]:
    """Config keys for an in-process emulator."""
    return {
        "SEQUIN_API_TOKEN": emu.token,
        "SEQUIN_BASE_URL": "http://127.0.0.1",
        "SEQUIN_SYNCS": {"salesforce": emu.seeded["salesforce_sync"]},
        "SEQUIN_TRANSPORT": emu.transport(),
        **extra,
    }


def save_contacts() -> str:
    marker = request.args.get("marker", "m")
    for i in range(int(request.args.get("count", "1"))):
        salesforce.Contact(LastName=f"{marker}-{i}").save()
    return marker


def make_app(sequin: Sequin, config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    sequin.init_app(app)

    @app.get("/save")
    def save() -> str:
        return save_contacts()

    @app.get("/commit")
    def commit() -> str:
        marker = save_contacts()
        if BARRIER is not None:
            BARRIER.wait(timeout=10)
        return f"{marker}: {sequin.commit().summary()}"

    @app.get("/raise")
    def raise_() -> str:
        save_contacts()
        raise RuntimeError("boom")

    @app.get("/abort")
    def abort_() -> str:
        save_contacts()
        abort(int(request.args.get("status", "400")))

    @app.get("/handled")
    def handled() -> str:
        save_contacts()
        raise KeyError("handled by an error handler")

    @app.errorhandler(KeyError)
    def on_key_error(error: KeyError) -> tuple[str, int]:
        return "handled", 500

    return app
