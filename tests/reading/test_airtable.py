"""Airtable: values under ``data.fields``, opaque collection ids listed by
``/v1/collections/{credential_id}``, ``rec…`` ids, 10 records per mutation request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import sequin_orm
from sequin_orm import Session
from sequin_orm.codegen.cli import main as generate
from sequin_orm.emulator import Emulator
from sequin_orm.registry import AirtableRecord, model_for

REPO = Path(__file__).resolve().parents[2]
TOKEN = "airtable-token"
GUILDS = "airtable:gcSyR6LfxbXo7iART4m1vcLu"  # the opaque table id of the docs' example


@pytest.fixture
def emulator() -> Emulator:
    emu = Emulator(TOKEN)
    emu.create_sync("airtable", [GUILDS], id="at-sync")
    return emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[sequin_orm.Client]:
    with emulator.serve() as url, sequin_orm.Client(TOKEN, url) as client:
        yield client


def test_dynamic_airtable_records_keep_values_under_fields(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    Guild = model_for(GUILDS)
    assert issubclass(Guild, AirtableRecord)
    guild = Guild(Name="Spacing Guild", Members=3)
    assert isinstance(guild, AirtableRecord)
    with Session(client, sync_id="at-sync"):
        guild.save()
    (create,) = emulator.mutation_requests("create")
    assert create.json["records"] == [{"data": {"fields": {"Name": "Spacing Guild", "Members": 3}}}]
    assert re.fullmatch(r"rec[A-Za-z0-9]{14}", guild.upstream_id or "")
    assert guild["Name"] == "Spacing Guild" and guild.get("Missing") is None
    stored = emulator.records(GUILDS)[0]["data"]
    assert set(stored) == {"id", "createdTime", "fields"} and stored["id"] == guild.upstream_id
    guild["Members"] = 4
    with Session(client):
        guild.save()
    assert emulator.records(GUILDS)[0]["data"]["fields"] == {"Name": "Spacing Guild", "Members": 4}
    (loaded,) = model_for(GUILDS).objects.using(client).iter()
    assert isinstance(loaded, AirtableRecord) and loaded.fields == {
        "Name": "Spacing Guild",
        "Members": 4,
    }


def test_airtable_creates_go_10_per_request(client: sequin_orm.Client, emulator: Emulator) -> None:
    Guild = model_for(GUILDS)
    with Session(client, sync_id="at-sync"):
        for i in range(25):
            Guild(Name=f"Guild {i}").save()
    sizes = sorted(
        (len(r.json["records"]) for r in emulator.mutation_requests("create")), reverse=True
    )
    assert sizes == [10, 10, 5]
    emulator.clear_requests()
    with Session(client, sync_id="at-sync") as session:
        for guild in model_for(GUILDS).objects.using(client).iter():
            session.delete(guild)
    sizes = sorted(
        (len(r.json["upstream_ids"]) for r in emulator.mutation_requests("delete")), reverse=True
    )
    assert sizes == [10, 10, 5]


USAGE = """
import json, sys
from gen import airtable

guild = airtable.Guilds.from_record(json.loads(sys.argv[1]))
assert guild.Name == "Ix" and guild.Members == 9 and guild.Home_World == "Ix", guild
assert guild.id.startswith("rec") and guild.extra == {}
print(airtable.Guilds(Name="Tleilax").create_data())
"""


def test_typed_models_from_the_base_listing(emulator: Emulator, tmp_path: Path) -> None:
    credential_id = emulator.create_credential("airtable")["id"]
    with emulator.serve() as url:
        sequin_orm.configure(TOKEN, url)
        assert generate(["--credential-id", credential_id, "--out", str(tmp_path / "gen")]) == 0
    text = (tmp_path / "gen" / "airtable.py").read_text(encoding="utf-8")
    assert "class Guilds(Model):" in text
    assert 'Home_World: Field[str | None] = Field(str, wire="fields.Home World")' in text
    record = emulator.create_record(
        "at-sync", GUILDS, {"fields": {"Name": "Ix", "Members": 9, "Home World": "Ix"}}
    )
    (tmp_path / "usage.py").write_text(textwrap.dedent(USAGE), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "usage.py", json.dumps(record)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "{'fields': {'Name': 'Tleilax'}}"
