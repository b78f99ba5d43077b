"""What ``sequin-orm mirror``, ``manage.py sequin_mirror`` and ``flask sequin mirror`` do:
backfill collections (progress shown), then run the worker until Ctrl-C or SIGTERM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sequin_orm.mirror.core import Mirror

__all__ = ["Output", "run_mirror_command"]


class Output(Protocol):
    """Where the command writes: a text stream (or Django's ``OutputWrapper``)."""

    def write(self, text: str, /) -> Any: ...
    def flush(self) -> Any: ...
    def isatty(self) -> bool: ...


def run_mirror_command(
    mirror: Mirror,
    *,
    backfill: Sequence[str] = (),
    once: bool = False,
    out: Output,
) -> None:
    """Backfill each collection id, then pull once (``once``) or run the worker (hits the
    network and the database). Raises the ``SequinError`` that stopped it."""
    mirror.create_tables()
    for collection_id in backfill:
        show = _progress(out, f"backfill {collection_id}")
        total = mirror.backfill(collection_id, progress=show)
        _finish(out, f"backfill {collection_id}: {total} records stored")
    if mirror.consumer_id is None:
        return
    if once:
        out.write(f"pulled {mirror.pull()} records from consumer {mirror.consumer_id}\n")
        return
    out.write(f"mirroring consumer {mirror.consumer_id} into {mirror!r}; Ctrl-C stops\n")
    out.flush()
    mirror.run()
    out.write("stopped\n")


def _progress(out: Output, label: str) -> Callable[[int], None]:
    """A progress callback: one line rewritten in place on a terminal, a line per page else."""
    live = out.isatty()

    def show(stored: int) -> None:
        if live:
            out.write(f"\r{label}: {stored} records")
        else:
            out.write(f"{label}: {stored} records\n")
        out.flush()

    return show


def _finish(out: Output, text: str) -> None:
    if out.isatty():
        out.write("\r")
    out.write(text + "\n")
