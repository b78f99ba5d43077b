"""Sequin's ``salesforce:task`` examples use snake_case keys where the model is PascalCase: the
load warns once (``KeyCasingWarning``) with the fix, and ``generate --from-records`` makes a
model whose fields are the records' keys with the documented types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from sequin_orm import record as record_module
from sequin_orm.codegen.cli import BUNDLED_SCHEMAS_DIR, main
from sequin_orm.codegen.infer import infer_schema
from sequin_orm.codegen.schema import load_schema
from sequin_orm.errors import KeyCasingWarning
from sequin_orm.models import salesforce

REPO = Path(__file__).resolve().parents[2]

# Seeds 001 and 002: the documented answer of a mutation (the "// ..." elisions left out).
DOC_TASK = {
    "sync_id": "70a313f8-7c94-43d4-8d0c-5659a52de5c4",
    "collection_id": "salesforce:task",
    "upstream_id": "0018b000021BldZAAS",
    "upstream_updated_at": "2024-11-10T18:39:00.070453Z",
    "data": {"activity_date": "2023-09-12", "description": "task description [ ... ] "},
    "deleted": False,
}


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_module, "_casing_checked", set())


def test_snake_case_records_warn_once_with_the_fix() -> None:
    with pytest.warns(KeyCasingWarning) as caught:
        task = salesforce.Task.from_record(DOC_TASK)
        salesforce.Task.from_record(DOC_TASK)  # the same class and collection: no second one
    (warning,) = caught
    message = str(warning.message)
    assert "salesforce:task records use keys like 'activity_date'" in message
    assert "declares 'ActivityDate'" in message
    assert "sequin-orm generate --from-records --collection-id salesforce:task" in message
    assert task.ActivityDate is None and task.extra["activity_date"] == "2023-09-12"


def test_custom_fields_do_not_warn() -> None:
    record = {
        "collection_id": "salesforce:contact",
        "data": {"LastName": "Kynes", "Spice__c": 3, "Water__c": 1, "Rank__c": "Judge"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", KeyCasingWarning)
        contact = salesforce.Contact.from_record(record)
    assert contact.extra == {"Spice__c": 3, "Water__c": 1, "Rank__c": "Judge"}


def test_inference_keeps_the_record_keys_with_the_documented_types() -> None:
    base = load_schema(BUNDLED_SCHEMAS_DIR / "salesforce.json")
    (task,) = infer_schema([DOC_TASK], base=base).collections
    fields = {f.accessor: f for f in task.fields}
    assert list(fields) == ["activity_date", "description"]
    assert (fields["activity_date"].type, fields["activity_date"].id) == (
        "date",
        "salesforce:task:activity_date",
    )
    assert (fields["description"].type, fields["description"].name) == ("text", "Comments")


USAGE = """
import datetime, json, sys
from gen import salesforce

task = salesforce.Task.from_record(json.loads(sys.argv[1]))
assert task.activity_date == datetime.date(2023, 9, 12), task.activity_date
assert task.description == "task description [ ... ] " and task.extra == {}
print("ok")
"""


def test_generate_from_records_handles_the_snake_case_task(tmp_path: Path) -> None:
    records = tmp_path / "tasks.json"
    records.write_text(json.dumps({"records": [DOC_TASK]}), encoding="utf-8")
    args = ["--from-records", "--records-file", str(records), "--out", str(tmp_path / "gen")]
    assert main(args) == 0
    text = (tmp_path / "gen" / "salesforce.py").read_text(encoding="utf-8")
    assert "activity_date: Field[datetime.date | None] = Field(datetime.date)" in text
    (tmp_path / "usage.py").write_text(textwrap.dedent(USAGE), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "usage.py", json.dumps(DOC_TASK)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr
