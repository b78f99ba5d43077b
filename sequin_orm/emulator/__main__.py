"""``python -m sequin_orm.emulator``: the same as ``sequin-orm emulator``."""

from sequin_orm.emulator.cli import main

raise SystemExit(main())
