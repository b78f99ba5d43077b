"""``manage.py sequin_syncs [SYNC_ID] [--provider P] [--json]``: list syncs or show one."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_orm.contrib import describe_sync, render_sync, render_syncs
from sequin_orm.contrib.django.conf import get_client
from sequin_orm.errors import SequinError


class Command(BaseCommand):
    help = "List the Sequin syncs of the configured account, or show one sync."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sync_id", nargs="?", help="show this sync")
        parser.add_argument("--provider", help="only syncs of this provider (e.g. salesforce)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            syncs = get_client().syncs
            if options["sync_id"]:
                sync = syncs.get(options["sync_id"])
                text = (
                    json.dumps(describe_sync(sync), indent=2, default=str)
                    if options["json"]
                    else render_sync(sync)
                )
            else:
                found = syncs.list(provider=options["provider"])
                text = render_syncs(found, as_json=options["json"])
        except SequinError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(text)
