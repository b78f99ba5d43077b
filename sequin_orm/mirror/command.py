"""What ``sequin-orm mirror``, ``manage.py sequin_mirror`` and ``flask sequin mirror`` do:
backfill collections (progress shown), then run the worker until Ctrl-C or SIGTERM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sequin_orm.mirror.core import Mirror
from sequin_orm.progress import ProgressBar

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
        # a live bar on a terminal (tqdm when installed), a line per page in a log
        with ProgressBar(f"backfill {collection_id}", file=out, use_tqdm=out.isatty()) as bar:
            total = mirror.backfill(collection_id, progress=bar)
        out.write(f"backfill {collection_id}: {total} records stored\n")
    if mirror.consumer_id is None:
        return
    if once:
        out.write(f"pulled {mirror.pull()} records from consumer {mirror.consumer_id}\n")
        return
    out.write(f"mirroring consumer {mirror.consumer_id} into {mirror!r}; Ctrl-C stops\n")
    out.flush()
    mirror.run()
    out.write("stopped\n")
