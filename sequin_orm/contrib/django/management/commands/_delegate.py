"""Base of the commands that hand their arguments to a sequin-orm command line unchanged."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sequin_orm.contrib import run_tool

# Options that manage.py itself understands; they are not passed on.
_DJANGO_OPTIONS_WITH_VALUE = ("--settings", "--pythonpath")
_DJANGO_FLAGS = ("--traceback", "--no-color", "--force-color", "--skip-checks")


def strip_django_options(args: list[str]) -> list[str]:
    """``args`` without ``--settings X``, ``--pythonpath X`` and Django's global flags."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _DJANGO_OPTIONS_WITH_VALUE:
            skip = True
        elif arg.split("=", 1)[0] in _DJANGO_OPTIONS_WITH_VALUE or arg in _DJANGO_FLAGS:
            continue
        else:
            kept.append(arg)
    return kept


class DelegatingCommand(BaseCommand):
    """``manage.py <name> ARGS`` runs ``<module>.main(ARGS)``; ``--help`` is the tool's."""

    module: ClassVar[str]
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*", help="arguments of the sequin-orm command")

    def run_from_argv(self, argv: list[str]) -> None:
        code = self._run(strip_django_options(argv[2:]))
        if code:
            sys.exit(code)

    def handle(self, *args: Any, **options: Any) -> None:
        """``call_command(name, "--", "--port", "0")``: arguments after ``--`` pass through."""
        code = self._run([str(a) for a in args])
        if code:
            raise CommandError(f"{self.module} exited with status {code}", returncode=code)

    def _run(self, args: list[str]) -> int:
        try:
            return run_tool(self.module, args)
        except ImportError as error:
            raise CommandError(str(error)) from error
