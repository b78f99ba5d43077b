"""The pytest plugin is harmless where it is not used: no unprefixed fixture, nothing autouse,
no library import until a fixture runs (it is loaded in every pytest run through ``pytest11``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

# Inner pytest runs (in-process): without hypothesis's plugin (a second each) and
# pytest-django's (its test environment is set up once per process).
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:django")


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def test_importing_the_plugin_adds_no_library_module() -> None:
    package = _modules_after("import sequin_orm")
    plugin = _modules_after("import sequin_orm.testing")
    added = {m for m in plugin - package if m.startswith("sequin_orm")}
    assert added == {"sequin_orm.testing"}
    assert not {m for m in plugin if m.startswith(("vcr", "sequin_orm.emulator", "cattrs"))}


def test_loading_the_plugin_imports_no_http_stack() -> None:
    assert "httpx" not in _modules_after("import sequin_orm.testing")


def test_every_fixture_is_prefixed_and_none_is_autouse(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--fixtures", *INNER)
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "from sequin_orm.testing" in line)
    section = []
    for line in lines[start + 1 :]:
        if line.startswith("-") or line.startswith("="):
            break
        if line and not line.startswith(" "):
            section.append(line.split()[0])
    assert set(section) == {
        "sequin_emulator",
        "sequin_client",
        "sequin_vcr_client",
        "sequin_vcr_config",
    }


def test_an_unrelated_project_keeps_pytest_recordings_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_defaults(vcr_config, request):
            assert vcr_config == {}     # pytest-recording's own default, untouched
            assert not [name for name in request.fixturenames if name.startswith("sequin")]
        """
    )
    result = pytester.runpytest_inprocess(*INNER)
    result.assert_outcomes(passed=1)


def test_vcr_config_is_opt_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="module")
        def vcr_config(sequin_vcr_config):
            return sequin_vcr_config

        def test_opted_in(vcr_config):
            assert ("authorization", "Bearer REDACTED") in vcr_config["filter_headers"]
            assert vcr_config["match_on"] == ["method", "uri", "body"]
        """
    )
    result = pytester.runpytest_inprocess(*INNER)
    result.assert_outcomes(passed=1)
