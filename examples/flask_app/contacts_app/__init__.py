"""The Flask demo app: a contact form that creates Salesforce contacts, and a list page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from sequin_orm.contrib.flask import Sequin

#: The extension: created once, bound to each app by ``init_app``.
sequin = Sequin()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory. ``config`` overrides the defaults (tests, the runner)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "demo-only-not-a-secret"
    if config:
        app.config.update(config)
    sequin.init_app(app)  # ConfigurationError here if the Sequin settings are wrong

    from contacts_app.views import contacts

    app.register_blueprint(contacts)
    return app
