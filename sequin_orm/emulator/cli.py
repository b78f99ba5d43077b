"""``sequin-orm emulator``: run the emulator as a local HTTP server until Ctrl-C."""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import threading
from urllib.parse import urlsplit

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


INSECURE_HTTP_ENV = "SEQUIN_ALLOW_INSECURE_HTTP"  # as sequin_orm.config (not imported here)


def client_urls(url: str) -> tuple[str, str | None]:
    """The base URL a client on this machine uses, and the one for other hosts (or None).

    Bound to every interface (``0.0.0.0``/``::``), this machine reaches it on ``127.0.0.1``
    and other hosts or containers on this machine's name; bound to another non-loopback
    address, that address serves both.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if host in ("0.0.0.0", "::"):
        loopback = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"http://{loopback}:{port}", f"http://{socket.gethostname()}:{port}"
    if _is_loopback(host):
        return url, None
    return url, url


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _announce(emulator: Emulator, url: str) -> None:
    local, remote = client_urls(url)
    lines = [f"Sequin emulator listening on {url}"]
    if remote is not None and remote != local:
        lines.append("On this machine:")
    lines += [f"SEQUIN_BASE_URL={local}", f"SEQUIN_API_TOKEN={emulator.token}"]
    if remote is not None:
        if remote == local:
            lines.append(f"{INSECURE_HTTP_ENV}=1")
        else:
            lines.append(
                f"From another host or container (plain http, so the client needs the opt-in):\n"
                f"SEQUIN_BASE_URL={remote} {INSECURE_HTTP_ENV}=1"
            )
        lines.append(
            "(The token travels in clear over plain http: use a throwaway --token, not a real one.)"
        )
    for name, value in emulator.seeded.items():
        if name.endswith("_sync"):
            lines.append(f"SEQUIN_SYNC_{name.removesuffix('_sync').upper()}={value}")
    if "consumer" in emulator.seeded:
        lines.append(f"consumer id: {emulator.seeded['consumer']}")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
