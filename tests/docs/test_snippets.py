"""Every ```python block of README.md and docs/*.md runs here, so a snippet cannot rot.

The convention (keep it simple):

- The blocks of one page run in order, in one namespace (a later block may use what an
  earlier one defined), in a fresh directory, against a Sequin emulator served on loopback:
  ``SEQUIN_API_TOKEN``, ``SEQUIN_BASE_URL`` and ``SEQUIN_SYNC_<PROVIDER>`` point at it, so the
  default client (``sequin_orm.get_client()``) is the emulator's. A traceback names the
  page and its line.
- Names a snippet uses without defining (``rows``, ``stale_contact``, ``client``, ``record``,
  …) come from ``_namespace()`` below: small, real objects on that emulator.
- A string literal with an ellipsis in it (``"6f0c…"``, ``"8ff58ef0-…"``, ``"sk_live_…"``) is a
  placeholder: it is replaced by the value ``PLACEHOLDERS`` gives (an expression evaluated in
  the page's namespace). A placeholder it does not know fails the test.
- A block whose first line is a comment naming a Python file (``# contacts_app/views.py``)
  is written to that path instead of run; when a page wrote ``test_*.py`` files, pytest runs
  them (in-process) after the page.
- A block preceded by ``<!-- not-run: reason -->`` (on the line just before the fence) is
  not run; the reason is required. ``PAGE_CHECKS`` adds assertions after some pages.
"""

from __future__ import annotations

import io
import os
import re
import runpy
import shlex
import subprocess
import sys
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import sequin_orm
from sequin_orm import record as record_module
from sequin_orm.emulator import Emulator

pytest_plugins = ["pytester"]

# Inner pytest runs (in-process): without hypothesis's plugin (a second each) and
# pytest-django's (its test environment is set up once per process).
INNER = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:django")

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = ROOT / "examples"
MIDDLEWARE = "sequin_orm.contrib.django.middleware.SequinSessionMiddleware"
DOCS_STREAM = "f0f70b52-5243-489c-879b-a1ae3f02abfd"  # the stream id of the Sequin docs

PLACEHOLDERS = {
    "…": "TOKEN",
    "6f0c…": "SYNCS['salesforce']",
    "c906b4a4-…": "sync.id",
    "f0f7…": "DOCS_STREAM",
    "8ff58ef0-…": "CONSUMER_ID",
    "sk_live_…": "'sk_live_docs_4242'",
    "sk_test_…": "'sk_test_docs_4242'",
}

_FENCE = re.compile(r"^(?P<indent>\s*)```python\s*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
_FILE = re.compile(r"^#\s*(?P<path>[\w./-]+\.py)\s*$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the first code line
    code: str
    not_run: str | None

    @property
    def file(self) -> str | None:
        first = self.code.split("\n", 1)[0]
        match = _FILE.match(first)
        return match["path"] if match else None


def blocks(page: Path) -> list[Block]:
    lines = page.read_text().split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent = match["indent"]
        body: list[str] = []
        j = i + 1
        while not (lines[j].startswith(indent + "```") and lines[j].strip() == "```"):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        previous = _NOT_RUN.match(lines[i - 1]) if i else None
        reason = previous["reason"] if previous else None
        if previous and not reason:
            raise AssertionError(f"{page.name}:{i}: not-run needs a reason")
        found.append(Block(page, i + 2, "\n".join(body) + "\n", reason))
        i = j + 1
    return found


def with_placeholders(code: str) -> str:
    """``code`` with each string literal holding "…" replaced by ``_placeholder(literal)``."""
    spans: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.STRING and "…" in token.string:
            value = eval(token.string)  # a plain string literal
            spans.append((token.start, token.end, f"_placeholder({value!r})"))
    lines = code.split("\n")
    for (row, col), (end_row, end_col), text in reversed(spans):
        assert row == end_row, "placeholders fit on one line"
        line = lines[row - 1]
        lines[row - 1] = line[:col] + text + line[end_col:]
    return "\n".join(lines)


def _namespace(emu: Emulator) -> dict[str, Any]:
    from sequin_orm.models import hubspot, salesforce

    syncs = {p: emu.seeded[f"{p}_sync"] for p in ("salesforce", "stripe", "hubspot")}
    stale = emu.create_record(syncs["salesforce"], "salesforce:contact", {"LastName": "Stale"})
    emu.create_record(
        syncs["salesforce"],
        "salesforce:contact",
        {"LastName": "Rabban", "Email": "rabban@harkonnen.com"},
    )
    spice = {"LastName": "Idaho", "Email": "duncan@arrakis.org", "Spice__c": 42}
    record = emu.create_record(syncs["salesforce"], "salesforce:contact", spice)
    hubspot_record = emu.create_record(
        syncs["hubspot"], "hubspot:contact", {"properties": {"firstname": "Chani"}}
    )
    upserted: list[Any] = []
    return {
        "TOKEN": emu.token,
        "SYNCS": syncs,
        "DOCS_STREAM": DOCS_STREAM,
        "CONSUMER_ID": emu.seeded["consumer"],
        "rows": [{"FirstName": "Duncan", "LastName": "Idaho", "Email": "duncan@arrakis.org"}],
        "stale_contact": salesforce.Contact.from_record(stale),
        "account": salesforce.Account(Name="House Atreides"),
        "sync_id": syncs["salesforce"],
        "stream_id": emu.seeded["stream"],
        "client": sequin_orm.get_client(),
        "record": record,
        "hubspot_record": hubspot_record,
        "hubspot": hubspot,
        "upsert": upserted.append,
        "upserted": upserted,
        "SequinOutbox": _Outbox(),
    }


class _Outbox:
    """A stand-in for the Django model of the outbox recipe: ``objects.create(**row)``."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.objects = self

    def create(self, **row: Any) -> None:
        self.rows.append(row)


# -- checks after a page ---------------------------------------------------------------------


def _check_django(ns: dict[str, Any], emu: Emulator, page_dir: Path) -> None:
    # The settings block (written to settings.py), with no token and no sync id in the
    # environment: `manage.py check` warns about the token (W004, as the page shows) and
    # says nothing about the syncs.
    settings_py = page_dir / "settings.py"
    assert runpy.run_path(str(settings_py))["MIDDLEWARE"][-1] == MIDDLEWARE
    script = f"""
import runpy
import shlex
import django
from django.conf import settings
from django.core.management import call_command
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "sequin_orm.contrib.django"],
    MIDDLEWARE=[{MIDDLEWARE!r}],
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},
    SEQUIN=runpy.run_path({str(settings_py)!r})["SEQUIN"],
)
django.setup()
call_command("check")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUIN_")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "(sequin_orm.W004) No Sequin API token" in output, output
    assert "SYNCS" not in output and "1 issue" in output, output

    # The outbox receiver stores a failed update, a custom field included.
    from django.dispatch import receiver  # noqa: F401  (the page imported it)

    from sequin_orm.contrib.django.signals import commit_failed
    from sequin_orm.errors import CommitError
    from sequin_orm.models import salesforce

    contact = salesforce.Contact.from_record(ns["record"])
    contact.Email = "ghola@tleilax.org"
    contact.extra["Spice__c"] = 43
    emu.inject(kind="update", error="Email is taken")
    with pytest.raises(CommitError) as caught, sequin_orm.Session() as session:
        session.add(contact)
    commit_failed.send(sender=None, session=session, error=caught.value, result=caught.value.result)
    [row] = ns["SequinOutbox"].rows
    assert row["upstream_id"] == contact.upstream_id
    assert row["changes"] == {"Email": "ghola@tleilax.org", "Spice__c": 43}
    commit_failed.disconnect(ns["remember_failed_writes"])


def _check_reading(ns: dict[str, Any], emu: Emulator, page_dir: Path) -> None:
    assert ns["upserted"], "the consumer loop handled the seeded records"


def _copy_flask_templates(ns: dict[str, Any], emu: Emulator, page_dir: Path) -> None:
    source = EXAMPLES / "flask_app" / "contacts_app" / "templates"
    target = page_dir / "contacts_app" / "templates"
    target.mkdir(parents=True, exist_ok=True)
    for template in source.iterdir():
        (target / template.name).write_text(template.read_text())


PAGE_CHECKS: dict[str, Callable[[dict[str, Any], Emulator, Path], None]] = {
    "django.md": _check_django,
    "reading.md": _check_reading,
}
PAGE_SETUP: dict[str, Callable[[dict[str, Any], Emulator, Path], None]] = {
    "flask.md": _copy_flask_templates,
}


# -- the tests -------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    emu = Emulator(seed="demo")
    emu.create_stream("docs", id=DOCS_STREAM)
    before = dict(record_module._models)  # a page may define model classes
    with emu.serve() as url:
        monkeypatch.setenv("SEQUIN_API_TOKEN", emu.token)
        monkeypatch.setenv("SEQUIN_BASE_URL", url)
        for provider in ("salesforce", "stripe", "hubspot"):
            monkeypatch.setenv(f"SEQUIN_SYNC_{provider.upper()}", emu.seeded[f"{provider}_sync"])
        yield emu
        sequin_orm.client.reset_default_client()
    record_module._models.clear()
    record_module._models.update(before)


def test_the_convention_is_followed() -> None:
    for page in PAGES:
        for block in blocks(page):
            if block.not_run is None and block.file is None:
                compile(with_placeholders(block.code), f"{page.name}:{block.line}", "exec")


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_page_snippets_run(page: Path, served: Emulator, pytester: pytest.Pytester) -> None:
    page_blocks = blocks(page)
    ns = _namespace(served)
    ns["__name__"] = f"docs_{page.stem}"

    def _placeholder(literal: str) -> Any:
        if literal not in PLACEHOLDERS:
            raise KeyError(f"unknown placeholder {literal!r}: add it to PLACEHOLDERS")
        return eval(PLACEHOLDERS[literal], ns)

    ns["_placeholder"] = _placeholder
    page_dir = pytester.path
    sys.path.insert(0, str(page_dir))  # pytester restores sys.path and sys.modules
    if page.name in PAGE_SETUP:
        PAGE_SETUP[page.name](ns, served, page_dir)
    tests: list[str] = []
    for block in page_blocks:
        if block.not_run is not None:
            continue
        if block.file is not None:
            target = page_dir / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code)
            if target.name.startswith("test_"):
                tests.append(block.file)
            continue
        source = "\n" * (block.line - 1) + with_placeholders(block.code)
        exec(compile(source, str(page.relative_to(ROOT)), "exec"), ns)
    if page.name in PAGE_CHECKS:
        PAGE_CHECKS[page.name](ns, served, page_dir)
    if tests:
        result = pytester.runpytest_subprocess(*INNER, *tests)
        outcomes = result.parseoutcomes()
        assert result.ret == 0 and outcomes.get("passed"), "\n".join(result.outlines)


def test_the_codegen_ci_recipe_passes_its_own_check(
    served: Emulator, pytester: pytest.Pytester
) -> None:
    """docs/codegen.md's shell recipe: fetch and save the schema, generate, then --check."""
    from sequin_orm import cli

    text = (ROOT / "docs" / "codegen.md").read_text()
    recipe = next(block for block in text.split("```bash\n")[1:] if "--check" in block)
    commands = [
        shlex.split(line, comments=True)[1:]
        for line in recipe.split("```")[0].splitlines()
        if line.startswith("sequin-orm ")
    ]
    assert [c[-1] for c in commands] == ["salesforce.json", "myapp/sequin_models", "--check"]
    credential = served.seeded["salesforce_credential"]
    for command in commands:
        argv = [credential if arg == "2ac5c34a-..." else arg for arg in command]
        assert cli.main(argv) == 0, argv
