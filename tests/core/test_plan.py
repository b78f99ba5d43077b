"""``plan_commit`` on its own: the requests of a commit from objects grouped by sync (pure)."""

from __future__ import annotations

from sequin_orm.models import salesforce
from sequin_orm.plan import Await, Pending, plan_commit


def _pending(groups: dict[str, list[salesforce.Contact | salesforce.Account]]) -> Pending:
    pending = Pending()
    for sync_id, objects in groups.items():
        pending[sync_id].extend(objects)
    return pending


def test_requests_per_sync_and_collection_chunked_in_the_order_added() -> None:
    contacts = [salesforce.Contact(LastName=f"c{i}") for i in range(5)]
    accounts = [salesforce.Account(Name=f"a{i}") for i in range(2)]
    creates = _pending({"s1": [contacts[0], accounts[0], *contacts[1:4]], "s2": [contacts[4]]})
    updates = _pending({"s2": [accounts[1]]})

    steps = plan_commit(creates, updates, Pending(), batch_size=lambda cls: 2, references={})

    assert [(s.kind, s.sync_id, s.collection_id, s.objects, s.stage) for s in steps] == [
        ("create", "s1", "salesforce:contact", (contacts[0], contacts[1]), 0),
        ("create", "s1", "salesforce:contact", (contacts[2], contacts[3]), 0),
        ("create", "s1", "salesforce:account", (accounts[0],), 0),
        ("create", "s2", "salesforce:contact", (contacts[4],), 0),
        ("update", "s2", "salesforce:account", (accounts[1],), 1),
    ]


def test_a_request_waits_for_the_consumers_of_each_of_its_objects() -> None:
    contacts = [salesforce.Contact(LastName=f"c{i}") for i in range(4)]
    every = Await(("all",), 1_000)
    steps = plan_commit(
        _pending({"s1": contacts}),
        Pending(),
        Pending(),
        batch_size=lambda cls: 2,
        awaiting=every,
        awaiting_of={contacts[3]: Await(("mirror",), 5_000)},
        references={},
    )
    assert [s.awaiting for s in steps] == [every, Await(("mirror", "all"), 5_000)]


def test_new_objects_referring_to_new_ones_are_created_in_a_later_wave() -> None:
    account = salesforce.Account(Name="Atreides")
    paul = salesforce.Contact(LastName="Paul", AccountId=account)
    leto = salesforce.Contact(LastName="Leto")
    steps = plan_commit(
        _pending({"s1": [paul, leto], "s2": [account]}),
        Pending(),
        Pending(),
        batch_size=lambda cls: 10,
        references={paul: [account]},
    )
    assert [(s.sync_id, s.objects, s.stage) for s in steps] == [
        ("s1", (leto,), 0),
        ("s2", (account,), 0),
        ("s1", (paul,), 1),
    ]
