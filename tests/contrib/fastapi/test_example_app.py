"""examples/fastapi_app driven through httpx's ASGI transport, writing to the emulator over
loopback HTTP with an ``AsyncClient``: one ``AsyncSession`` (one mutation) per request."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

import sequin_orm
from sequin_orm.emulator import Emulator

from ...conftest import SYNCS, TOKEN

APP = Path(__file__).resolve().parents[3] / "examples" / "fastapi_app" / "app.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_example_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


def _drive(emulator: Emulator, url: str) -> dict[str, Any]:
    example = _example()

    async def scenario() -> dict[str, Any]:
        async with sequin_orm.AsyncClient(TOKEN, url, syncs=SYNCS) as sequin:
            app = example.create_app(sequin)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                created = await http.post(
                    "/contacts", json={"first_name": "Paul", "last_name": "Atreides"}
                )
                upstream_id = created.json()["upstream_id"]
                updated = await http.patch(
                    f"/contacts/{upstream_id}", json={"email": "paul@arrakis.org"}
                )
                emulator.inject(kind="create", error="Email: invalid email address")
                refused = await http.post("/contacts", json={"last_name": "X", "email": "x@y"})
                listed = await http.get("/contacts")
        return {"created": created, "updated": updated, "refused": refused, "listed": listed}

    return asyncio.run(scenario())


def test_create_update_and_list_through_the_fastapi_example(emulator: Emulator) -> None:
    with emulator.serve() as url:
        answers = _drive(emulator, url)

    created, updated = answers["created"], answers["updated"]
    assert created.status_code == 201 and created.json()["last_name"] == "Atreides"
    assert updated.status_code == 200 and updated.json()["email"] == "paul@arrakis.org"
    refused = answers["refused"]
    assert refused.status_code == 422 and "invalid email address" in refused.json()["detail"]
    assert [c["email"] for c in answers["listed"].json()] == ["paul@arrakis.org"]

    upstream_id = created.json()["upstream_id"]
    assert [r.json for r in emulator.mutation_requests()[:2]] == [
        {
            "kind": "create",
            "sync_id": SYNCS["salesforce"],
            "collection_id": "salesforce:contact",
            "records": [{"data": {"FirstName": "Paul", "LastName": "Atreides"}}],
        },
        {
            "kind": "update",
            "sync_id": SYNCS["salesforce"],
            "collection_id": "salesforce:contact",
            "records": [{"upstream_id": upstream_id, "data": {"Email": "paul@arrakis.org"}}],
        },
    ]
