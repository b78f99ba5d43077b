"""``manage.py sequin_mirror [--backfill COLLECTION] [--once]``: backfill, then follow the
consumer of ``SEQUIN['MIRROR']`` until Ctrl-C or SIGTERM (``sequin-orm mirror``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_orm.contrib.django.conf import get_client, mirror
from sequin_orm.errors import SequinError
from sequin_orm.mirror.command import run_mirror_command


class Command(BaseCommand):
    help = "Fill the mirror of SEQUIN['MIRROR']: backfill collections, then follow its consumer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backfill", metavar="COLLECTION", action="append",
            help="page /v1/records of this collection first, e.g. salesforce:contact",
        )  # fmt: skip
        parser.add_argument("--once", action="store_true", help="drain the consumer once, exit")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.ending = ""  # the command writes whole lines (and progress in place)
        try:
            get_client()  # the default client, configured with the mirror, fills it
            run_mirror_command(
                mirror(), backfill=options["backfill"] or (), once=options["once"], out=self.stdout
            )
        except SequinError as error:
            raise CommandError(str(error)) from error
