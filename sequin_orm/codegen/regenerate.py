"""Regenerate the bundled models: ``python -m sequin_orm.codegen.regenerate [--check]``.

Rewrites ``sequin_orm/models/<provider>.py`` from ``sequin_orm/codegen/schemas/<provider>.json``.
With ``--check`` (what CI runs) nothing is written and the exit status is 1 when a committed
module differs from what its schema generates.
"""

from __future__ import annotations

import sys

from sequin_orm.codegen.cli import main as _generate

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return _generate(["--bundled", *args])


if __name__ == "__main__":
    raise SystemExit(main())
