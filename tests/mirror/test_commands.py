"""The mirror's commands and settings: ``sequin-orm mirror`` (over loopback HTTP),
``manage.py sequin_mirror`` with ``SEQUIN["MIRROR"]``, ``flask sequin mirror`` with
``SEQUIN_MIRROR_URL`` — each on both engines."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask

import tests.contrib.django.conftest  # noqa: F401  (Django settings for the whole process)
from sequin_orm.cli import main
from sequin_orm.contrib.flask import Sequin
from sequin_orm.emulator import Emulator
from sequin_orm.mirror import Mirror
from sequin_orm.models import salesforce
from tests.pgserver import PASSWORD

CONSUMER = "de000000-0000-4000-8000-000000000006"  # the demo seed's consumer (every record)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The demo emulator on loopback HTTP, the environment pointing the CLI at it."""
    emu = Emulator("cli-token", seed="demo")
    with emu.serve() as url:
        monkeypatch.setenv("SEQUIN_BASE_URL", url)
        monkeypatch.setenv("SEQUIN_API_TOKEN", "cli-token")
        yield emu


def _contacts(emulator: Emulator, count: int) -> None:
    sync_id = emulator.seeded["salesforce_sync"]
    for n in range(count):
        emulator.create_record(sync_id, "salesforce:contact", {"LastName": f"L{n}"})


def test_cli_backfills_with_progress_then_pulls(
    served: Emulator, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _contacts(served, 3)
    code = main(["mirror", "--database", database_url, "--consumer", CONSUMER,
                 "--backfill", "salesforce:contact", "--once"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "backfill salesforce:contact: 3 records\n" in out  # a progress line per page
    assert "backfill salesforce:contact: 3 records stored" in out
    assert "pulled 3 records from consumer" in out
    assert Mirror(database_url).query(salesforce.Contact).count() == 3


def test_cli_reads_the_url_from_the_environment_and_hides_its_password(
    served: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEQUIN_MIRROR_URL", f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:1/x")
    code = main(["mirror", "--consumer", CONSUMER, "--once"])
    out, err = capsys.readouterr()
    assert code == 1 and "sequin-orm mirror: error: The mirror database" in err
    assert PASSWORD not in out + err


def test_cli_needs_something_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mirror"]) == 2
    assert "mirror needs --consumer ID, --backfill COLLECTION, or both" in capsys.readouterr().err


def test_django_setting_and_manage_py_sequin_mirror(database_url: str) -> None:
    from django.core.management import call_command
    from django.test import override_settings

    from sequin_orm.contrib.django import conf
    from sequin_orm.contrib.django.testing import sequin_emulator

    setting = {"EMULATOR": True, "MIRROR": {"DATABASE": database_url, "CONSUMER_ID": CONSUMER}}
    with override_settings(SEQUIN=setting), sequin_emulator() as emu:
        assert conf.validate(setting, debug=True) == []
        _contacts(emu, 2)
        out = io.StringIO()
        call_command("sequin_mirror", "--once", stdout=out)
        assert out.getvalue() == f"pulled 2 records from consumer {CONSUMER}\n"
        assert conf.client_kwargs()["mirror"] is conf.mirror()
        assert conf.mirror().query(salesforce.Contact).count() == 2


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_django_mirror_settings_are_checked() -> None:
    from django.test import override_settings

    from sequin_orm.contrib.django import conf

    (problem,) = conf.validate({"MIRROR": {"URL": "sqlite://"}}, environ={"SEQUIN_API_TOKEN": "t"})
    assert problem.id == "sequin_orm.E005" and "DATABASE" in (problem.hint or "")
    with override_settings(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                                  "NAME": "/tmp/x.db"},
                                      "pg": {"ENGINE": "django.db.backends.postgresql",
                                             "NAME": "app", "USER": "me", "PASSWORD": "p@ss",
                                             "HOST": "db", "PORT": "5433"}}):  # fmt: skip
        assert conf.mirror_url("default") == "sqlite:////tmp/x.db"
        assert conf.mirror_url("pg") == "postgresql+psycopg://me:p%40ss@db:5433/app"
        assert conf.mirror_url("sqlite:///m.db") == "sqlite:///m.db"


def test_flask_config_and_flask_sequin_mirror(database_url: str) -> None:
    emu = Emulator(seed="demo")
    app = Flask(__name__)
    app.config.update(
        SEQUIN_API_TOKEN=emu.token,
        SEQUIN_BASE_URL="http://127.0.0.1",
        SEQUIN_SYNCS={"salesforce": emu.seeded["salesforce_sync"]},
        SEQUIN_TRANSPORT=emu.transport(),
        SEQUIN_MIRROR_URL=database_url,
        SEQUIN_MIRROR_CONSUMER_ID=CONSUMER,
    )
    sequin = Sequin(app)
    _contacts(emu, 2)
    result = app.test_cli_runner().invoke(args=["sequin", "mirror", "--once"])
    assert result.exit_code == 0, result.output
    assert f"pulled 2 records from consumer {CONSUMER}" in result.output
    with app.app_context():
        assert salesforce.Contact.objects.using(sequin.client).count() == 2


def test_flask_without_a_mirror_says_what_to_set() -> None:
    app = Flask(__name__)
    app.config.update(SEQUIN_API_TOKEN="t", SEQUIN_TRANSPORT=Emulator().transport())
    Sequin(app)
    result = app.test_cli_runner().invoke(args=["sequin", "mirror"])
    assert result.exit_code == 1 and "SEQUIN_MIRROR_URL" in result.output
