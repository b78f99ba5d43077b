"""The mirror: your own database of Sequin records, with a typed query API.

Sequin's documented read path is *your* database, kept current by a consumer. A ``Mirror`` is
that database (SQLite embedded, PostgreSQL 15+ in production, through SQLAlchemy Core)::

    from sequin_orm.mirror import Mirror

    mirror = Mirror("sqlite:///sequin-mirror.db", consumer_id="8ff58ef0-…")
    mirror.backfill(salesforce.Contact)     # pages /v1/records into it, resumable
    mirror.run()                            # the worker: long-polls the consumer until stopped

    sequin_orm.configure(..., mirror=mirror)
    salesforce.Contact.objects.filter(Email="paul@arrakis.org").first()

Modules: ``tables`` (the schema), ``rows`` (records to rows), ``store`` (engine, upsert,
reads), ``lookups`` (typed conditions), ``query`` (``QuerySet``), ``upsert`` (writes by key),
``worker`` (the loop), ``core`` (``Mirror``). Needs ``pip install "sequin-orm[mirror]"``.
"""

from sequin_orm.mirror.core import DEFAULT_URL, Mirror
from sequin_orm.mirror.errors import (
    MalformedRecordError,
    MirrorDatabaseError,
    MultipleRecordsError,
)
from sequin_orm.mirror.query import QuerySet

__all__ = [
    "DEFAULT_URL",
    "MalformedRecordError",
    "Mirror",
    "MirrorDatabaseError",
    "MultipleRecordsError",
    "QuerySet",
]
