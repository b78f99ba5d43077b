"""The Flask extension: init_app, per-app clients, per-app-context sessions, teardown."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from flask import Flask

import sequin_orm
from sequin_orm.contrib.flask import Sequin, SequinConfigWarning, SequinState
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ConfigurationError
from sequin_orm.models import salesforce
from tests.contrib.flask.apps import emulator_config, make_app


def names(emu: Emulator) -> list[list[str]]:
    return [[r["data"]["LastName"] for r in m.json["records"]] for m in emu.mutation_requests()]


# --- init_app -------------------------------------------------------------------------------


def test_init_app_keeps_its_state_on_the_app_not_on_the_extension(emu: Emulator) -> None:
    sequin = Sequin()
    app = make_app(sequin, emulator_config(emu))

    state = app.extensions["sequin"]
    assert isinstance(state, SequinState)
    assert state.extension is sequin
    assert state.client.default_syncs == {"salesforce": emu.seeded["salesforce_sync"]}
    assert vars(sequin) == {}
    assert app.config["SEQUIN_COMMIT_ON_TEARDOWN"] is False
    assert "sequin" in app.cli.commands


def test_the_constructor_form_calls_init_app(emu: Emulator) -> None:
    app = Flask(__name__)
    app.config.update(emulator_config(emu))

    Sequin(app)

    assert isinstance(app.extensions["sequin"], SequinState)


def test_one_extension_serves_two_apps_with_their_own_clients() -> None:
    first, second = Emulator(seed="demo"), Emulator(seed="demo")
    sequin = Sequin()
    app1 = make_app(sequin, emulator_config(first))
    app2 = make_app(sequin, emulator_config(second))

    app1.test_client().get("/commit", query_string={"marker": "one"})
    app2.test_client().get("/commit", query_string={"marker": "two"})

    assert names(first) == [["one-0"]]
    assert names(second) == [["two-0"]]


def test_the_token_may_come_from_the_environment(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEQUIN_API_TOKEN", emu.token)
    config = emulator_config(emu)
    del config["SEQUIN_API_TOKEN"]

    app = make_app(Sequin(), config)

    assert app.extensions["sequin"].client.settings.api_token == emu.token


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SEQUIN_API_TOKEN": 42}, "SEQUIN_API_TOKEN"),
        ({"SEQUIN_BASE_URL": "http://sequin.example.com"}, "plain http"),
        ({"SEQUIN_BASE_URL": "https://sequin.example.com/v1"}, "must not have a path"),
        ({"SEQUIN_BASE_URL": 42}, "SEQUIN_BASE_URL"),
        ({"SEQUIN_SYNCS": ["salesforce"]}, "SEQUIN_SYNCS"),
        ({"SEQUIN_SYNCS": {"salesforce": 1}}, "SEQUIN_SYNCS"),
        ({"SEQUIN_TIMEOUT": 0}, "SEQUIN_TIMEOUT"),
        ({"SEQUIN_MAX_RETRIES": -1}, "SEQUIN_MAX_RETRIES"),
        ({"SEQUIN_BATCH_SIZE": 0}, "batch_size"),
        ({"SEQUIN_TRANSPORT": object()}, "SEQUIN_TRANSPORT"),
        ({"SEQUIN_COMMIT_ON_TEARDOWN": "yes"}, "SEQUIN_COMMIT_ON_TEARDOWN"),
    ],
)
def test_misconfiguration_fails_in_init_app(
    emu: Emulator, changes: dict[str, Any], message: str
) -> None:
    app = Flask(__name__)
    app.config.update({**emulator_config(emu), **changes})

    with pytest.raises(ConfigurationError, match=message):
        Sequin().init_app(app)
    assert "sequin" not in app.extensions


def test_no_token_only_warns_and_the_request_says_what_to_set(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEQUIN_API_TOKEN", raising=False)
    app = Flask(__name__)
    app.config.update({**emulator_config(emu), "SEQUIN_API_TOKEN": None})
    with pytest.warns(SequinConfigWarning, match="No Sequin API token"):
        Sequin().init_app(app)  # `flask sequin emulator` and tests can start
    with app.app_context(), pytest.raises(ConfigurationError, match="SEQUIN_API_TOKEN"):
        app.extensions["sequin"].client.syncs.list()


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_sync_id_is_named_as_empty(emu: Emulator, value: str) -> None:
    app = Flask(__name__)
    app.config.update({**emulator_config(emu), "SEQUIN_SYNCS": {"salesforce": value}})
    with pytest.warns(SequinConfigWarning, match=r"\['salesforce'\] is empty"):
        Sequin().init_app(app)
    with app.app_context(), pytest.raises(ConfigurationError, match="is empty") as caught:
        salesforce.Contact(LastName="Kynes").save()
        app.extensions["sequin"].extension.commit()
    assert "SEQUIN_SYNC_SALESFORCE" in str(caught.value)


def test_a_real_transport_is_accepted(emu: Emulator) -> None:
    app = make_app(Sequin(), emulator_config(emu, SEQUIN_TRANSPORT=httpx.HTTPTransport()))

    assert isinstance(app.extensions["sequin"], SequinState)


def test_using_the_extension_on_an_app_without_init_app_is_a_clear_error() -> None:
    sequin = Sequin()
    with Flask(__name__).app_context(), pytest.raises(RuntimeError, match="init_app"):
        _ = sequin.client


# --- the session of an application context --------------------------------------------------


def test_an_app_context_has_a_current_session_that_save_enqueues_into(emu: Emulator) -> None:
    sequin = Sequin()
    app = make_app(sequin, emulator_config(emu))

    with app.app_context():
        assert sequin_orm.current_session() is sequin.session
        contact = salesforce.Contact(LastName="Atreides")
        result = contact.save()
        assert result.pending
        assert emu.requests == []
        assert sequin.session.new == (contact,)

        commit = sequin.commit()

        assert commit.created == [contact]
        assert contact.upstream_id is not None
    assert names(emu) == [["Atreides"]]
    assert sequin_orm.current_session() is None


def test_nested_app_contexts_have_their_own_sessions(emu: Emulator) -> None:
    sequin = Sequin()
    app = make_app(sequin, emulator_config(emu))

    with app.app_context():
        outer = sequin.session
        with app.app_context():
            assert sequin.session is not outer
            assert sequin_orm.current_session() is sequin.session
        assert sequin_orm.current_session() is outer


def test_a_context_pushed_before_init_app_gets_a_session_on_first_use(emu: Emulator) -> None:
    sequin = Sequin()
    app = Flask(__name__)
    app.config.update(emulator_config(emu))
    with app.app_context():
        sequin.init_app(app)
        session = sequin.session
        assert sequin_orm.current_session() is session
    assert sequin_orm.current_session() is None


def test_session_outside_an_app_context_is_flasks_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        _ = Sequin().session


def test_uncommitted_changes_are_discarded_with_a_warning(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(Sequin(), emulator_config(emu))

    with caplog.at_level(logging.WARNING, "sequin_orm.contrib.flask"):
        response = app.test_client().get("/save", query_string={"marker": "lost"})

    assert response.status_code == 200
    assert emu.requests == []
    assert "call sequin.commit()" in caplog.text


def test_an_explicit_commit_in_a_view_sends_one_request(emu: Emulator) -> None:
    app = make_app(Sequin(), emulator_config(emu))

    response = app.test_client().get("/commit", query_string={"marker": "c", "count": "3"})

    assert response.text == "c: 3 created in 1 request(s)"
    assert [m.json for m in emu.mutation_requests()] == [
        {
            "kind": "create",
            "sync_id": emu.seeded["salesforce_sync"],
            "collection_id": "salesforce:contact",
            "records": [{"data": {"LastName": f"c-{i}"}} for i in range(3)],
        }
    ]


# --- commit on teardown (opt-in) -------------------------------------------------------------


@pytest.fixture
def teardown_app(emu: Emulator) -> Flask:
    app = make_app(Sequin(), emulator_config(emu, SEQUIN_COMMIT_ON_TEARDOWN=True))
    app.testing = True
    return app


def test_commit_on_teardown_sends_after_a_successful_request(
    teardown_app: Flask, emu: Emulator
) -> None:
    response = teardown_app.test_client().get("/save", query_string={"marker": "t", "count": "2"})

    assert response.status_code == 200
    assert names(emu) == [["t-0", "t-1"]]


def test_commit_on_teardown_never_commits_after_an_exception(
    teardown_app: Flask, emu: Emulator
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        teardown_app.test_client().get("/raise")

    assert emu.requests == []
    assert sequin_orm.current_session() is None


@pytest.mark.parametrize("path", ["/abort?status=400", "/abort?status=404", "/handled"])
def test_commit_on_teardown_never_commits_an_error_response(
    teardown_app: Flask, emu: Emulator, path: str
) -> None:
    response = teardown_app.test_client().get(path)

    assert response.status_code >= 400
    assert emu.requests == []


def test_commit_on_teardown_in_a_plain_app_context(teardown_app: Flask, emu: Emulator) -> None:
    with teardown_app.app_context():
        salesforce.Contact(LastName="cli").save()
    assert names(emu) == [["cli"]]

    with pytest.raises(ValueError), teardown_app.app_context():
        salesforce.Contact(LastName="failed").save()
        raise ValueError
    assert names(emu) == [["cli"]]


def test_a_failed_commit_at_teardown_is_logged_not_raised(
    teardown_app: Flask, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.inject(kind="create", status=400, error="Salesforce validation error: `bad`")

    with caplog.at_level(logging.ERROR, "sequin_orm.contrib.flask"):
        response = teardown_app.test_client().get("/save")

    assert response.status_code == 200
    assert "Sequin commit at teardown failed" in caplog.text
