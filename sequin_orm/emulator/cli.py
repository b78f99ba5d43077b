"""``sequin-orm emulator``: run the emulator as a local HTTP server until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from sequin_orm.emulator.emulator import Emulator
from sequin_orm.emulator.seed import SEEDS

DEFAULT_PORT = 7376


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sequin-orm emulator``."""
    parser = argparse.ArgumentParser(
        prog="sequin-orm emulator", description="Run a local, in-memory Sequin v1 API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks a free one)")
    parser.add_argument("--token", default="test", help="the API token to accept (default: test)")
    parser.add_argument("--seed", choices=SEEDS, help="pre-create demo streams, syncs, consumer")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (without the program name), serve until interrupted; the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["emulator"]:
        args_list = args_list[1:]
    args = build_parser().parse_args(args_list)
    emulator = Emulator(args.token, seed=args.seed)
    try:
        with emulator.serve(args.host, args.port) as url:
            _announce(emulator, url)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def _announce(emulator: Emulator, url: str) -> None:
    lines = [
        f"Sequin emulator listening on {url}",
        f"SEQUIN_BASE_URL={url}",
        f"SEQUIN_API_TOKEN={emulator.token}",
    ]
    for name, value in emulator.seeded.items():
        if name.endswith("_sync"):
            lines.append(f"SEQUIN_SYNC_{name.removesuffix('_sync').upper()}={value}")
    if "consumer" in emulator.seeded:
        lines.append(f"consumer id: {emulator.seeded['consumer']}")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
