"""Test helpers: run the code under test against a fresh in-memory Sequin emulator.

With Django's test classes::

    from django.test import TestCase
    from sequin_orm.contrib.django.testing import SequinTestMixin

    class ContactFormTests(SequinTestMixin, TestCase):
        def test_creates_a_contact(self):
            with self.captureOnCommitCallbacks(execute=True):
                self.client.post("/", {...})
            [create] = self.sequin_mutations("create")
            assert create["records"][0]["data"]["LastName"] == "Atreides"

``TestCase`` runs every test in a transaction that is never committed, so the middleware's
commit waits for ``on_commit``: wrap the request in ``captureOnCommitCallbacks(execute=True)``
(pytest-django: the ``django_capture_on_commit_callbacks`` fixture), or use
``TransactionTestCase``/``SimpleTestCase`` where the commit happens at the end of the request.

With pytest::

    @pytest.fixture
    def sequin():
        with sequin_emulator() as emu:
            yield emu
"""

from __future__ import annotations

import unittest
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from sequin_orm.client import reset_default_client
from sequin_orm.contrib.django import conf

if TYPE_CHECKING:
    from sequin_orm.client import Client
    from sequin_orm.emulator import Emulator

__all__ = ["SequinTestMixin", "demo_syncs", "sequin_emulator"]


def demo_syncs(emulator: Emulator) -> dict[str, str]:
    """Provider -> sync id of an emulator's seed (``{"salesforce": ..., ...}``)."""
    return {
        name.removesuffix("_sync"): value
        for name, value in emulator.seeded.items()
        if name.endswith("_sync")
    }


@contextmanager
def sequin_emulator(
    emulator: Emulator | None = None,
    *,
    serve: bool = False,
    seed: str | None = "demo",
    syncs: dict[str, str] | None = None,
    **client_options: Any,
) -> Iterator[Emulator]:
    """Point the default client at an emulator for the duration of the block.

    ``emulator`` defaults to a fresh ``Emulator(seed=seed)``. ``serve=True`` talks to it over
    loopback HTTP (``emulator.serve()``) instead of in-process. The seed's syncs are the
    default syncs (``syncs`` adds or replaces some). The client stays in place when
    ``SEQUIN`` changes inside the block (``override_settings``); afterwards the default client
    is rebuilt from ``SEQUIN`` at its next use.
    """
    from sequin_orm.client import configure
    from sequin_orm.emulator import Emulator

    emu = emulator if emulator is not None else Emulator(seed=seed)
    with ExitStack() as stack:
        if serve:
            base_url, transport = stack.enter_context(emu.serve()), None
        else:
            base_url, transport = conf.EMULATOR_BASE_URL, emu.transport()
        client: Client = configure(
            emu.token,
            base_url,
            syncs={**demo_syncs(emu), **(syncs or {})},
            transport=transport,
            **client_options,
        )
        conf.pin_client(client)
        try:
            yield emu
        finally:
            conf.pin_client(None)
            reset_default_client()


if TYPE_CHECKING:
    _MixinBase = unittest.TestCase
else:
    _MixinBase = object


class SequinTestMixin(_MixinBase):
    """Mix into a Django test class: each test gets ``self.sequin_emulator``.

    Set ``sequin_serve = True`` to go through loopback HTTP instead of in-process.
    """

    sequin_serve: ClassVar[bool] = False
    sequin_seed: ClassVar[str | None] = "demo"
    sequin_emulator: Emulator

    def setUp(self) -> None:
        super().setUp()
        helper = sequin_emulator(serve=self.sequin_serve, seed=self.sequin_seed)
        self.sequin_emulator = helper.__enter__()
        self.addCleanup(helper.__exit__, None, None, None)

    def sequin_mutations(self, kind: str | None = None) -> list[Any]:
        """JSON bodies of the mutation requests the emulator received (oldest first)."""
        return [r.json for r in self.sequin_emulator.mutation_requests(kind)]
