"""Writing the mirror: apply(), last write wins, tombstones, refused records, tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sequin_orm.errors import ConfigurationError
from sequin_orm.mirror import MalformedRecordError, Mirror, MirrorDatabaseError
from sequin_orm.mirror.tables import SCHEMA_VERSION, records, state
from sequin_orm.models import salesforce
from tests.mirror.records import record
from tests.pgserver import PASSWORD


def _stored(mirror: Mirror) -> dict[str, tuple[int, bool, object]]:
    rows = mirror.fetch_rows(sa.select(records))
    return {r["upstream_id"]: (r["updated_idx"], r["deleted"], r["data"]) for r in rows}


def test_apply_stores_records_with_their_metadata(mirror: Mirror) -> None:
    assert mirror.apply([record("003A", 5, Email="paul@arrakis.org")]) == 1
    (row,) = mirror.fetch_rows(sa.select(records))
    assert (row["sync_id"], row["collection_id"], row["upstream_id"]) == (
        "sync-sf", "salesforce:contact", "003A",
    )  # fmt: skip
    assert row["data"] == {"LastName": "Atreides", "Email": "paul@arrakis.org"}
    assert (row["updated_idx"], row["deleted"], row["record_id"]) == (5, False, "rec-003A")
    assert row["upstream_created_at"].isoformat() == "2024-11-10T18:39:00.070453+00:00"
    assert row["mirrored_at"].tzinfo is not None


def test_last_write_wins_on_updated_idx(mirror: Mirror) -> None:
    mirror.apply([record("003A", 5, Email="v5")])
    mirror.apply([record("003A", 3, Email="v3")])  # an older version, delivered late
    mirror.apply([record("003A", 5, Email="v5 again")])  # the same version again
    assert _stored(mirror)["003A"][0] == 5
    assert _stored(mirror)["003A"][2] == {"LastName": "Atreides", "Email": "v5"}
    mirror.apply([record("003A", 9, Email="v9")])
    assert _stored(mirror)["003A"][:1] == (9,)


def test_one_batch_keeps_the_newest_version_of_a_record(mirror: Mirror) -> None:
    mirror.apply([record("003A", 7, Email="v7"), record("003A", 2, Email="v2")])
    assert _stored(mirror)["003A"][2] == {"LastName": "Atreides", "Email": "v7"}


def test_deletes_are_tombstones(mirror: Mirror) -> None:
    mirror.apply([record("003A", 1), record("003A", 2, deleted=True)])
    assert _stored(mirror)["003A"][:2] == (2, True)
    assert mirror.query(salesforce.Contact).count() == 0
    assert mirror.query(salesforce.Contact).with_deleted().count() == 1


def test_malformed_records_are_refused_and_the_rest_stored(mirror: Mirror) -> None:
    no_id = record("x")
    del no_id["upstream_id"]
    bad_data = record("003B")
    bad_data["data"] = ["not", "an", "object"]
    with pytest.raises(MalformedRecordError) as caught:
        mirror.apply([no_id, record("003A"), bad_data, "junk"])
    assert caught.value.applied == 1
    assert [why for _, why in caught.value.refused] == [
        "missing upstream_id",
        "data is a list, not a JSON object",
        "it holds no record object (an event consumer?)",
    ]
    assert "3 record(s) refused by the mirror, 1 stored" in str(caught.value)
    assert "record 003B of salesforce:contact: data is a list" in str(caught.value)
    assert set(_stored(mirror)) == {"003A"}


def test_a_collection_without_a_model_is_stored_and_queryable(mirror: Mirror) -> None:
    from sequin_orm import model_for

    mirror.apply([record("a01", collection_id="salesforce:my_object__c", Code__c="X-1")])
    dynamic = model_for("salesforce:my_object__c")
    (found,) = mirror.query(dynamic).filter(Code__c="X-1")
    assert found.extra["Code__c"] == "X-1" and found.upstream_id == "a01"


def test_create_tables_is_idempotent_and_records_the_schema_version(database_url: str) -> None:
    mirror = Mirror(database_url)
    mirror.create_tables()
    mirror.create_tables()
    version = mirror.fetch_scalar(sa.select(state.c.value).where(state.c.key == "schema_version"))
    assert version == str(SCHEMA_VERSION)
    mirror.close()


def test_a_newer_schema_is_refused(database_url: str) -> None:
    mirror = Mirror(database_url)
    mirror.create_tables()
    with mirror.engine.begin() as connection:
        connection.execute(state.update().values(value=str(SCHEMA_VERSION + 1)))
    again = Mirror(database_url)
    with pytest.raises(ConfigurationError, match="upgrade sequin-orm"):
        again.create_tables()
    mirror.close()
    again.close()


def test_tables_are_created_on_first_use(database_url: str) -> None:
    mirror = Mirror(database_url)
    assert mirror.query(salesforce.Contact).count() == 0
    mirror.close()


def test_bad_urls_are_configuration_errors_without_the_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Mirror(f"not a url {PASSWORD}")
    assert PASSWORD not in str(caught.value)
    with pytest.raises(ConfigurationError, match="SQLite or PostgreSQL"):
        Mirror(f"mysql://u:{PASSWORD}@localhost/db")


def test_the_password_never_shows(tmp_path: object) -> None:
    url = f"postgresql+psycopg://sequin:{PASSWORD}@127.0.0.1:1/nowhere"  # nothing listens
    mirror = Mirror(url, consumer_id="c")
    assert PASSWORD not in repr(mirror)
    with pytest.raises(MirrorDatabaseError) as caught:
        mirror.apply([record("003A")])
    text = f"{caught.value} {caught.value.__cause__!r} {caught.value.__cause__}"
    assert "failed" in str(caught.value) and PASSWORD not in text
    mirror.close()
