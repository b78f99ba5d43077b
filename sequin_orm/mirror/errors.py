"""The mirror's exceptions (all ``SequinError``s)."""

from __future__ import annotations

from sequin_orm.errors import ModelError, SequinError

__all__ = ["MalformedRecordError", "MirrorDatabaseError", "MultipleRecordsError"]


class MalformedRecordError(ModelError):
    """Records that cannot be mirrored (no ids, ``data`` not an object …) were refused; the
    others were stored. ``refused`` lists ``(what, why)`` pairs; ``applied`` counts the rest.
    From a consumer, refused messages are not acked: they come again after ``ack_wait_ms``."""

    def __init__(self, refused: list[tuple[str, str]], applied: int) -> None:
        shown = "; ".join(f"{what}: {why}" for what, why in refused[:5])
        more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
        super().__init__(
            f"{len(refused)} record(s) refused by the mirror, {applied} stored: {shown}{more}"
        )
        self.refused = refused
        self.applied = applied


class MirrorDatabaseError(SequinError):
    """The mirror's database failed (down, full, locked): the batch was rolled back and
    nothing of it was acked. The driver's error is the ``__cause__``."""


class MultipleRecordsError(ModelError):
    """``get()`` matched more than one record."""
