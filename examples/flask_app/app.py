"""Run the Flask demo: ``python examples/flask_app/app.py`` then open http://127.0.0.1:5000/.

Without ``SEQUIN_API_TOKEN`` in the environment it first starts the Sequin emulator (demo
seed) on a free loopback port and points the app at it; with a token (and
``SEQUIN_SYNC_SALESFORCE``) it talks to the real API.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contacts_app import create_app

from sequin_orm.emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sequin-orm Flask demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    if os.environ.get("SEQUIN_API_TOKEN"):
        create_app().run(args.host, args.port, use_reloader=False)
        return 0
    emulator = Emulator(seed="demo")
    with emulator.serve() as url:
        print(f"Sequin emulator (demo seed) on {url}", flush=True)
        app = create_app(
            {
                "SEQUIN_API_TOKEN": emulator.token,
                "SEQUIN_BASE_URL": url,
                "SEQUIN_SYNCS": {"salesforce": emulator.seeded["salesforce_sync"]},
            }
        )
        app.run(args.host, args.port, use_reloader=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
