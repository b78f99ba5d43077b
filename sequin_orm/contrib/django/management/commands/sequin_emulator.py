"""``manage.py sequin_emulator ...``: run the local Sequin API emulator (`sequin-orm emulator`)."""

from __future__ import annotations

from sequin_orm.contrib.django.management.commands._delegate import DelegatingCommand


class Command(DelegatingCommand):
    help = "Run a local, in-memory Sequin API (same arguments as `sequin-orm emulator`)."
    module = "sequin_orm.emulator.cli"
