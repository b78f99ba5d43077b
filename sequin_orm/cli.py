"""``sequin-orm`` command line: ``emulator``, ``generate``, ``syncs list|get|create`` and
``mirror``.

``emulator`` and ``generate`` run their own modules' ``main``; ``syncs`` uses a
``sequin_orm.Client()`` configured from the environment (``SEQUIN_API_TOKEN``,
``SEQUIN_BASE_URL``); so does ``mirror``, whose database URL may come from
``SEQUIN_MIRROR_URL`` (a password stays out of the process list).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sequin_orm import __version__
from sequin_orm.emulator.cli import build_parser as emulator_parser
from sequin_orm.errors import SequinError

if TYPE_CHECKING:
    from sequin_orm.syncs import SyncManager

__all__ = ["build_parser", "main"]

PROG = "sequin-orm"


class HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to an option's help unless the help already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            not action.option_strings
            or "default" in text
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``sequin-orm`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sequin ORM: a local API emulator, model generation and syncs.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser(
        "emulator",
        parents=[emulator_parser()],
        add_help=False,
        help="run a local Sequin API emulator",
        description="Run a local, in-memory Sequin v1 API until Ctrl-C.",
        formatter_class=HelpFormatter,
    )
    commands.add_parser(
        "generate",
        add_help=False,
        help="generate typed model classes from a schema (see `generate --help`)",
    )
    _add_syncs(commands)
    _add_mirror(commands)
    return parser


MIRROR_URL_ENV = "SEQUIN_MIRROR_URL"


def _add_mirror(commands: Any) -> None:
    mirror = commands.add_parser(
        "mirror",
        help="keep a local database of records current (backfill, then follow a consumer)",
        description="Backfill collections into a mirror database, then follow an HTTP consumer "
        "until Ctrl-C or SIGTERM.",
        formatter_class=HelpFormatter,
    )
    mirror.add_argument(
        "--database", metavar="URL", default=None,
        help="sqlite:///path.db or postgresql+psycopg://user:pw@host/db "
        f"(default: ${MIRROR_URL_ENV}, else sqlite:///sequin-mirror.db)",
    )  # fmt: skip
    mirror.add_argument("--consumer", metavar="ID", help="the HTTP consumer to follow")
    mirror.add_argument(
        "--backfill", metavar="COLLECTION", action="append",
        help="page /v1/records of this collection first, e.g. salesforce:contact (repeatable)",
    )  # fmt: skip
    mirror.add_argument("--once", action="store_true", help="drain the consumer once and exit")


def _add_syncs(commands: Any) -> None:
    syncs = commands.add_parser(
        "syncs", help="list, show or create syncs", description="The syncs of the account."
    )
    actions = syncs.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = _subparser(actions, "list", "list syncs")
    listing.add_argument("--provider", help="only syncs of this provider (e.g. salesforce)")
    listing.add_argument("--name", help="only syncs with this name")
    get = _subparser(actions, "get", "show one sync")
    get.add_argument("sync_id", help="the sync's id")
    create = _subparser(actions, "create", "create a sync (POST /v1/syncs)")
    _add_create_options(create)


def _subparser(actions: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
        formatter_class=HelpFormatter,
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _add_create_options(create: argparse.ArgumentParser) -> None:
    create.add_argument("--provider", required=True, help="e.g. salesforce")
    create.add_argument("--stream-id", required=True, help="the stream the sync writes to")
    create.add_argument("--name", required=True, help="the sync's name")
    create.add_argument(
        "--collection-id", dest="collection_ids", action="append", required=True,
        metavar="ID", help="a collection to sync, e.g. salesforce:contact (repeat for more)",
    )  # fmt: skip
    secret = create.add_mutually_exclusive_group(required=True)
    secret.add_argument("--credential-id", help="an existing credential's id")
    secret.add_argument(
        "--credential", type=_json_object, metavar="JSON|@FILE",
        help="a new credential as a JSON object, or @FILE to keep secrets out of shell history",
    )  # fmt: skip
    create.add_argument("--rate-limit", type=_json_object, metavar="JSON|@FILE")
    create.add_argument("--max-age-days", type=_number, help="how far back to backfill")
    create.add_argument("--sync-frequency", choices=("continuous", "4h"))
    create.add_argument("--metadata", type=_json_object, metavar="JSON|@FILE")
    create.add_argument("--external-id", help="your own id for the sync")


def _number(text: str) -> int | float:
    """An argparse type: an int when the text is one, else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _json_object(text: str) -> dict[str, Any]:
    """An argparse type: a JSON object, given inline or as ``@FILE``."""
    try:
        raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
        value = json.loads(raw)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"not a JSON object: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("not a JSON object")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sequin-orm`` script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(args_list)
        if extra and args.command != "generate":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command == "syncs":
        return _run_syncs(args)
    if args.command == "mirror":
        return _run_mirror(args)
    module = {"emulator": "sequin_orm.emulator.cli", "generate": "sequin_orm.codegen.cli"}
    code: int = importlib.import_module(module[args.command]).main(args_list[1:])
    return code


def _run_syncs(args: argparse.Namespace) -> int:
    from sequin_orm.client import Client

    run = _SYNC_ACTIONS[args.action]
    try:
        with Client() as client:
            print(run(client.syncs, args))
    except SequinError as error:
        print(f"{PROG} syncs {args.action}: error: {error}", file=sys.stderr)
        return 1
    return 0


def _run_mirror(args: argparse.Namespace) -> int:
    from sequin_orm.client import Client
    from sequin_orm.mirror import DEFAULT_URL, Mirror
    from sequin_orm.mirror.command import run_mirror_command

    if not args.consumer and not args.backfill:
        print(f"{PROG} mirror: error: mirror needs --consumer ID, --backfill COLLECTION, "
              "or both", file=sys.stderr)  # fmt: skip
        return 2
    url = args.database or os.environ.get(MIRROR_URL_ENV) or DEFAULT_URL
    _log_to_stderr("sequin_orm.mirror")
    try:
        with Client() as client:
            mirror = Mirror(url, consumer_id=args.consumer, client=client)
            try:
                run_mirror_command(
                    mirror, backfill=args.backfill or (), once=args.once, out=sys.stdout
                )
            finally:
                mirror.close()
    except SequinError as error:
        print(f"{PROG} mirror: error: {error}", file=sys.stderr)
        return 1
    return 0


def _log_to_stderr(name: str) -> None:
    """Show a logger's INFO and WARNING lines (the worker's retries) on stderr."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    if any(h.get_name() == PROG for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(PROG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)


def _list(syncs: SyncManager, args: argparse.Namespace) -> str:
    from sequin_orm.contrib import render_syncs

    return render_syncs(syncs.list(provider=args.provider, name=args.name), as_json=args.json)


def _get(syncs: SyncManager, args: argparse.Namespace) -> str:
    return _render(syncs.get(args.sync_id), as_json=args.json)


def _create(syncs: SyncManager, args: argparse.Namespace) -> str:
    sync = syncs.create(
        provider=args.provider,
        stream_id=args.stream_id,
        name=args.name,
        collection_ids=args.collection_ids,
        credential=args.credential,
        credential_id=args.credential_id,
        rate_limit=args.rate_limit,
        max_age_days=args.max_age_days,
        sync_frequency=args.sync_frequency,
        metadata=args.metadata,
        external_id=args.external_id,
    )
    return _render(sync, as_json=args.json)


def _render(sync: Any, *, as_json: bool) -> str:
    from sequin_orm.contrib import describe_sync, render_sync

    if as_json:
        return json.dumps(describe_sync(sync), indent=2, default=str)
    return render_sync(sync)


_SYNC_ACTIONS: dict[str, Callable[[SyncManager, argparse.Namespace], str]] = {
    "list": _list,
    "get": _get,
    "create": _create,
}


if __name__ == "__main__":
    raise SystemExit(main())
