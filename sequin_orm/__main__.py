"""``python -m sequin_orm``: the ``sequin-orm`` command line."""

from sequin_orm.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
