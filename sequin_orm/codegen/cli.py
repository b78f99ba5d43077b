"""``sequin-orm generate``: write typed model modules from a schema, the API, or records.

Sources (exactly one):

- ``--schema FILE [FILE ...]``: saved schemas (the bundled format, or a saved
  ``GET /v1/collections/{credential_id}`` response);
- ``--credential-id ID``: fetch ``GET /v1/collections/{ID}`` with the default client
  (``SEQUIN_API_TOKEN``, ``SEQUIN_BASE_URL``);
- ``--from-records --collection-id ID``: infer fields from sample records, read from
  ``GET /v1/records`` (``--sync-id``, ``--limit``) or from ``--records-file FILE``;
- ``--bundled``: the schemas shipped in ``sequin_orm/codegen/schemas`` into
  ``sequin_orm/models`` (what ``python -m sequin_orm.codegen.regenerate`` runs).

``--out DIR`` receives ``<provider>.py``, ``__init__.py`` and ``py.typed``. ``--check`` writes
nothing and exits 1 when a file would change. Exit status 2 means bad input or an API error.
"""

from __future__ import annotations

import argparse
import json
import site
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs

from sequin_orm.codegen.generator import (
    HEADER_PREFIX,
    generate_init,
    generate_module,
    module_name,
    schema_sha256,
)
from sequin_orm.codegen.infer import infer_schema, records_from_json
from sequin_orm.codegen.schema import ProviderSchema, SchemaError, load_schema, parse_schema
from sequin_orm.errors import SequinError

__all__ = ["BUNDLED_MODELS_DIR", "BUNDLED_SCHEMAS_DIR", "main", "render_files"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUNDLED_SCHEMAS_DIR = _PACKAGE_DIR / "codegen" / "schemas"
BUNDLED_MODELS_DIR = _PACKAGE_DIR / "models"

BUNDLED_HINT = "Regenerate it with ``python -m sequin_orm.codegen.regenerate``."
USER_HINT = "Regenerate it with ``sequin-orm generate``."


class UsageError(SequinError):
    """The command line asks for something that cannot be done."""


@attrs.frozen
class Source:
    """A schema and what the generated header says about its origin."""

    schema: ProviderSchema
    name: str
    sha256: str


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sequin-orm generate``; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return _run(args)
    except (SequinError, OSError) as error:
        message = error.strerror if isinstance(error, OSError) and error.strerror else error
        print(f"sequin-orm generate: error: {message}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sequin-orm generate",
        description="Generate typed sequin-orm model classes, one module per provider.",
        epilog="Exit status: 0 done (or up to date), 1 --check found changes, 2 error.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--schema", nargs="+", metavar="FILE", type=Path, help="saved collection schema(s)"
    )
    source.add_argument(
        "--credential-id", metavar="ID", help="fetch GET /v1/collections/{ID} from the API"
    )
    source.add_argument(
        "--from-records", action="store_true", help="infer the fields from sample records"
    )
    source.add_argument(
        "--bundled",
        action="store_true",
        help="regenerate sequin_orm/models from the bundled schemas",
    )
    records = parser.add_argument_group("--from-records options")
    records.add_argument(
        "--collection-id",
        action="append",
        metavar="ID",
        help="collection to sample, e.g. salesforce:contact (repeatable)",
    )
    records.add_argument("--sync-id", metavar="ID", help="sample records of this sync only")
    records.add_argument(
        "--records-file", metavar="FILE", type=Path, help="JSON records instead of the API"
    )
    records.add_argument(
        "--limit", type=int, default=100, help="records to sample per collection (default 100)"
    )
    parser.add_argument(
        "--out", metavar="DIR", type=Path, help="package directory to write (created if needed)"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file would change"
    )
    parser.add_argument(
        "--save-schema", metavar="FILE", type=Path, help="also write the schema used, as JSON"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite files that were not generated"
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.bundled:
        out: Path = args.out or BUNDLED_MODELS_DIR
    elif args.out is None:
        raise UsageError("--out DIR is required (the package directory to write)")
    else:
        out = args.out
        _refuse_installed_location(out)
    if not args.from_records and (args.collection_id or args.records_file or args.sync_id):
        raise UsageError("--collection-id, --sync-id and --records-file go with --from-records")
    sources = _sources(args)
    for source in sources:
        for unknown in source.schema.unknown_types():
            print(f"note: unknown field type, typed Any: {unknown}", file=sys.stderr)
    if args.save_schema is not None:
        if len(sources) != 1:
            raise UsageError("--save-schema takes one schema; generate them one at a time")
        if not args.check:
            args.save_schema.write_text(sources[0].schema.dumps(), encoding="utf-8")
    files = render_files(sources, out, bundled=args.bundled)
    if args.check:
        return _check(files)
    _write(files, force=args.force or args.bundled)
    return 0


def _sources(args: argparse.Namespace) -> list[Source]:
    if args.bundled:
        paths = sorted(BUNDLED_SCHEMAS_DIR.glob("*.json"))
        return [_file_source(path, strict=True) for path in paths]
    if args.schema:
        return [_file_source(path, strict=False) for path in args.schema]
    if args.credential_id:
        return [_credential_source(args.credential_id)]
    return [_records_source(args)]


def _file_source(path: Path, *, strict: bool) -> Source:
    schema = load_schema(path, strict=strict)
    return Source(schema, path.name, schema_sha256(path.read_bytes()))


def _credential_source(credential_id: str) -> Source:
    import sequin_orm

    path = f"/v1/collections/{quote(credential_id, safe='')}"
    response = sequin_orm.get_client().http.request("GET", path)
    try:
        schema = parse_schema(response, source=f"GET /v1/collections/{credential_id}")
    except SchemaError as error:
        raise SchemaError(f"GET {path}: {error}") from None
    name = f"collections of credential {credential_id}"
    return Source(schema, name, schema_sha256(schema.dumps().encode()))


def _records_source(args: argparse.Namespace) -> Source:
    collection_ids: list[str] = args.collection_id or []
    if args.records_file is not None:
        try:
            data = json.loads(args.records_file.read_text(encoding="utf-8"))
        except ValueError as error:
            raise SchemaError(f"{args.records_file}: not JSON: {error}") from None
        records = records_from_json(data)
        name = args.records_file.name
    elif not collection_ids:
        raise UsageError("--from-records needs --collection-id (or --records-file)")
    else:
        records = [r for cid in collection_ids for r in _fetch_records(cid, args)]
        name = "records of " + ", ".join(collection_ids)
    if len(collection_ids) > 1:
        records = [r for r in records if r.get("collection_id") in collection_ids]
    schema = infer_schema(
        records,
        collection_id=collection_ids[0] if len(collection_ids) == 1 else None,
        base=_bundled_schema(records, collection_ids),
    )
    return Source(schema, name, schema_sha256(schema.dumps().encode()))


def _fetch_records(collection_id: str, args: argparse.Namespace) -> list[Mapping[str, Any]]:
    import sequin_orm

    params: dict[str, Any] = {"collection_id": collection_id, "limit": args.limit}
    if args.sync_id:
        params["sync_id"] = args.sync_id
    response = sequin_orm.get_client().http.request("GET", "/v1/records", params=params)
    records = [
        {**r, "collection_id": collection_id} if "collection_id" not in r else r
        for r in records_from_json(response if response is not None else [])
    ]
    if not records:
        raise SchemaError(f"GET /v1/records returned no records of {collection_id}")
    return records


def _bundled_schema(
    records: Sequence[Mapping[str, Any]], collection_ids: Sequence[str]
) -> ProviderSchema | None:
    ids = list(collection_ids) or [
        r["collection_id"] for r in records if isinstance(r.get("collection_id"), str)
    ]
    if not ids:
        return None
    path = BUNDLED_SCHEMAS_DIR / f"{ids[0].partition(':')[0]}.json"
    return load_schema(path) if path.is_file() else None


# --- files ----------------------------------------------------------------------------------


def render_files(sources: Sequence[Source], out: Path, *, bundled: bool = False) -> dict[Path, str]:
    """Every file to write, with its text (pure apart from reading ``out``'s listing).

    A user package also gets ``__init__.py`` (importing every generated module in ``out``,
    so a second run for another provider keeps the first) and ``py.typed``.
    """
    files: dict[Path, str] = {}
    for source in sources:
        path = out / f"{module_name(source.schema.provider)}.py"
        if path in files:
            raise UsageError(f"two schemas for the provider {source.schema.provider!r}")
        files[path] = generate_module(
            source.schema,
            source_name=source.name,
            source_sha256=source.sha256,
            regenerate_hint=BUNDLED_HINT if bundled else USER_HINT,
        )
    if bundled:
        return files
    modules = {p.stem for p in files}
    if out.is_dir():
        modules.update(
            p.stem for p in out.glob("*.py") if p.name != "__init__.py" and _is_generated(p)
        )
    init = out / "__init__.py"
    if not init.exists() or _is_generated(init):
        files[init] = generate_init(modules)
    else:
        print(f"note: kept {init} (not generated); import the modules there", file=sys.stderr)
    files[out / "py.typed"] = ""
    return files


def _is_generated(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(HEADER_PREFIX)
    except (OSError, UnicodeDecodeError):
        return False


def _check(files: Mapping[Path, str]) -> int:
    stale = []
    for path, text in files.items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            stale.append(path)
            print(f"{'missing' if current is None else 'out of date'}: {path}")
    if stale:
        print(f"{len(stale)} file(s) would change; run without --check to write them")
        return 1
    print(f"{len(files)} file(s) up to date")
    return 0


def _write(files: Mapping[Path, str], *, force: bool) -> None:
    for path in files:
        if path.suffix == ".py" and path.exists() and not _is_generated(path) and not force:
            raise UsageError(f"{path} exists and was not generated; pass --force to overwrite")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        print(f"wrote {path}")


def _refuse_installed_location(out: Path) -> None:
    """Generated code belongs to the user's project, never to an installed package."""
    target = out.resolve()
    forbidden = [_PACKAGE_DIR]
    forbidden += [Path(p) for p in site.getsitepackages()]
    forbidden.append(Path(site.getusersitepackages()))
    forbidden += [Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")]
    for root in forbidden:
        if target.is_relative_to(root.resolve()):
            raise UsageError(
                f"{out} is inside {root}: write models into your own project "
                "(--bundled regenerates the bundled ones)"
            )
    if any(part in ("site-packages", "dist-packages") for part in target.parts):
        raise UsageError(f"{out} is inside an installed-packages directory")


if __name__ == "__main__":
    raise SystemExit(main())
