"""SequinSessionMiddleware: what a request sends, and when it sends nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from django.db import connections, transaction
from django.test import AsyncClient, Client, override_settings

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce
from tests.contrib.django.helpers import last_names, mutations
from tests.contrib.django.testapp.models import Note

# --- successful requests send exactly the batched requests ------------------------------------


def test_a_successful_request_sends_one_create_request_with_every_contact(emu: Emulator) -> None:
    response = Client().get("/create/", {"marker": "ok", "count": "3"})

    assert response.status_code == 200
    [body] = mutations(emu)
    assert body == {
        "kind": "create",
        "sync_id": emu.seeded["salesforce_sync"],
        "collection_id": "salesforce:contact",
        "records": [{"data": {"LastName": f"ok-{i}"}} for i in range(3)],
    }
    assert [r["data"]["LastName"] for r in emu.records("salesforce:contact")] == [
        "ok-0",
        "ok-1",
        "ok-2",
    ]


def test_creates_updates_and_deletes_of_one_request_are_one_request_each(emu: Emulator) -> None:
    with sequin_orm.Session():
        existing = [salesforce.Contact(LastName=f"old-{i}") for i in range(3)]
        for contact in existing:
            contact.save()
    emu.clear_requests()
    ids = [c.upstream_id for c in existing]
    assert all(ids)

    response = Client().get(
        "/mixed/",
        {"update": f"{ids[0]},{ids[1]}", "delete": ids[2], "marker": "new", "count": "2"},
    )

    assert response.status_code == 200
    sync_id = emu.seeded["salesforce_sync"]
    assert mutations(emu) == [
        {
            "kind": "create",
            "sync_id": sync_id,
            "collection_id": "salesforce:contact",
            "records": [{"data": {"LastName": "new-0"}}, {"data": {"LastName": "new-1"}}],
        },
        {
            "kind": "update",
            "sync_id": sync_id,
            "collection_id": "salesforce:contact",
            "records": [
                {"upstream_id": ids[0], "data": {"Title": "Updated"}},
                {"upstream_id": ids[1], "data": {"Title": "Updated"}},
            ],
        },
        {
            "kind": "delete",
            "sync_id": sync_id,
            "collection_id": "salesforce:contact",
            "upstream_ids": [ids[2]],
        },
    ]


def test_a_redirect_counts_as_success(emu: Emulator) -> None:
    response = Client().get("/status/", {"status": "302", "marker": "moved"})

    assert response.status_code == 302
    assert [last_names(b) for b in mutations(emu)] == [["moved-0"]]


def test_a_request_without_changes_sends_nothing(emu: Emulator) -> None:
    Client().get("/create/", {"count": "0"})

    assert emu.requests == []


def test_an_explicit_commit_in_the_view_leaves_nothing_for_the_middleware(emu: Emulator) -> None:
    response = Client().get("/explicit/", {"marker": "explicit", "count": "2"})

    assert response.json() == {"summary": "2 created in 1 request(s)"}
    assert [last_names(b) for b in mutations(emu)] == [["explicit-0", "explicit-1"]]


def test_the_session_is_current_only_during_the_request(emu: Emulator) -> None:
    Client().get("/create/", {"marker": "x"})

    assert sequin_orm.current_session() is None


# --- failures send nothing ---------------------------------------------------------------------


def test_a_view_that_raises_sends_nothing(emu: Emulator) -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/raise/", {"marker": "boom", "count": "2"})

    assert response.status_code == 500
    assert emu.mutation_requests() == []


def test_the_exception_still_reaches_the_test_client(emu: Emulator) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        Client().get("/raise/", {"marker": "boom"})
    assert emu.mutation_requests() == []


@pytest.mark.parametrize("status", [400, 403, 404, 422, 500, 503])
def test_an_error_response_sends_nothing(emu: Emulator, status: int) -> None:
    response = Client().get("/status/", {"status": str(status), "marker": "no"})

    assert response.status_code == status
    assert emu.mutation_requests() == []


@override_settings(DEBUG_PROPAGATE_EXCEPTIONS=True)
def test_an_exception_that_crosses_the_middleware_sends_nothing(emu: Emulator) -> None:
    with pytest.raises(RuntimeError):
        Client().get("/raise/", {"marker": "propagated"})

    assert emu.mutation_requests() == []
    assert sequin_orm.current_session() is None


# --- the database transaction gates the Sequin writes -------------------------------------------


@pytest.fixture
def atomic_requests() -> Iterator[None]:
    """ATOMIC_REQUESTS on the default database for one test."""
    settings_dict = connections["default"].settings_dict
    previous = settings_dict["ATOMIC_REQUESTS"]
    settings_dict["ATOMIC_REQUESTS"] = True
    yield
    settings_dict["ATOMIC_REQUESTS"] = previous


@pytest.mark.django_db(transaction=True)
def test_atomic_requests_committed_sends_after_the_database_commit(
    emu: Emulator, atomic_requests: None
) -> None:
    response = Client().get("/note/", {"marker": "atomic"})

    assert response.status_code == 200
    assert list(Note.objects.values_list("text", flat=True)) == ["atomic"]
    assert [last_names(b) for b in mutations(emu)] == [["atomic-0"]]


@pytest.mark.django_db(transaction=True)
def test_atomic_requests_rolled_back_sends_nothing(emu: Emulator, atomic_requests: None) -> None:
    response = Client().get("/note/", {"marker": "undone", "rollback": "1"})

    assert response.status_code == 200  # the view "succeeded" but its transaction rolled back
    assert Note.objects.count() == 0
    assert emu.mutation_requests() == []


@pytest.mark.django_db(transaction=True)
def test_atomic_requests_view_that_raises_sends_nothing(
    emu: Emulator, atomic_requests: None
) -> None:
    Client(raise_request_exception=False).get("/raise/", {"marker": "boom"})

    assert emu.mutation_requests() == []


@pytest.mark.django_db(transaction=True)
def test_changes_made_in_a_rolled_back_block_are_not_sent(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "sequin_orm.contrib.django"):
        response = Client().get("/partial/")

    assert response.status_code == 200
    assert sorted(Note.objects.values_list("text", flat=True)) == ["committed"]
    [body] = mutations(emu)
    assert last_names(body) == ["outside", "committed"]
    assert "1 change(s) not sent" in caplog.text


@pytest.mark.django_db
def test_under_testcase_transactions_the_commit_waits_for_on_commit(
    emu: Emulator, django_capture_on_commit_callbacks: object
) -> None:
    # The `db` fixture runs the test in a transaction, like django.test.TestCase.
    client = Client()
    client.get("/note/", {"marker": "never"})
    assert emu.mutation_requests() == []  # the outer transaction has not committed

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        client.get("/note/", {"marker": "captured"})

    assert [last_names(b) for b in mutations(emu)] == [["captured-0"]]


@pytest.mark.django_db
def test_under_testcase_transactions_a_rolled_back_block_is_still_dropped(
    emu: Emulator, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        Client().get("/partial/")

    [body] = mutations(emu)
    assert last_names(body) == ["outside", "committed"]


@pytest.mark.django_db
@pytest.mark.parametrize(("rollback", "sent"), [("", [["kept-0"]]), ("1", [])])
def test_atomic_requests_under_testcase_transactions(
    emu: Emulator,
    atomic_requests: None,
    django_capture_on_commit_callbacks: object,
    rollback: str,
    sent: list[list[str]],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        Client().get("/note/", {"marker": "kept", "rollback": rollback})

    assert [last_names(b) for b in mutations(emu)] == sent


@pytest.mark.django_db(transaction=True)
def test_a_request_inside_a_callers_atomic_block_sends_only_if_it_commits(
    emu: Emulator,
) -> None:
    with pytest.raises(ValueError), transaction.atomic():
        Client().get("/create/", {"marker": "outer-rolled-back"})
        raise ValueError
    assert emu.mutation_requests() == []

    with transaction.atomic():
        Client().get("/create/", {"marker": "outer-committed"})
        assert emu.mutation_requests() == []
    assert [last_names(b) for b in mutations(emu)] == [["outer-committed-0"]]


# --- a failed commit after the database committed -----------------------------------------------


def test_a_failed_commit_is_logged_and_signalled_not_raised(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    from sequin_orm.contrib.django.signals import commit_failed

    received: list[dict[str, object]] = []

    def receiver(**kwargs: object) -> None:
        received.append(kwargs)

    commit_failed.connect(receiver)
    emu.inject(kind="create", status=400, error="Salesforce validation error: `bad`")
    try:
        with caplog.at_level(logging.ERROR, "sequin_orm.contrib.django"):
            response = Client().get("/create/", {"marker": "fails"})
    finally:
        commit_failed.disconnect(receiver)

    assert response.status_code == 200
    assert "Sequin commit failed after the database committed: 1 failed in 1 request(s)" in (
        caplog.text
    )
    [signal] = received
    result = signal["result"]
    assert isinstance(result, sequin_orm.CommitResult)
    assert [type(o).__name__ for o in result.failed] == ["Contact"]


# --- settings ---------------------------------------------------------------------------------


def test_session_per_request_off_saves_at_once(emu: Emulator) -> None:
    with override_settings(SEQUIN={"API_TOKEN": "t", "SESSION_PER_REQUEST": False}):
        Client().get("/create/", {"marker": "direct", "count": "2"})

    assert [last_names(b) for b in mutations(emu)] == [["direct-0"], ["direct-1"]]


# --- async requests ---------------------------------------------------------------------------


def test_an_async_view_is_committed_after_the_response(emu: Emulator) -> None:
    async def run() -> int:
        response = await AsyncClient().get("/async-create/", {"marker": "async", "count": "2"})
        return int(response.status_code)

    assert asyncio.run(run()) == 200
    assert [last_names(b) for b in mutations(emu)] == [["async-0", "async-1"]]
    assert sequin_orm.current_session() is None


def test_an_async_view_that_raises_sends_nothing(emu: Emulator) -> None:
    async def run() -> int:
        client = AsyncClient(raise_request_exception=False)
        response = await client.get("/async-raise/", {"marker": "boom"})
        return int(response.status_code)

    assert asyncio.run(run()) == 500
    assert emu.mutation_requests() == []


def test_a_sync_view_behind_the_async_handler_is_committed(emu: Emulator) -> None:
    async def run() -> int:
        response = await AsyncClient().get("/create/", {"marker": "sync-in-async"})
        return int(response.status_code)

    assert asyncio.run(run()) == 200
    assert [last_names(b) for b in mutations(emu)] == [["sync-in-async-0"]]


def test_the_middleware_is_async_capable_and_marks_itself() -> None:
    from asgiref.sync import iscoroutinefunction

    from sequin_orm.contrib.django.middleware import SequinSessionMiddleware

    async def get_response(request: object) -> object:
        return request

    assert SequinSessionMiddleware.sync_capable and SequinSessionMiddleware.async_capable
    assert iscoroutinefunction(SequinSessionMiddleware(get_response))
    assert not iscoroutinefunction(SequinSessionMiddleware(lambda request: request))
