"""The mirror's database: engine, tables, the last-write-wins upsert, reads (SQLAlchemy Core).

Every write is one transaction; a database error rolls it back and is raised as
``MirrorDatabaseError`` whose message never holds the URL's password (nor, with
``hide_parameters``, any record data).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateIndex

from sequin_orm.errors import ConfigurationError
from sequin_orm.mirror.errors import MirrorDatabaseError
from sequin_orm.mirror.lookups import sequin_utc
from sequin_orm.mirror.tables import SCHEMA_VERSION, SCHEMA_VERSION_KEY, metadata, records, state

__all__ = ["Store"]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _engine(url: str) -> Engine:
    """An engine for ``url``; ``ConfigurationError`` (without the URL) when it is not one."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError:
        raise ConfigurationError(
            "The mirror URL is not a database URL; use sqlite:///path/to/mirror.db or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"The mirror runs on SQLite or PostgreSQL, not {parsed.get_backend_name()!r}"
        )
    options: dict[str, Any] = {
        "json_serializer": _json,
        "json_deserializer": orjson.loads,
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": 30}  # wait for another writer, not fail
    else:
        options.update(pool_size=5, max_overflow=5)
    try:
        engine = sa.create_engine(parsed, **options)
    except (exc.ArgumentError, ImportError) as error:
        raise ConfigurationError(
            f"Cannot open the mirror database ({type(error).__name__}); the drivers come with "
            'pip install "sequin-orm[mirror]"'
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _register_sqlite_functions)
    return engine


def _register_sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("sequin_utc", 1, sequin_utc, deterministic=True)


def _last_write_wins(insert: Any) -> Any:
    """``insert`` (of records) that updates a stored row only for a higher ``updated_idx``."""
    return insert.on_conflict_do_update(
        index_elements=[c.name for c in records.primary_key],
        set_={c.name: insert.excluded[c.name] for c in records.c if not c.primary_key},
        where=insert.excluded.updated_idx > records.c.updated_idx,
    )


def _postgres_batch_insert(dialect: sa.Dialect) -> str:
    """PostgreSQL: ONE statement per batch, its rows in ONE JSONB parameter unpacked by
    ``jsonb_to_recordset`` (an executemany costs a round trip per row, a multi-row VALUES a
    compilation per batch). Compiled here, once: SQLAlchemy does not cache the dialect's
    ``INSERT … ON CONFLICT`` statements, and compiling it cost 1.3 ms per batch."""
    typed = [
        sa.column(c.name, JSONB() if c.name == "data" else c.type.dialect_impl(dialect))
        for c in records.c
    ]
    batch = sa.func.jsonb_to_recordset(sa.bindparam("batch", type_=JSONB))
    rows = batch.table_valued(*typed).render_derived(with_types=True)
    names = [c.name for c in records.c]
    select = sa.select(*(rows.c[name] for name in names))
    statement = _last_write_wins(postgresql.insert(records).from_select(names, select))
    return str(statement.compile(dialect=dialect))


class Store:
    """One database: created tables, upserts, cursors and reads."""

    def __init__(self, url: str) -> None:
        self.engine = _engine(url)
        #: Reads need no transaction: no BEGIN and no ROLLBACK round trip around each query.
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.dialect = self.engine.dialect.name
        if self.dialect == "postgresql":
            self._batch_insert = _postgres_batch_insert(self.engine.dialect)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def safe_url(self) -> str:
        """The URL with its password masked (for reprs and logs)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, rolled back on an error (a
        database error is raised as ``MirrorDatabaseError``)."""
        self.ensure_tables()
        with self._database_errors(), self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except exc.SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            raise MirrorDatabaseError(
                f"The mirror database ({self.safe_url}) failed: {type(cause).__name__}: "
                f"{str(cause).splitlines()[0] if str(cause) else ''}"
            ) from error

    # -- tables ----------------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create the tables if missing and record the schema version (idempotent)."""
        with self._database_errors(), self.engine.begin() as connection:
            metadata.create_all(connection)
            found = connection.execute(
                sa.select(state.c.value).where(state.c.key == SCHEMA_VERSION_KEY)
            ).scalar()
            if found is None:
                connection.execute(
                    self._insert(state)
                    .values(key=SCHEMA_VERSION_KEY, value=str(SCHEMA_VERSION))
                    .on_conflict_do_nothing()
                )
            elif int(found) > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"The mirror's tables are at schema version {found}, newer than this "
                    f"sequin-orm knows ({SCHEMA_VERSION}): upgrade sequin-orm"
                )
        self._ready = True

    def ensure_tables(self) -> None:
        """``create_tables()`` once per process (first use)."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.create_tables()

    def create_index(self, index: sa.Index) -> None:
        """Create an index on ``sequin_records`` if missing."""
        self.ensure_tables()
        with self._database_errors(), self.engine.begin() as connection:
            connection.execute(CreateIndex(index, if_not_exists=True))

    # -- writes ----------------------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return dialect_insert(table)

    def upsert(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows, or update the stored ones **only where the new ``updated_idx`` is
        higher** (last write wins; a redelivered or older version changes nothing). The rows
        must have distinct keys (``rows.latest_rows``)."""
        if self.dialect == "postgresql":
            batch = orjson.dumps(list(rows)).decode()
            connection.exec_driver_sql(self._batch_insert, {"batch": batch})
        else:
            connection.execute(_last_write_wins(sqlite.insert(records)), list(rows))

    def write_state(self, connection: Connection, key: str, value: str) -> None:
        """Set a state row (a backfill cursor)."""
        insert = self._insert(state).values(key=key, value=value)
        connection.execute(
            insert.on_conflict_do_update(index_elements=["key"], set_={"value": value})
        )

    # -- reads -----------------------------------------------------------------------------

    def read_state(self, key: str) -> str | None:
        """A state row's value, if set."""
        found = self.scalar(sa.select(state.c.value).where(state.c.key == key))
        return None if found is None else str(found)

    def rows(self, query: sa.Select[Any]) -> list[sa.RowMapping]:
        """The rows of a SELECT, as mappings."""
        self.ensure_tables()
        with self._database_errors(), self._reader.connect() as connection:
            return list(connection.execute(query).mappings())

    def scalar(self, query: sa.Select[Any]) -> Any:
        """The first column of the first row of a SELECT, or None."""
        self.ensure_tables()
        with self._database_errors(), self._reader.connect() as connection:
            return connection.execute(query).scalar()

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()
