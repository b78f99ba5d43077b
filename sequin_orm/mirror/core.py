"""``Mirror``: your own database of Sequin records, kept current by a consumer, queried with
typed lookups. See the package docstring."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from sequin_orm.consumers import Consumer
from sequin_orm.errors import ConfigurationError, ModelError
from sequin_orm.mirror.errors import MalformedRecordError
from sequin_orm.mirror.lookups import expression_of, target
from sequin_orm.mirror.query import QuerySet
from sequin_orm.mirror.rows import ApplyResult, Malformed, latest_rows, row_of
from sequin_orm.mirror.store import Store
from sequin_orm.mirror.tables import records
from sequin_orm.mirror.upsert import get_or_create, upsert_by_key
from sequin_orm.mirror.worker import Worker
from sequin_orm.model import Model
from sequin_orm.reading import DEFAULT_PAGE_SIZE, RecordManager
from sequin_orm.registry import model_for
from sequin_orm.requestor import HasRequestor
from sequin_orm.results import CommitResult

__all__ = ["DEFAULT_URL", "ApplyResult", "Mirror"]

logger = logging.getLogger("sequin_orm.mirror")

#: The embedded default: a SQLite file in the working directory.
DEFAULT_URL = "sqlite:///sequin-mirror.db"
DEFAULT_BATCH_SIZE = 100

_M = TypeVar("_M", bound=Model)


class Mirror:
    """A local database of Sequin records (SQLite or PostgreSQL), filled from an HTTP consumer
    (``pull``, ``run``), ``/v1/records`` (``backfill``) or your webhooks (``apply``), and
    queried with ``query(Model)`` or, once configured, ``Model.objects.filter(...)``.

    ``client``: the client whose consumer and records API fill it (default: the default
    client). ``read_your_writes=True``: every save through a client configured with this
    mirror waits until the consumer has delivered it here (a worker must be running).
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        consumer_id: str | None = None,
        client: HasRequestor | None = None,
        read_your_writes: bool = False,
    ) -> None:
        if consumer_id is not None and (not isinstance(consumer_id, str) or not consumer_id):
            raise ConfigurationError("consumer_id must be the id of an HTTP consumer (a string)")
        if read_your_writes and consumer_id is None:
            raise ConfigurationError(
                "read_your_writes=True awaits the mirror's consumer: pass consumer_id="
            )
        self._store = Store(url)
        self._consumer_id = consumer_id
        self._read_your_writes = read_your_writes
        self.client = client
        self._worker = Worker(self._pull_batch)

    def __repr__(self) -> str:
        return f"Mirror({self._store.safe_url!r}, consumer_id={self._consumer_id!r})"

    @property
    def consumer_id(self) -> str | None:
        """The HTTP consumer that feeds this mirror."""
        return self._consumer_id

    @property
    def read_your_writes(self) -> bool:
        """Whether saves through clients configured with this mirror await its consumer."""
        return self._read_your_writes

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._store.dialect

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (to join the tables to your own, or to inspect)."""
        return self._store.engine

    def create_tables(self) -> None:
        """Create the tables if missing (idempotent; also done on first use)."""
        self._store.create_tables()

    def close(self) -> None:
        """Stop a running worker and close the database connections."""
        self.stop()
        self._store.dispose()

    # -- filling it --------------------------------------------------------------------------

    def apply(self, records: Iterable[Any]) -> int:
        """Store record dicts (from a webhook, a consumer, ``/v1/records``): one transaction,
        last write wins. Returns how many were accepted; raises ``MalformedRecordError`` after
        storing the others when some cannot be stored."""
        rows, refused = self._rows_of(list(records))
        self._write(list(rows.values()))
        if refused:
            raise MalformedRecordError(refused, len(rows))
        return len(rows)

    def pull(self, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
        """Drain the consumer once (hits the network and the database): receive a batch, store
        it in one transaction, ack it after the commit; until a receive comes back empty.
        Returns how many records were stored.

        Messages whose record cannot be stored are not acked (they come back after the
        consumer's ``ack_wait_ms``); ``MalformedRecordError`` names them at the end. A database
        error raises ``MirrorDatabaseError`` with the batch rolled back and nothing acked.
        """
        stored, refused = 0, list[tuple[str, str]]()
        while True:
            result = self._pull_batch(batch_size, 0)
            stored += result.stored
            refused += result.refused
            if not result.acked and not result.refused:
                break
        if refused:
            raise MalformedRecordError(refused, stored)
        return stored

    def run(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        wait_for: int = 5_000,
        handle_signals: bool = True,
    ) -> None:
        """The worker loop (hits the network and the database): long-poll the consumer
        (``wait_for`` ms), store and ack, until ``stop()`` — or SIGINT/SIGTERM when it runs on
        the main thread. Errors are logged and retried with a growing pause (up to 30 s)."""
        self._require_consumer()
        self._worker.run(batch_size, wait_for, handle_signals=handle_signals)

    def stop(self) -> None:
        """Ask a running ``run()`` to return (after the batch in hand)."""
        self._worker.stop()

    def backfill(
        self,
        model: type[Model] | str,
        sync_id: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Page ``/v1/records`` of a collection into the mirror (hits the network), each page
        one transaction with its cursor, so a second call resumes where the first stopped.
        ``progress(stored_so_far)`` is called after each page. Returns how many were stored."""
        cls = model_for(model) if isinstance(model, str) else model
        key = f"cursor:{cls.collection_id}:{sync_id or '*'}"
        manager = RecordManager(cls, self.client)
        stored, refused = 0, list[tuple[str, str]]()
        for page in manager.iter_pages(
            sync_id=sync_id, limit=page_size, after_cursor=self._store.read_state(key)
        ):
            rows, bad = self._rows_of(list(page.records))
            with self._store.transaction() as connection:
                self._store.upsert(connection, latest_rows(rows.values()))
                if page.cursor is not None:
                    self._store.write_state(connection, key, page.cursor)
            stored, refused = stored + len(rows), refused + bad
            if progress is not None:
                progress(stored)
        if refused:
            raise MalformedRecordError(refused, stored)
        return stored

    def _pull_batch(self, batch_size: int, wait_for: int) -> ApplyResult:
        """One receive, one transaction, then the ack of what was stored."""
        consumer = self._consumer()
        messages, _info = consumer.receive_raw(batch_size, wait_for)
        rows, refused = self._rows_of([message.get("record") for message in messages])
        tokens = [messages[position]["ack_token"] for position in rows]
        self._write(list(rows.values()))
        consumer.ack_all(tokens)  # only after the commit: a crash before it means redelivery
        return ApplyResult(len(rows), tuple(tokens), tuple(refused))

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self._store.transaction() as connection:
                self._store.upsert(connection, latest_rows(rows))

    def _rows_of(self, items: list[Any]) -> tuple[dict[int, dict[str, Any]], list[tuple[str, str]]]:
        """The rows of the records that can be stored, by position, and why the others
        cannot."""
        rows: dict[int, dict[str, Any]] = {}
        refused: list[tuple[str, str]] = []
        now = _now()
        for position, item in enumerate(items):
            try:
                rows[position] = row_of(item, now)
            except Malformed as bad:
                refused.append((bad.what, bad.why))
        return rows, refused

    def _require_consumer(self) -> str:
        if self._consumer_id is None:
            raise ConfigurationError(
                "This mirror has no consumer: Mirror(url, consumer_id='<HTTP consumer id>') "
                "(create one with client.consumers.create(stream_id=...))"
            )
        return self._consumer_id

    def _consumer(self) -> Consumer:
        return Consumer(self._require_consumer(), client=self.client)

    # -- querying it -------------------------------------------------------------------------

    def query(self, model: type[_M]) -> QuerySet[_M]:
        """A lazy query over the live mirrored records of ``model`` (no query yet)."""
        return QuerySet(self, model)

    def index(self, model: type[Model], *names: str) -> str:
        """Create (if missing) an index for equality lookups on these fields of ``model``, so
        ``filter(Email=…)`` is an index scan. Returns the index's name."""
        if not names:
            raise ModelError("index() takes at least one field name")
        found = [target(model, name) for name in names]
        if self.dialect == "postgresql" and any(t.kind in ("date", "datetime") for t in found):
            raise ModelError("index() covers text, number and boolean fields")
        suffix = "_".join(n.lower() for n in names)
        name = f"ix_sequin_{model.collection_id.replace(':', '_')}_{suffix}"[:63]
        columns = [expression_of(t, self.dialect) for t in found]
        # upstream_id last: the index also gives the default order, so the planner takes it
        index = sa.Index(name, records.c.collection_id, *columns, records.c.upstream_id)
        records.indexes.discard(index)  # not part of the shared table: create_all leaves it
        self._store.create_index(index)
        return name

    def fetch_rows(self, query: sa.Select[Any]) -> list[sa.RowMapping]:
        """Run a SELECT on the mirror's database (queries it)."""
        return self._store.rows(query)

    def fetch_scalar(self, query: sa.Select[Any]) -> Any:
        """The first value a SELECT returns, or None (queries the database)."""
        return self._store.scalar(query)

    # -- writing through it --------------------------------------------------------------------

    def upsert(
        self,
        model: type[Model],
        rows: Iterable[Mapping[str, Any]],
        *,
        key: str | Sequence[str],
        client: HasRequestor | None = None,
    ) -> CommitResult:
        """``Model.objects.upsert(rows, key=...)``: see ``sequin_orm.mirror.upsert``. The
        commit goes through ``client`` (default: the default client), not the client that
        fills the mirror."""
        return upsert_by_key(self.query(model), rows, key=key, client=client)

    def get_or_create(
        self,
        model: type[_M],
        lookups: Mapping[str, Any],
        *,
        defaults: Mapping[str, Any] | None = None,
        client: HasRequestor | None = None,
    ) -> tuple[_M, bool]:
        """``Model.objects.get_or_create(...)``: see ``sequin_orm.mirror.upsert``."""
        return get_or_create(self.query(model), lookups, defaults, client)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
