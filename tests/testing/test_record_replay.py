"""The record-then-replay recipe of docs/testing.md, run as a user's suite runs it: record
against the emulator served on loopback, then replay offline with no server and the network
blocked. The test file is the page's own block (plus a credential secret to look for).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr  # noqa: F401  # loaded once here: pytester's in-process runs would re-import yaml

from tests.docs.test_snippets import ROOT, blocks

pytest_plugins = ["pytester"]

# Inner pytest runs (in-process): without hypothesis's plugin (a second each) and
# pytest-django's (its test environment is set up once per process).
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:django")
SECRET = "sk_live_recipe_4242"
WITH_A_SECRET = f'''

@pytest.mark.vcr
def test_imports_a_credential(sequin_vcr_client):
    from sequin_orm import Credential

    Credential.objects.create({{"kind": "stripe_key", "secret": "{SECRET}"}}, name="Stripe")
'''


def _recipe() -> tuple[str, str]:
    [block] = [b for b in blocks(ROOT / "docs" / "testing.md") if "sequin_vcr_client" in b.code]
    assert block.file is not None
    return block.file, block.code


def test_record_then_replay_offline(pytester: pytest.Pytester) -> None:
    path, code = _recipe()
    test_file = pytester.path / path
    test_file.parent.mkdir(parents=True)
    test_file.write_text(code + WITH_A_SECRET)
    cassettes = test_file.parent / "cassettes" / test_file.stem

    recorded = pytester.runpytest_subprocess(*INNER, "--record-mode=once", path)
    recorded.assert_outcomes(passed=2)
    contact = cassettes / "test_saves_a_contact.yaml"
    credential = cassettes / "test_imports_a_credential.yaml"
    text = contact.read_text() + credential.read_text()
    assert "uri: https://api.sequin.io/v1/mutations/run" in text
    assert "uri: https://api.sequin.io/v1/credentials" in text
    assert "127.0.0.1" not in text
    assert "Bearer REDACTED" in text and "Bearer test" not in text
    assert SECRET not in text

    # No server: the client points at https://api.sequin.io and sockets are blocked.
    replay = (*INNER, "--record-mode=none", "--block-network", path)
    pytester.runpytest_subprocess(*replay).assert_outcomes(passed=2)

    # The replay answers from the cassette: without it, the same run fails.
    contact.unlink()
    pytester.runpytest_subprocess(*replay).assert_outcomes(passed=1, failed=1)


def test_the_recipe_is_on_the_docs_page() -> None:
    path, code = _recipe()
    assert Path(path).name.startswith("test_")
    assert "def vcr_config(sequin_vcr_config)" in code
