"""``Model.objects`` with and without a mirror; upsert by key and get_or_create through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.errors import ConfigurationError, ModelError, NotFoundError
from sequin_orm.mirror import Mirror, MultipleRecordsError
from sequin_orm.models import salesforce
from tests.conftest import SYNCS, TOKEN

ROWS = [
    {"LastName": "Atreides", "FirstName": "Paul", "Email": "paul@arrakis.org"},
    {"LastName": "Idaho", "FirstName": "Duncan", "Email": "duncan@arrakis.org"},
    {"LastName": "Halleck", "FirstName": "Gurney", "Email": "gurney@arrakis.org"},
]


@pytest.fixture
def configured(mirror: Mirror, emulator: Emulator) -> Iterator[Mirror]:
    """The default client configured with the mirror, on the emulator."""
    sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport(),
                         mirror=mirror)  # fmt: skip
    yield mirror


def test_without_a_mirror_queries_say_how_to_set_one_up(emulator: Emulator) -> None:
    sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS, transport=emulator.transport())
    for call in (
        lambda: salesforce.Contact.objects.filter(Email="x"),
        lambda: salesforce.Contact.objects.count(),
        lambda: salesforce.Contact.objects.get(Email="x"),
        lambda: salesforce.Contact.objects.upsert([], key="Email"),
        lambda: salesforce.Contact.objects.get_or_create(Email="x"),
    ):
        with pytest.raises(ConfigurationError, match=r"Mirror\(url, consumer_id=.*configure"):
            call()
    emulator.create_record("sync-sf", "salesforce:contact", {"LastName": "A"}, upstream_id="003X")
    assert salesforce.Contact.objects.get("003X").LastName == "A"  # without a mirror: a scan
    assert [c.upstream_id for c in salesforce.Contact.objects.iter()] == ["003X"]


def test_objects_query_the_configured_mirror(configured: Mirror, emulator: Emulator) -> None:
    for row in ROWS:
        emulator.create_record("sync-sf", "salesforce:contact", dict(row))
    configured.pull()
    emulator.clear_requests()
    objects = salesforce.Contact.objects
    assert objects.count() == 3 and objects.exists()
    paul = objects.filter(Email="paul@arrakis.org").first()
    assert paul is not None and paul.FirstName == "Paul"
    assert objects.get(upstream_id=paul.upstream_id) is not paul  # no session: new objects
    assert objects.get(paul.upstream_id).Email == "paul@arrakis.org"
    assert [c.LastName for c in objects.order_by("-LastName")[:2]] == ["Idaho", "Halleck"]
    assert [c.LastName for c in objects.exclude(LastName__in=["Idaho", "Halleck"])] == ["Atreides"]
    first = objects.first()
    assert first is not None and first.upstream_id == min(
        c.upstream_id or "" for c in objects.all()
    )
    with pytest.raises(NotFoundError):
        objects.get(Email="feyd@giedi.org")
    assert emulator.requests == []  # all of it from the mirror


def test_using_a_client_with_its_own_mirror(mirror: Mirror, emulator: Emulator) -> None:
    mirror.apply([])
    with sequin_orm.Client(TOKEN, "http://127.0.0.1", syncs=SYNCS,
                           transport=emulator.transport(), mirror=mirror) as client:  # fmt: skip
        assert salesforce.Contact.objects.using(client).count() == 0
    with pytest.raises(ConfigurationError):
        salesforce.Contact.objects.count()  # the default client has none


def test_upsert_creates_then_updates_only_what_changed(
    configured: Mirror, emulator: Emulator
) -> None:
    first = salesforce.Contact.objects.upsert(ROWS, key="Email")
    assert first.summary() == "3 created in 1 request(s)"
    configured.pull()  # the worker's job: the mirror catches up
    again = salesforce.Contact.objects.upsert(ROWS, key="Email")
    assert again.summary() == "nothing to do in 0 request(s)"
    emulator.clear_requests()
    changed = [dict(ROWS[0], FirstName="Muad'Dib"), ROWS[1], {"LastName": "Fenring",
               "Email": "margot@fenring.org"}]  # fmt: skip
    third = salesforce.Contact.objects.upsert(changed, key="Email")
    assert third.summary() == "1 created, 1 updated in 2 request(s)"
    (update,) = emulator.mutation_requests("update")
    assert [r["data"] for r in update.json["records"]] == [{"FirstName": "Muad'Dib"}]
    lookups = [r for r in emulator.requests if r.path == "/v1/records"]
    assert lookups == []  # the lookup was one mirror query, not a scan


def test_upsert_commits_through_the_default_client_not_the_mirrors(
    database_url: str, emulator: Emulator, consumer_id: str
) -> None:
    with sequin_orm.Client(TOKEN, "http://127.0.0.1", transport=emulator.transport()) as filler:
        mirror = Mirror(database_url, consumer_id=consumer_id, client=filler)  # no syncs
        sequin_orm.configure(TOKEN, "http://127.0.0.1", syncs=SYNCS,
                             transport=emulator.transport(), mirror=mirror)  # fmt: skip
        assert salesforce.Contact.objects.upsert(ROWS, key="Email").summary() == (
            "3 created in 1 request(s)"
        )
        mirror.close()


def test_upsert_on_a_composite_key_in_chunks(configured: Mirror, emulator: Emulator) -> None:
    from sequin_orm.mirror.query import QuerySet
    from sequin_orm.mirror.upsert import upsert_by_key

    rows = [{"LastName": f"L{i % 3}", "FirstName": f"F{i}", "Email": f"e{i % 2}@x.org"}
            for i in range(6)]  # fmt: skip
    result = upsert_by_key(QuerySet(configured, salesforce.Contact), rows,
                           key=["LastName", "FirstName"], client=None, chunk_size=4)  # fmt: skip
    assert result.summary() == "6 created in 1 request(s)"
    configured.pull()
    rows[5]["Email"] = "new@x.org"
    again = salesforce.Contact.objects.upsert(rows, key=("LastName", "FirstName"))
    assert again.summary() == "1 updated in 1 request(s)"


def test_upsert_refuses_bad_input_before_any_request(
    configured: Mirror, emulator: Emulator
) -> None:
    objects = salesforce.Contact.objects
    with pytest.raises(ModelError, match="'Emial' is not a writable field"):
        objects.upsert(ROWS, key="Emial")
    with pytest.raises(ModelError, match="'Name' is not a writable field"):
        objects.upsert(ROWS, key="Name")
    with pytest.raises(ModelError, match="row 2 has no value for the key Email"):
        objects.upsert([ROWS[0], {"LastName": "X"}], key="Email")
    with pytest.raises(ModelError, match="row 1: Contact has no writable field 'Emial'"):
        objects.upsert([{"Emial": "x"}], key="LastName")
    assert emulator.requests == []


def test_upsert_needs_a_unique_key(configured: Mirror, emulator: Emulator) -> None:
    salesforce.Contact.objects.upsert(ROWS, key="Email")
    salesforce.Contact(LastName="Twin", Email="paul@arrakis.org").save()
    configured.pull()
    emulator.clear_requests()
    with pytest.raises(MultipleRecordsError, match="upsert needs a unique key"):
        salesforce.Contact.objects.upsert([ROWS[0]], key="Email")
    assert emulator.mutation_requests() == []


def test_get_or_create(configured: Mirror, emulator: Emulator) -> None:
    paul, created = salesforce.Contact.objects.get_or_create(
        Email="paul@arrakis.org", defaults={"LastName": "Atreides"}
    )
    assert created and paul.upstream_id is not None and paul.LastName == "Atreides"
    configured.pull()
    again, created = salesforce.Contact.objects.get_or_create(
        Email="paul@arrakis.org", defaults={"LastName": "Other"}
    )
    assert not created and again.upstream_id == paul.upstream_id
    assert len(emulator.mutation_requests("create")) == 1
