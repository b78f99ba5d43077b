"""Querying the mirror: lookups compared by the field's type, ordering, slices, get, count,
exists, deleted records, sessions, and an index the query plan uses — on both engines."""

from __future__ import annotations

import datetime

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ModelError, NotFoundError, UnknownFieldError
from sequin_orm.mirror import Mirror, MultipleRecordsError
from sequin_orm.models import salesforce
from tests.mirror.records import record


@pytest.fixture
def contacts(mirror: Mirror) -> Mirror:
    mirror.apply(
        [
            record("003A", FirstName="Paul", Email="paul@arrakis.org", Birthdate="2000-01-02",
                   EmailBouncedDate="2024-03-01T10:00:00.000+0000", DoNotCall=True),
            record("003B", FirstName="Leto", LastName="Atreides", Email="LETO@ARRAKIS.org",
                   Birthdate="1970-05-06", EmailBouncedDate="2024-03-01T09:30:00Z"),
            record("003C", FirstName="Duncan", LastName="Idaho", Email=None,
                   Birthdate="1985-12-31", DoNotCall=False),
            record("003D", FirstName="Gurney", LastName="Halleck", Email="gurney@arrakis.org"),
            record("003E", 2, deleted=True, FirstName="Jamis", Email="jamis@arrakis.org"),
        ]
    )  # fmt: skip
    return mirror


def _ids(objects: object) -> list[str | None]:
    return [o.upstream_id for o in objects]  # type: ignore[attr-defined]


def test_lookups_on_text(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    assert _ids(q.filter(Email="paul@arrakis.org")) == ["003A"]
    assert _ids(q.filter(LastName__in=["Idaho", "Halleck"])) == ["003C", "003D"]
    assert _ids(q.filter(Email__contains="arrakis")) == ["003A", "003D"]  # case matters
    assert _ids(q.filter(Email__startswith="LETO")) == ["003B"]
    assert not q.filter(Email__startswith="leto").exists()
    assert _ids(q.filter(Email__icontains="ARRAKIS")) == ["003A", "003B", "003D"]
    assert _ids(q.filter(FirstName__startswith="Du")) == ["003C"]
    assert _ids(q.filter(Email__isnull=True)) == ["003C"]
    assert _ids(q.exclude(Email__isnull=True)) == ["003A", "003B", "003D"]
    assert _ids(q.filter(FirstName__gt="Gurney")) == ["003A", "003B"]
    assert _ids(q.filter(upstream_id="003B")) == ["003B"]
    assert _ids(q.filter(upstream_id__in=["003A", "003E"])) == ["003A"]  # 003E is deleted


def test_like_patterns_in_values_are_literal(contacts: Mirror) -> None:
    assert not contacts.query(salesforce.Contact).filter(Email__contains="%").exists()
    assert not contacts.query(salesforce.Contact).filter(FirstName__startswith="_aul").exists()


def test_dates_datetimes_and_booleans_compare_as_such(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    assert _ids(q.filter(Birthdate__gte=datetime.date(1985, 12, 31))) == ["003A", "003C"]
    assert _ids(q.filter(Birthdate__lt="1980-01-01")) == ["003B"]
    # +0000 and Z in the data, an aware datetime in another zone in the lookup
    cet = datetime.timezone(datetime.timedelta(hours=1))
    assert _ids(q.filter(EmailBouncedDate__gt=datetime.datetime(2024, 3, 1, 10, 45, tzinfo=cet)))\
        == ["003A"]  # fmt: skip
    assert _ids(q.filter(EmailBouncedDate__lte=datetime.datetime(2024, 3, 1, 9, 30))) == ["003B"]
    assert _ids(q.filter(DoNotCall=True)) == ["003A"]
    assert _ids(q.filter(DoNotCall=False)) == ["003C"]


def test_numbers_compare_as_numbers(mirror: Mirror) -> None:
    mirror.apply(
        [
            record(f"001{n}", collection_id="salesforce:account", Name=f"A{n}",
                   NumberOfEmployees=employees, AnnualRevenue=revenue)
            for n, (employees, revenue) in enumerate([(9, 2.5), (10, 10.0), (100, 1e9)])
        ]
    )  # fmt: skip
    q = mirror.query(salesforce.Account)
    assert _ids(q.filter(NumberOfEmployees__gt=9)) == ["0011", "0012"]  # as text, "9" > "10"
    assert _ids(q.filter(AnnualRevenue__lte=10)) == ["0010", "0011"]
    assert _ids(q.order_by("-NumberOfEmployees")) == ["0012", "0011", "0010"]
    assert _ids(q.filter(NumberOfEmployees__in=[9, 100])) == ["0010", "0012"]


def test_order_by_slices_first_count_exists(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    assert _ids(q.order_by("FirstName")) == ["003C", "003D", "003B", "003A"]
    assert _ids(q.order_by("-FirstName")[1:3]) == ["003B", "003D"]
    assert _ids(q.order_by("-FirstName")[1:3][1:]) == ["003D"]
    assert q.order_by("FirstName")[2].upstream_id == "003B"
    with pytest.raises(IndexError):
        q[10]
    first = q.order_by("-Birthdate").first()
    assert first is not None and first.upstream_id == "003A"
    assert q.filter(Email="nobody").first() is None
    assert (q.count(), q[:2].count(), q.filter(LastName="Atreides").count()) == (4, 2, 2)
    assert q.exists() and not q.filter(FirstName="Feyd").exists()


def test_get(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    paul = q.get(Email="paul@arrakis.org")
    assert (paul.FirstName, paul.Birthdate) == ("Paul", datetime.date(2000, 1, 2))
    with pytest.raises(NotFoundError, match="matches Email='feyd@"):
        q.get(Email="feyd@giedi.org")
    with pytest.raises(MultipleRecordsError, match="More than one"):
        q.get(LastName="Atreides")
    with pytest.raises(NotFoundError):
        q.get(upstream_id="003E")  # deleted


def test_deleted_records_only_with_deleted(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    assert not q.filter(FirstName="Jamis").exists()
    (jamis,) = q.with_deleted().filter(FirstName="Jamis")
    assert jamis.deleted is True


def test_results_are_clean_typed_models_with_metadata(contacts: Mirror) -> None:
    paul = contacts.query(salesforce.Contact).get(upstream_id="003A")
    assert isinstance(paul, salesforce.Contact) and not paul.is_dirty
    assert (paul.sync_id, paul.record_id, paul.updated_idx) == ("sync-sf", "rec-003A", 1)
    assert paul.upstream_updated_at == "2024-11-10T18:40:00Z"
    assert paul.EmailBouncedDate == datetime.datetime(2024, 3, 1, 10, tzinfo=datetime.timezone.utc)


def test_results_join_the_session_and_save_as_updates(
    mirror: Mirror, client: sequin_orm.Client, emulator: Emulator
) -> None:
    created = emulator.create_record("sync-sf", "salesforce:contact", {"LastName": "Atreides",
                                     "Email": "paul@arrakis.org"})  # fmt: skip
    mirror.pull()
    emulator.clear_requests()
    with sequin_orm.Session(client) as session:
        paul = mirror.query(salesforce.Contact).get(Email="paul@arrakis.org")
        again = mirror.query(salesforce.Contact).filter(LastName="Atreides").first()
        assert again is paul and paul in session
        paul.Title = "Duke"
    (sent,) = emulator.mutation_requests()
    assert sent.json["kind"] == "update"
    assert sent.json["records"] == [
        {"upstream_id": created["upstream_id"], "data": {"Title": "Duke"}}
    ]


def test_bad_lookups_fail_before_any_query(contacts: Mirror) -> None:
    q = contacts.query(salesforce.Contact)
    with pytest.raises(UnknownFieldError, match="has no field 'Emial'"):
        q.filter(Emial="x")
    with pytest.raises(ModelError, match=r"has no field 'Email__startwith'.*lookups are"):
        q.filter(Email__startwith="x")
    with pytest.raises(ModelError, match="has no field 'Nope'"):
        q.order_by("-Nope")
    with pytest.raises(ModelError, match="compares dates"):
        q.filter(Birthdate__gt="yesterday")
    with pytest.raises(ModelError, match="compares text"):
        q.filter(Email=3)
    with pytest.raises(ModelError, match="works on text fields"):
        q.filter(Birthdate__contains="19")
    with pytest.raises(ModelError, match="takes a list"):
        q.filter(LastName__in="Idaho")
    with pytest.raises(ModelError, match="True or False"):
        q.filter(Email__isnull="yes")


def test_an_index_serves_the_equality_lookup(contacts: Mirror) -> None:
    name = contacts.index(salesforce.Contact, "Email")
    assert contacts.index(salesforce.Contact, "Email") == name  # idempotent
    query = contacts.query(salesforce.Contact).filter(Email="paul@arrakis.org")._select()
    sql = str(query.compile(contacts.engine, compile_kwargs={"literal_binds": True}))
    with contacts.engine.connect() as connection:
        if contacts.dialect == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # 4 rows: force the choice
            plan = " ".join(r[0] for r in connection.exec_driver_sql(f"EXPLAIN {sql}"))
        else:
            plan = " ".join(r[-1] for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert name in plan, plan
    assert _ids(contacts.query(salesforce.Contact).filter(Email="paul@arrakis.org")) == ["003A"]


def test_index_refuses_unknown_fields(mirror: Mirror) -> None:
    with pytest.raises(ModelError, match="no field 'Emial'"):
        mirror.index(salesforce.Contact, "Emial")
    with pytest.raises(ModelError, match="at least one"):
        mirror.index(salesforce.Contact)


def test_nested_fields_are_paths_into_data(mirror: Mirror) -> None:
    from sequin_orm.models import hubspot

    field = next(f for f in hubspot.Contact._spec.fields if len(f.path) == 2)
    data = {field.path[0]: {field.path[1]: "x@y.org"}}
    mirror.apply([record("h1", collection_id="hubspot:contact", sync_id="sync-hs", **data)])
    mirror.index(hubspot.Contact, field.name)
    assert _ids(mirror.query(hubspot.Contact).filter(**{field.name: "x@y.org"})) == ["h1"]
