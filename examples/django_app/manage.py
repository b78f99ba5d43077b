#!/usr/bin/env python
"""Django's command-line utility for the sequin-orm demo site.

    python examples/django_app/manage.py runserver

Without SEQUIN_API_TOKEN in the environment the site runs against an in-process Sequin
emulator (demo data, nothing leaves the machine).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
