"""The SEQUIN settings accessor, the default client built from it, and the system checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

import sequin_orm
from sequin_orm.contrib.django import conf
from sequin_orm.contrib.django.checks import MIDDLEWARE_PATH, check_middleware, check_settings
from sequin_orm.errors import ConfigurationError
from tests.contrib.django.conftest import SETTINGS_SEQUIN


def run_checks() -> list[tuple[str, str]]:
    messages = checks.run_checks(tags=["sequin"])
    return [(m.id, m.msg) for m in messages]


def ids(**sequin: Any) -> list[str]:
    with override_settings(SEQUIN=sequin):
        return [i for i, _ in run_checks()]


# --- the accessor ---------------------------------------------------------------------------


def test_settings_are_read_lazily_with_defaults() -> None:
    assert SETTINGS_SEQUIN["API_TOKEN"] == conf.sequin_settings.API_TOKEN
    assert SETTINGS_SEQUIN["SYNCS"] == conf.sequin_settings.SYNCS
    assert conf.sequin_settings.SESSION_PER_REQUEST is True
    assert conf.sequin_settings.MAX_RETRIES == 2
    assert conf.sequin_settings.EMULATOR is False


def test_override_settings_reloads_the_accessor() -> None:
    before = conf.sequin_settings.generation
    with override_settings(SEQUIN={"API_TOKEN": "overridden", "MAX_RETRIES": 5}):
        assert conf.sequin_settings.API_TOKEN == "overridden"
        assert conf.sequin_settings.MAX_RETRIES == 5
    assert SETTINGS_SEQUIN["API_TOKEN"] == conf.sequin_settings.API_TOKEN
    assert conf.sequin_settings.generation == before + 2


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="API_KEY"):
        _ = conf.sequin_settings.API_KEY


def test_other_setting_changes_do_not_reload() -> None:
    before = conf.sequin_settings.generation
    with override_settings(USE_TZ=False):
        pass
    assert conf.sequin_settings.generation == before


# --- the default client ------------------------------------------------------------------------


def test_the_default_client_is_built_from_settings_at_first_use() -> None:
    client = conf.get_client()

    assert client is sequin_orm.get_client()
    assert client.settings.api_token == SETTINGS_SEQUIN["API_TOKEN"]
    assert client.default_syncs == SETTINGS_SEQUIN["SYNCS"]
    assert conf.get_client() is client


def test_the_default_client_is_rebuilt_when_settings_change() -> None:
    first = conf.get_client()
    sequin = {"API_TOKEN": "other", "BASE_URL": "https://sequin.example.com", "TIMEOUT": 7}
    with override_settings(SEQUIN=sequin):
        second = conf.get_client()
        assert second is not first
        assert second.base_url == "https://sequin.example.com"
        assert second.settings.timeouts.read == 7
    third = conf.get_client()
    assert third.settings.api_token == SETTINGS_SEQUIN["API_TOKEN"]


def test_a_client_configured_explicitly_is_kept() -> None:
    mine = sequin_orm.configure("mine", "https://sequin.example.com")

    assert conf.get_client() is mine


def test_emulator_mode_uses_the_in_process_emulator_and_its_demo_syncs() -> None:
    from sequin_orm.models import salesforce

    with override_settings(SEQUIN={"EMULATOR": True}):
        client = conf.get_client()
        emulator = conf.emulator()
        assert client.default_syncs["salesforce"] == emulator.seeded["salesforce_sync"]
        before = len(emulator.mutation_requests())
        salesforce.Contact(LastName="Emulated").save()
        assert len(emulator.mutation_requests()) == before + 1


def test_an_invalid_value_is_a_configuration_error_when_the_client_is_built() -> None:
    with (
        override_settings(SEQUIN={"API_TOKEN": "t", "BASE_URL": "http://sequin.example.com"}),
        pytest.raises(ConfigurationError, match="plain http"),
    ):
        conf.get_client()


# --- system checks ---------------------------------------------------------------------------


def test_the_test_settings_pass_the_checks() -> None:
    assert run_checks() == []


def test_a_missing_token_is_only_a_warning_w004(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ids(SYNCS={"salesforce": "s"}) == ["sequin_orm.W004"]
    monkeypatch.setenv("SEQUIN_API_TOKEN", "from-env")
    assert ids(SYNCS={"salesforce": "s"}) == []


def test_no_token_is_needed_with_the_emulator() -> None:
    with override_settings(DEBUG=True):
        assert ids(EMULATOR=True) == []


@pytest.mark.parametrize(
    "base_url",
    ["http://sequin.example.com", "ftp://sequin.example.com", "https://x.io/v1", "nonsense"],
)
def test_a_bad_base_url_is_e002(base_url: str) -> None:
    assert ids(API_TOKEN="t", BASE_URL=base_url) == ["sequin_orm.E002"]


def test_a_bad_base_url_from_the_environment_is_e002(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUIN_BASE_URL", "http://sequin.example.com")
    with override_settings(SEQUIN={"API_TOKEN": "t"}):
        [(check_id, message)] = run_checks()
    assert check_id == "sequin_orm.E002"
    assert "SEQUIN_BASE_URL environment variable" in message


@pytest.mark.parametrize("syncs", [["salesforce"], {"salesforce": 3}, {"": "x"}, "salesforce"])
def test_syncs_not_a_dict_of_str_is_e003(syncs: object) -> None:
    assert ids(API_TOKEN="t", SYNCS=syncs) == ["sequin_orm.E003"]


def test_an_empty_sync_id_is_named_w005() -> None:
    with override_settings(SEQUIN={"API_TOKEN": "t", "SYNCS": {"salesforce": ""}}):
        [(check_id, message)] = run_checks()
    assert check_id == "sequin_orm.W005"
    assert "SEQUIN['SYNCS']['salesforce'] is empty" in message


@pytest.mark.parametrize(
    "bad",
    [
        {"TIMEOUT": 0},
        {"TIMEOUT": "10"},
        {"MAX_RETRIES": -1},
        {"MAX_RETRIES": True},
        {"BATCH_SIZE": 0},
        {"BATCH_SIZE": {"salesforce": "200"}},
        {"SESSION_PER_REQUEST": "yes"},
        {"DATABASE": "other"},
        {"EMULATOR": "yes"},
    ],
)
def test_other_bad_values_are_e004(bad: dict[str, object]) -> None:
    assert ids(API_TOKEN="t", **bad) == ["sequin_orm.E004"]


def test_sequin_not_a_dict_is_e004() -> None:
    with override_settings(SEQUIN=["API_TOKEN"]):
        assert [i for i, _ in run_checks()] == ["sequin_orm.E004"]


def test_loopback_or_emulator_without_debug_is_w001() -> None:
    assert ids(API_TOKEN="t", BASE_URL="http://127.0.0.1:7376") == ["sequin_orm.W001"]
    assert ids(EMULATOR=True) == ["sequin_orm.W001"]
    with override_settings(DEBUG=True):
        assert ids(API_TOKEN="t", BASE_URL="http://localhost:7376") == []


def test_an_unknown_key_is_w002() -> None:
    with override_settings(SEQUIN={"API_KEY": "t", "API_TOKEN": "t"}):
        [(check_id, message)] = run_checks()
    assert check_id == "sequin_orm.W002"
    assert "API_KEY" in message


def test_a_missing_middleware_is_w003() -> None:
    with override_settings(MIDDLEWARE=[]):
        assert [m.id for m in check_middleware()] == ["sequin_orm.W003"]
        with override_settings(SEQUIN={"API_TOKEN": "t", "SESSION_PER_REQUEST": False}):
            assert check_middleware() == []
    with override_settings(MIDDLEWARE=[MIDDLEWARE_PATH]):
        assert check_middleware() == []


def test_errors_are_errors_and_warnings_warnings() -> None:
    with override_settings(SEQUIN={"API_KEY": "t"}):
        levels = {m.id: type(m) for m in check_settings()}
    assert levels == {"sequin_orm.W004": checks.Warning, "sequin_orm.W002": checks.Warning}
    with override_settings(SEQUIN={"API_TOKEN": 3}):
        assert {m.id: type(m) for m in check_settings()} == {"sequin_orm.E001": checks.Error}


def test_checks_never_touch_the_network_or_build_a_client(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a check built a client")

    monkeypatch.setattr(sequin_orm, "configure", forbidden)
    monkeypatch.setattr("sequin_orm.client.Client.__init__", forbidden)
    with override_settings(SEQUIN={"API_TOKEN": "t", "BASE_URL": "https://x.example.com"}):
        assert run_checks() == []


def test_the_app_registers_its_checks_on_manage_py_check() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with (
        override_settings(SEQUIN={"BASE_URL": "http://sequin.example.com"}),
        pytest.raises(SystemCheckError) as raised,
    ):
        call_command("check", tags=["sequin"])
    assert "sequin_orm.W004" in str(raised.value)  # shown, but only E002 fails the check
    assert "sequin_orm.E002" in str(raised.value)


def test_manage_py_check_passes_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.management import call_command

    monkeypatch.delenv("SEQUIN_API_TOKEN", raising=False)
    with override_settings(SEQUIN={"SYNCS": {"salesforce": ""}}):
        call_command("check", tags=["sequin"])  # warnings (W004, W005), no SystemCheckError
