"""``sequin-orm`` command line: dispatches to the subcommands' own modules."""

from __future__ import annotations

import importlib
import sys

_COMMANDS = {
    "emulator": ("sequin_orm.emulator.cli", "run a local Sequin API emulator"),
    "generate": ("sequin_orm.codegen.cli", "generate typed model classes from a schema"),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sequin-orm`` script."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in _COMMANDS:
        print("usage: sequin-orm {" + ",".join(_COMMANDS) + "} ...\n")
        for name, (_, help_text) in _COMMANDS.items():
            print(f"  {name:10} {help_text}")
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(_COMMANDS[args[0]][0])
    code: int = module.main(args[1:])
    return code


if __name__ == "__main__":
    raise SystemExit(main())
