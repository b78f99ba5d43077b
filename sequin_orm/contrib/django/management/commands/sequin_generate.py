"""``manage.py sequin_generate ...``: generate typed model classes (``sequin-orm generate``)."""

from __future__ import annotations

from sequin_orm.contrib.django.management.commands._delegate import DelegatingCommand


class Command(DelegatingCommand):
    help = "Generate typed model classes from a schema (same arguments as `sequin-orm generate`)."
    module = "sequin_orm.codegen.cli"
