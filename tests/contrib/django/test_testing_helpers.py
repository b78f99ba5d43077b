"""sequin_orm.contrib.django.testing with Django's own test classes and with pytest."""

from __future__ import annotations

from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings

import sequin_orm
from sequin_orm.contrib.django.testing import SequinTestMixin, demo_syncs, sequin_emulator
from sequin_orm.emulator import Emulator
from tests.contrib.django.testapp.models import Note


class TestCaseWithTheMixin(SequinTestMixin, TestCase):
    def test_the_commit_waits_for_on_commit_callbacks(self) -> None:
        self.client.get("/note/", {"marker": "uncaptured"})
        self.assertEqual(self.sequin_mutations(), [])

        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            self.client.get("/note/", {"marker": "captured", "count": "2"})

        self.assertEqual(len(callbacks), 3)  # a confirmation per save, then the commit
        [create] = self.sequin_mutations("create")
        self.assertEqual(
            [r["data"]["LastName"] for r in create["records"]], ["captured-0", "captured-1"]
        )
        self.assertEqual(Note.objects.count(), 2)

    def test_a_failing_view_sends_nothing_even_when_callbacks_run(self) -> None:
        self.client.raise_request_exception = False
        with self.captureOnCommitCallbacks(execute=True):
            self.client.get("/raise/", {"marker": "boom"})
        self.assertEqual(self.sequin_mutations(), [])

    def test_each_test_gets_a_fresh_emulator(self) -> None:
        self.assertEqual(self.sequin_emulator.requests, [])
        self.assertEqual(self.sequin_emulator.records("salesforce:contact"), [])


class TransactionTestCaseWithTheMixin(SequinTestMixin, TransactionTestCase):
    sequin_serve = True  # through loopback HTTP

    def test_the_commit_happens_at_the_end_of_the_request(self) -> None:
        self.client.get("/note/", {"marker": "tx"})

        [create] = self.sequin_mutations("create")
        self.assertEqual(create["records"], [{"data": {"LastName": "tx-0"}}])
        self.assertTrue(sequin_orm.get_client().base_url.startswith("http://127.0.0.1:"))


class SimpleTestCaseWithTheMixin(SequinTestMixin, SimpleTestCase):
    def test_works_without_a_database(self) -> None:
        self.client.get("/create/", {"marker": "simple"})
        self.assertEqual(len(self.sequin_mutations("create")), 1)

    def test_override_settings_does_not_replace_the_emulator_client(self) -> None:
        with override_settings(SEQUIN={"API_TOKEN": "elsewhere"}):
            self.client.get("/create/", {"marker": "pinned"})
        self.assertEqual(len(self.sequin_mutations("create")), 1)


def test_the_context_manager_points_the_default_client_at_the_emulator() -> None:
    with sequin_emulator() as emu:
        client = sequin_orm.get_client()
        assert client.settings.api_token == emu.token
        assert dict(client.default_syncs) == demo_syncs(emu)

    # afterwards the default client comes from SEQUIN again
    from sequin_orm.contrib.django.conf import get_client

    assert get_client().settings.api_token == "settings-token"


def test_the_context_manager_accepts_an_emulator_and_extra_syncs() -> None:
    emulator = Emulator(token="custom")
    with sequin_emulator(emulator, syncs={"salesforce": "sf"}, max_retries=0) as emu:
        assert emu is emulator
        client = sequin_orm.get_client()
        assert client.default_syncs == {"salesforce": "sf"}
        assert client.settings.retry.max_retries == 0
