"""Framework integrations.

- ``sequin_orm.contrib.django``: settings, system checks, a session-per-request middleware,
  management commands and test helpers (``pip install "sequin-orm[django]"``).
- ``sequin_orm.contrib.flask``: the ``Sequin`` extension (``pip install "sequin-orm[flask]"``).

Both open a ``BoundSession``: a ``Session`` that the framework makes current for a request (or
an application context) and releases without committing or rolling back, because the
framework, not the end of a ``with`` block, decides what happens to the pending changes.
"""

from __future__ import annotations

from typing import Any

from sequin_orm.session import Session

__all__ = ["BoundSession", "describe_sync", "render_sync", "render_syncs", "run_tool"]


class BoundSession(Session):
    """A ``Session`` that an integration binds to a request or an app context.

    ``bind()`` makes it the current session of the running context (thread or asyncio task),
    exactly like entering ``with Session()``; ``unbind()`` restores the previous current
    session and, unlike leaving the ``with`` block, neither commits nor rolls back.
    """

    def bind(self) -> BoundSession:
        """Make this the current session (calls must be paired with ``unbind()``)."""
        self.activate()
        return self

    def unbind(self) -> None:
        """Stop being the current session; pending changes stay pending."""
        self.deactivate()

    @property
    def has_pending(self) -> bool:
        """True when a commit would have something to send (no request)."""
        return bool(self.new or self.dirty or self.deleted)


# --- helpers shared by the command lines of both integrations ---------------------------------


def run_tool(module: str, argv: list[str]) -> int:
    """Run the ``main(argv) -> int`` of a sequin-orm command module (e.g. the emulator)."""
    import importlib

    try:
        entry = importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is not available in this version of sequin-orm") from error
    code: int = entry.main(argv)
    return code


def describe_sync(sync: Any) -> dict[str, Any]:
    """The parts of a ``Sync`` worth printing (never its credential's secrets)."""
    health = getattr(sync, "health", None)
    return {
        "id": sync.id,
        "name": sync.name,
        "provider": sync.provider,
        "status": sync.status,
        "health": getattr(health, "status", None),
        "stream_id": sync.stream_id,
        "collection_ids": list(sync.collection_ids),
        "sync_frequency": sync.sync_frequency,
        "max_age_days": sync.max_age_days,
        "metadata": dict(sync.metadata),
    }


def render_syncs(syncs: list[Any], *, as_json: bool = False) -> str:
    """Syncs as an aligned table (id, provider, name, status, collections) or as JSON."""
    import json

    rows = [describe_sync(s) for s in syncs]
    if as_json:
        return json.dumps(rows, indent=2, default=str)
    if not rows:
        return "No syncs."
    table = [["ID", "PROVIDER", "NAME", "STATUS", "COLLECTIONS"]] + [
        [
            str(r["id"]),
            str(r["provider"] or ""),
            str(r["name"] or ""),
            str(r["status"] or ""),
            ", ".join(r["collection_ids"]),
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in table
    )


def render_sync(sync: Any) -> str:
    """One sync, a field per line."""
    lines = []
    for key, value in describe_sync(sync).items():
        shown = ", ".join(value) if isinstance(value, list) else value
        lines.append(f"{key + ':':16}{'' if shown is None else shown}")
    return "\n".join(lines)
