"""Helpers of the Django integration tests."""

from __future__ import annotations

from typing import Any

from sequin_orm.emulator import Emulator


def mutations(emulator: Emulator, kind: str | None = None) -> list[dict[str, Any]]:
    """Bodies of the mutation requests the emulator received."""
    return [r.json for r in emulator.mutation_requests(kind)]


def last_names(body: dict[str, Any]) -> list[str]:
    records = body["records"]
    assert isinstance(records, list)
    return [r["data"]["LastName"] for r in records]
