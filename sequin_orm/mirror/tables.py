"""The mirror's tables (SQLAlchemy Core), shaped like Sequin's own Postgres consumer table.

``sequin_records``: one row per ``(sync_id, collection_id, upstream_id)``, the record's
``data`` as JSONB on PostgreSQL and JSON on SQLite, its ``updated_idx`` (last write wins),
``deleted`` (tombstones stay), Sequin's timestamps and id, and when it was mirrored.
``sequin_mirror_state``: key/value rows — the schema version and the backfill cursors.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

__all__ = ["SCHEMA_VERSION", "SCHEMA_VERSION_KEY", "metadata", "records", "state"]

#: Bump when the tables change, with a migration from the version before.
SCHEMA_VERSION = 1
SCHEMA_VERSION_KEY = "schema_version"


class UTCDateTime(sa.TypeDecorator[datetime.datetime]):
    """A timestamp kept in UTC: ``timestamptz`` on PostgreSQL; on SQLite (no time zones) the
    UTC wall time, read back as an aware datetime."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if not isinstance(value, datetime.datetime):
            return None
        moment: datetime.datetime = value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        moment = moment.astimezone(datetime.timezone.utc)
        return moment if dialect.name == "postgresql" else moment.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime.datetime | None:
        if not isinstance(value, datetime.datetime):
            return None
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


JSONData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

records = sa.Table(
    "sequin_records",
    metadata,
    sa.Column("sync_id", sa.String(64), primary_key=True),
    sa.Column("collection_id", sa.String(255), primary_key=True),
    sa.Column("upstream_id", sa.String(255), primary_key=True),
    sa.Column("data", JSONData, nullable=False),
    sa.Column("updated_idx", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("upstream_created_at", UTCDateTime),
    sa.Column("upstream_updated_at", UTCDateTime),
    sa.Column("record_id", sa.String(64)),
    sa.Column("mirrored_at", UTCDateTime, nullable=False),
    # a query names the collection first (and the sync sometimes): this index serves both
    sa.Index("ix_sequin_records_collection", "collection_id", "upstream_id"),
)

state = sa.Table(
    "sequin_mirror_state",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
