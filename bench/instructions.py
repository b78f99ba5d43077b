"""CPU instructions of the client, counted with callgrind: ``python bench/instructions.py``.

Timings on this shared 2-core machine drift by a quarter between runs; instruction counts
repeat to a fraction of a percent. Every figure here is counted by ``valgrind
--tool=callgrind`` on the **client process only** (a child process running this script with
``--child``; the loopback server is a separate process, not under valgrind), as the count of
a full run **minus** the count of a dry run that does the same imports, builds the same input
and runs the same warm-up, but skips the measured work (one dry run per figure: every run of a
figure warms up all its sides, so the session and the raw client share one, as do the four
operations of figures 2 and 3; a repeated run differs by ~10k instructions in 1.5 G). Callgrind
counts every thread of the process. After the warm-up, ``gc.freeze()`` parks the heap left by
imports and warm-up, so the raw client's count does not depend on the library's heap. Only
public API is used (``Client``, ``Session``, ``Model.from_record``, ``Contact(**kw)``,
``save``/``delete`` in a session, ``CommitResult``), so the script survives rewrites of the
library's internals.

1. **Commit job**: C creates, then U updates (``Title`` and ``Email`` of the created
   contacts) and D deletes of 5-field Salesforce contacts, three commits of one ``Session``,
   against a hand-written httpx + stdlib ``json`` client doing the same job: the same bodies
   (checked: the server digests what it receives), chunks of 200, ``POST /v1/mutations/run``,
   ``raise_for_status``, ``response.json()``, the returned upstream ids written back into its
   row dicts (creates) or checked against the ids sent (updates, deletes). Both talk to
   ``bench/loopback_server.py`` in another process over one keep-alive connection. Wall time
   is measured without valgrind (each run a fresh process, sides alternating, the median).
2. ``Contact.from_record(record)`` vs ``cattrs.structure(record["data"], PlainAttrsContact)``,
   a plain ``@attrs.define`` class generated from ``Contact``'s field names and types
   (reference unions reduced to ``str``, ``Literal[...] | str`` to ``str``; date and datetime
   fields parsed by ``fromisoformat`` hooks on the global converter), N distinct records each.
3. ``Contact(**row)`` (5 fields) vs ``PlainAttrsContact(**row)``, N distinct rows each.
4. Memory held by M loaded contacts (``from_record``) vs by their records' ``data`` dicts,
   each in a fresh process (``tracemalloc``, and peak RSS growth from another one).
5. ``python -c "from sequin_orm import Client, Session, Model"`` (``import sequin_orm`` alone
   is lazy) vs ``python -c "import httpx"``, each minus
   ``python -c "pass"`` (bytecode compiled first), and the wall time of the statement.

Records for (2) and (4) are "full" Salesforce contacts as the API returns them: every declared
field is a key, about two thirds have values (distinct per record), the rest ``null``, parsed
from JSON a page of 200 at a time (values distinct objects, keys shared, as in a response).
``--child memory N objects|dicts sparse traced|rss`` measures the 9-key records the emulator
answers instead (``bench/run.py`` reports those through ``session.load``).

``--quick`` runs small sizes (about two minutes; the numbers are rough). ``--out FILE`` writes the
Markdown section into FILE: between ``<!-- instructions:start -->`` and ``<!-- instructions:end
-->`` if FILE has them, else appended. ``make bench`` appends it to ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import typing
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN = "bench-token"
SYNC = "bench-sync-sf"
COLLECTION = "salesforce:contact"
MUTATIONS = "/v1/mutations/run"
CHUNK = 200  # Salesforce's limit per request
VALGRIND = "valgrind"
START, END = "<!-- instructions:start -->", "<!-- instructions:end -->"


@dataclass(frozen=True)
class Sizes:
    job: tuple[int, int, int] = (2_000, 2_000, 200)  # creates, updates, deletes
    warm: tuple[int, int, int] = (400, 400, 40)  # the warm-up job (full and dry runs alike)
    per_op: int = 2_000  # figures 2 and 3
    memory: int = 100_000
    wall_repeats: int = 5
    import_runs: int = 7


QUICK = Sizes(
    job=(400, 400, 40),
    warm=(200, 200, 20),
    per_op=500,
    memory=10_000,
    wall_repeats=1,
    import_runs=2,
)


# --- input ------------------------------------------------------------------------------------


def rows(start: int, n: int) -> list[dict[str, str]]:
    """5-field input rows, distinct per index."""
    return [
        {
            "FirstName": f"Paul{i}",
            "LastName": f"Atreides{i}",
            "Email": f"paul{i}@arrakis.org",
            "Phone": f"+1-555-{i:07d}",
            "Title": "Duke",
        }
        for i in range(start, start + n)
    ]


def changes(start: int, n: int) -> list[dict[str, str]]:
    return [
        {"Title": "Emperor", "Email": f"emperor{i}@kaitain.org"} for i in range(start, start + n)
    ]


def contact_fields() -> dict[str, Any]:
    """``Contact``'s declared fields and their types, from its annotations (public)."""
    from sequin_orm import Model
    from sequin_orm.models import salesforce

    base = typing.get_type_hints(Model)
    return {
        name: _field_type(hint)
        for name, hint in typing.get_type_hints(salesforce.Contact).items()
        if name not in base
        and not name.startswith("_")
        and typing.get_origin(hint) is not typing.ClassVar
    }


def _field_type(hint: Any) -> Any:
    """``X`` of a ``Field[X]`` (or ``ReadOnlyField[X]``) descriptor annotation."""
    from sequin_orm.fields import Field

    origin = typing.get_origin(hint)
    if isinstance(origin, type) and issubclass(origin, Field):
        return typing.get_args(hint)[0]
    return hint


def plain_type(hint: Any) -> Any:
    """The type a hand-written attrs class would declare: ``X | None``, X a plain type."""
    base = plain_base(hint)
    return Any if base is Any else base | None


def plain_base(hint: Any) -> Any:
    """``str`` for ``str | Account | None`` or ``Literal["Mr.", ...] | str | None``, etc."""
    from sequin_orm import Model

    members = typing.get_args(hint) if typing.get_args(hint) else (hint,)
    kept: list[Any] = []
    for member in members:
        if member is type(None) or (isinstance(member, type) and issubclass(member, Model)):
            continue
        if typing.get_origin(member) is typing.Literal:
            member = type(typing.get_args(member)[0])
        if member not in kept:
            kept.append(member)
    return kept[0] if kept else Any


NULL_FIELDS = {  # usually empty on a real contact
    "Salutation",
    "Department",
    "HomePhone",
    "OtherPhone",
    "Fax",
    "AssistantName",
    "AssistantPhone",
    "Description",
    "ReportsToId",
    "EmailBouncedReason",
    "EmailBouncedDate",
    "MasterRecordId",
    "LastActivityDate",
}


class Records:
    """Salesforce contact records as Sequin returns them, distinct per index: ``records(i)``.

    Full: every declared field a key, the usually empty ones ``null``. Sparse: the 9 keys the
    emulator answers to a create. ``page`` gives them as a parsed response holds them.
    """

    START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

    def __init__(self, fields: dict[str, Any], sparse: bool = False) -> None:
        self.sparse = sparse
        self.kinds: list[tuple[str, str]] = []
        for name, hint in fields.items():
            base = plain_base(hint)
            if name in NULL_FIELDS:
                kind = "null"
            elif name == "Id":
                kind = "id"
            elif name.endswith("Id"):
                kind = "ref"
            elif base is bool:
                kind = "bool"
            elif base is datetime.datetime:
                kind = "datetime"
            elif base is datetime.date:
                kind = "date"
            elif name == "LeadSource":
                kind = "picklist"
            else:
                kind = "text"
            self.kinds.append((name, kind))

    def __call__(self, i: int) -> dict[str, Any]:
        upstream_id = f"003{i:015d}"
        stamp = (self.START + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        micro = stamp.replace(".000+0000", ".000000Z")
        values = {
            "null": None,
            "id": upstream_id,
            "ref": f"005{i % 977:015d}",
            "bool": False,
            "datetime": stamp,
            "date": f"19{50 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "picklist": "Web",
        }
        if self.sparse:  # what the emulator answers to a create
            data: dict[str, Any] = {**rows(i, 1)[0], "Id": upstream_id}
            data.update(CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp)
        else:
            data = {
                name: values[kind] if kind != "text" else f"{name} {i}" for name, kind in self.kinds
            }
            data.update(rows(i, 1)[0])
        record = {
            "id": f"rec-{upstream_id}",
            "upstream_id": upstream_id,
            "collection_id": COLLECTION,
            "provider": "salesforce",
            "stream_id": "bench-stream",
            "sync": {"id": SYNC, "external_id": None, "metadata": {}},
            "sync_id": SYNC,
            "data": data,
            "deleted": False,
            "inserted_at": micro,
            "upstream_created_at": micro,
            "upstream_updated_at": micro,
            "updated_idx": 1_000_000 + i,
        }
        return record

    def page(self, start: int, count: int = CHUNK) -> list[dict[str, Any]]:
        """Records ``start`` to ``start + count`` as one parsed response holds them: each
        value its own string object, the keys shared (``json`` reuses them within a call)."""
        return list(json.loads(json.dumps([self(i) for i in range(start, start + count)])))


def plain_attrs_contact() -> type:
    """``PlainAttrsContact``: ``@attrs.define``, ``Contact``'s field names, plain types."""
    import attrs

    fields = contact_fields()
    namespace: dict[str, Any] = {
        "__annotations__": {name: plain_type(hint) for name, hint in fields.items()},
        **dict.fromkeys(fields),
    }
    return attrs.define(type("PlainAttrsContact", (), namespace))


def register_date_hooks() -> None:
    import cattrs

    cattrs.register_structure_hook(
        datetime.datetime, lambda value, _: datetime.datetime.fromisoformat(value)
    )
    cattrs.register_structure_hook(
        datetime.date, lambda value, _: datetime.date.fromisoformat(value)
    )


# --- the two clients of figure 1 --------------------------------------------------------------


Job = tuple[list[dict[str, str]], list[dict[str, str]], int]  # rows, changes, deletes


def job_input(job: tuple[int, int, int], offset: int) -> Job:
    creates, updates, deletes = job
    return rows(offset, creates), changes(offset, updates), deletes


def session_job(client: Any, job: Job) -> int:
    """Create, update, delete through one ``Session``; returns the requests sent."""
    from sequin_orm import Session
    from sequin_orm.models import salesforce

    new_rows, new_values, deletes = job
    creates, updates = len(new_rows), len(new_values)
    results = []
    with Session(client) as session:
        objects = [salesforce.Contact(**row) for row in new_rows]  # type: ignore[arg-type]
        for obj in objects:
            obj.save()
        results.append((session.commit(), creates))
        for obj, values in zip(objects[:updates], new_values, strict=True):
            obj.Title = values["Title"]
            obj.Email = values["Email"]
            obj.save()
        results.append((session.commit(), updates))
        for obj in objects[:deletes]:
            obj.delete()
        results.append((session.commit(), deletes))
    for result, expected in results:
        if not result.ok or len(result.outcomes) != expected:
            raise AssertionError(f"commit not clean: {result!r}")
    return sum(result.requests_sent for result, _ in results)


def raw_job(http: Any, job: Job) -> int:
    """The same job by hand: dicts, ``json.dumps``, ``POST``, ids written back / checked."""
    new_rows, new_values, deletes = job
    updates = len(new_values)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    sent = 0

    def post(body: dict[str, Any]) -> list[dict[str, Any]]:
        nonlocal sent
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        response = http.post(MUTATIONS, content=content, headers=headers)
        sent += 1
        response.raise_for_status()
        answered: list[dict[str, Any]] = response.json()["records"]
        return answered

    records = [dict(row) for row in new_rows]
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        body = {
            "kind": "create",
            "sync_id": SYNC,
            "collection_id": COLLECTION,
            "records": [{"data": dict(row)} for row in chunk],
        }
        for row, created in zip(chunk, post(body), strict=True):
            row["Id"] = created["upstream_id"]
    for start in range(0, updates, CHUNK):
        chunk = records[start : min(start + CHUNK, updates)]
        values = new_values[start : start + len(chunk)]
        for row, value in zip(chunk, values, strict=True):
            row.update(value)
        body = {
            "kind": "update",
            "sync_id": SYNC,
            "collection_id": COLLECTION,
            "records": [
                {"upstream_id": row["Id"], "data": value}
                for row, value in zip(chunk, values, strict=True)
            ],
        }
        for row, updated in zip(chunk, post(body), strict=True):
            if updated["upstream_id"] != row["Id"]:
                raise AssertionError("update answered out of order")
    for start in range(0, deletes, CHUNK):
        chunk = records[start : min(start + CHUNK, deletes)]
        body = {
            "kind": "delete",
            "sync_id": SYNC,
            "collection_id": COLLECTION,
            "upstream_ids": [row["Id"] for row in chunk],
        }
        for row, deleted in zip(chunk, post(body), strict=True):
            if deleted["upstream_id"] != row["Id"]:
                raise AssertionError("delete answered out of order")
            row["deleted"] = True
    return sent


# --- child processes (what callgrind counts) --------------------------------------------------


COMMIT_SIDES = ("session", "raw")
PER_OP = ("from-record", "cattrs", "construct", "construct-plain")


def child(argv: list[str]) -> int:
    """``--child commit URL JOB WARM SIDE [--wall]``, ``--child per-op N OP`` or
    ``--child memory N KIND SHAPE HOW``. SIDE/OP ``dry`` runs the imports, input and warm-up
    of every side/op and measures nothing: one dry run serves every side/op of a figure."""
    mode = argv[0]
    # The same imports for every mode, full or dry.
    import attrs  # noqa: F401
    import cattrs
    import httpx

    import sequin_orm
    from sequin_orm.models import salesforce

    if mode == "commit":
        url, job, warm, side = argv[1], _triple(argv[2]), _triple(argv[3]), argv[4]
        if side not in (*COMMIT_SIDES, "dry"):
            raise SystemExit(f"unknown side {side!r}")
        # one request at a time, like the hand-written client: the same bodies in the same
        # order reach the server (its digest compares them); bench/concurrency.py measures the
        # thread pool (about 1.01x this)
        client = sequin_orm.Client(
            api_token=TOKEN, base_url=url, syncs={"salesforce": SYNC}, max_concurrency=1
        )
        http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60.0
        )
        runs: dict[str, Callable[[Job], int]] = {
            "session": lambda j: session_job(client, j),
            "raw": lambda j: raw_job(http, j),
        }
        warm_inputs = [job_input(warm, offset) for offset in (10_000_000, 20_000_000)]
        job_in = job_input(job, 0)
        with client, http:
            for run, warm_in in zip(runs.values(), warm_inputs, strict=True):
                run(warm_in)  # connections, imports, caches: both sides, whichever is measured
            settle()
            wall, sent = 0.0, 0
            if side != "dry":
                started = time.perf_counter()
                sent = runs[side](job_in)
                wall = time.perf_counter() - started
        if "--wall" in argv:
            print(json.dumps({"wall": wall, "requests": sent}))
        return 0
    n = int(argv[1])
    if mode == "per-op":
        op = argv[2]
        if op not in (*PER_OP, "dry"):
            raise SystemExit(f"unknown op {op!r}")
        fields = contact_fields()
        plain = plain_attrs_contact()
        register_date_hooks()
        load, structure, build = (
            salesforce.Contact.from_record,
            cattrs.structure,
            salesforce.Contact,
        )
        record = Records(fields)
        warm_records = record.page(10_000_000, 200)
        warm_rows = rows(10_000_000, 200)
        records, new_rows = record.page(0, n), rows(0, n)
        for r in warm_records:
            load(r)
            structure(r["data"], plain)
        for row in warm_rows:
            build(**row)  # type: ignore[arg-type]
            plain(**row)
        settle()
        if op == "from-record":
            for r in records:
                load(r)
        elif op == "cattrs":
            for r in records:
                structure(r["data"], plain)
        elif op == "construct":
            for row in new_rows:
                build(**row)  # type: ignore[arg-type]
        elif op == "construct-plain":
            for row in new_rows:
                plain(**row)
        return 0
    if mode == "memory":
        kind, shape, how = argv[2], argv[3], argv[4]
        print(json.dumps(memory_held(kind, shape, how, n)))
        return 0
    raise SystemExit(f"unknown child mode {mode!r}")


def settle() -> None:
    """Collect, then freeze what imports and warm-up left (``gc.freeze``): the cyclic GC
    then walks only what the measured work allocates, not a heap that differs between
    library versions and sides."""
    import gc

    gc.collect()
    gc.freeze()


def _triple(text: str) -> tuple[int, int, int]:
    a, b, c = (int(x) for x in text.split(","))
    return a, b, c


def memory_held(kind: str, shape: str, how: str, n: int) -> dict[str, int]:
    """Bytes held by ``n`` loaded contacts (``objects``) or their ``data`` dicts (``dicts``)."""
    import gc
    import tracemalloc

    from sequin_orm.models import salesforce

    fields = contact_fields()
    sparse = shape == "sparse"
    load = salesforce.Contact.from_record
    record = Records(fields, sparse)
    for r in record.page(10_000_000):  # warm caches before measuring
        load(r)
    gc.collect()
    if how == "traced":
        tracemalloc.start()
    before = _rss()
    held: list[Any] = []
    for start in range(0, n, CHUNK):  # a page at a time, as from the API
        page = record.page(start, min(CHUNK, n - start))
        if kind == "objects":
            held.extend(load(r) for r in page)
        else:
            held.extend(r["data"] for r in page)
        del page
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] if how == "traced" else _rss() - before
    assert len(held) == n
    return {"bytes": grown}


def _rss() -> int:
    """Peak resident set of this process image (``VmHWM``), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# --- the parent: valgrind, the server, the tables ---------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def callgrind(argv: Sequence[str]) -> int:
    """Instructions (``Ir``) of one process run under callgrind, from its output file."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        done = subprocess.run(
            [VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=HERE,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed under callgrind:\n{done.stderr[-3000:]}")
        for line in out.read_text().splitlines():
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in the callgrind output of {' '.join(argv)}")


def run_child(argv: list[str]) -> str:
    """Run a child without valgrind; its stdout, or an error with the end of its stderr."""
    done = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=HERE)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def me(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", *args]


class Counter:
    """Callgrind runs on a pool of workers; ``diff`` is a full run minus its dry run."""

    def __init__(self, jobs: int) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        self.futures: dict[str, concurrent.futures.Future[int]] = {}

    def count(self, key: str, argv: list[str]) -> None:
        self.futures[key] = self.pool.submit(callgrind, argv)

    def get(self, key: str) -> int:
        return self.futures[key].result()

    def diff(self, key: str, dry: str) -> int:
        return self.get(key) - self.get(dry)


@contextmanager
def loopback_server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "loopback_server.py")],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        url = str(json.loads(proc.stdout.readline())["url"])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def server_call(url: str, path: str) -> Any:
    method = "POST" if path == "/_reset" else "GET"
    request = urllib.request.Request(
        url + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def wall_runs(url: str, sizes: Sizes) -> dict[str, Any]:
    """Wall time of the job (no valgrind): fresh processes, sides alternating, medians."""
    walls: dict[str, list[float]] = {side: [] for side in COMMIT_SIDES}
    digests: dict[str, set[str]] = {side: set() for side in COMMIT_SIDES}
    requests: dict[str, int] = {}
    job, warm = ",".join(map(str, sizes.job)), ",".join(map(str, sizes.warm))
    for repeat in range(sizes.wall_repeats):
        order = list(walls) if repeat % 2 == 0 else list(walls)[::-1]
        for mode in order:
            server_call(url, "/_reset")
            out = run_child(me("commit", url, job, warm, mode, "--wall"))
            answer = json.loads(out.strip().splitlines()[-1])
            walls[mode].append(answer["wall"])
            requests[mode] = answer["requests"]
            digests[mode].add(server_call(url, "/_stats")["bodies_sha256"])
    same = digests["session"] == digests["raw"] and len(digests["raw"]) == 1
    return {
        "session": statistics.median(walls["session"]),
        "raw": statistics.median(walls["raw"]),
        "requests": requests,
        "same_bodies": same,
    }


#: What a program that writes through sequin-orm imports (every public name of the package
#: loads on first use, so ``import sequin_orm`` alone would measure nothing).
IMPORT_OURS = "from sequin_orm import Client, Session, Model"
IMPORT_HTTPX = "import httpx"


def import_wall_us(statement: str) -> int:
    """Microseconds ``statement`` takes in a fresh process (bytecode compiled)."""
    code = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print(int((time.perf_counter() - t) * 1e6))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
        cwd=HERE,
    ).stdout
    return int(out.strip().splitlines()[-1])


def memory(kind: str, shape: str, how: str, n: int) -> float:
    out = run_child(me("memory", str(n), kind, shape, how))
    return float(json.loads(out.strip().splitlines()[-1])["bytes"])


# --- report -----------------------------------------------------------------------------------


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in body]


def _i(n: float) -> str:
    return f"{n:,.0f}"


def _m(n: float) -> str:
    return f"{n / 1e6:,.1f} M"


def _x(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "**not met**"


def revision() -> str:
    """The code measured: the commit, or where ``sequin_orm`` was imported from."""
    import sequin_orm

    package = Path(sequin_orm.__file__).resolve().parent
    if package != ROOT / "sequin_orm":
        return f"`sequin_orm` from `{package}` (not this checkout)"

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "sequin_orm")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"`{commit}`" + (" with uncommitted changes in `sequin_orm/`" if dirty else "")


def measure(sizes: Sizes, jobs: int, quick: bool) -> list[str]:
    started = time.perf_counter()
    creates, updates, deletes = sizes.job
    records_in_job = creates + updates + deletes
    n, m = sizes.per_op, sizes.memory
    job, warm = ",".join(map(str, sizes.job)), ",".join(map(str, sizes.warm))
    # Bytecode of everything imported, written before anything is counted or timed.
    run_child(me("per-op", "1", "dry"))
    with loopback_server() as url:
        counter = Counter(jobs)
        for side in (*COMMIT_SIDES, "dry"):  # the longest runs first
            counter.count(f"commit:{side}", me("commit", url, job, warm, side))
        for op in (*PER_OP, "dry"):
            counter.count(f"per-op:{op}", me("per-op", str(n), op))
        py = [sys.executable, "-c"]
        counter.count("import:pass", [*py, "pass"])
        counter.count("import:sequin_orm", [*py, IMPORT_OURS])
        counter.count("import:httpx", [*py, IMPORT_HTTPX])
        mem_futures = {
            (kind, shape, how): counter.pool.submit(memory, kind, shape, how, m)
            for kind in ("objects", "dicts")
            for shape in ("full",)
            for how in ("traced", "rss")
        }
        for future in counter.futures.values():
            future.result()
        mem = {key: future.result() for key, future in mem_futures.items()}
        counted_s = time.perf_counter() - started
        print(f"callgrind and memory runs: {counted_s:.0f} s", file=sys.stderr, flush=True)
        wall = wall_runs(url, sizes)
    imports = {
        name: statistics.median(import_wall_us(statement) for _ in range(sizes.import_runs))
        for name, statement in (("httpx", IMPORT_HTTPX), ("sequin_orm", IMPORT_OURS))
    }
    total_s = time.perf_counter() - started

    session, raw = (
        counter.diff("commit:session", "commit:dry"),
        counter.diff("commit:raw", "commit:dry"),
    )
    loads, structures = (
        counter.diff("per-op:from-record", "per-op:dry"),
        counter.diff("per-op:cattrs", "per-op:dry"),
    )
    builds = counter.diff("per-op:construct", "per-op:dry")
    plain_builds = counter.diff("per-op:construct-plain", "per-op:dry")
    base = counter.get("import:pass")
    imp_ours = counter.get("import:sequin_orm") - base
    imp_httpx = counter.get("import:httpx") - base
    fields = len(contact_fields())

    title = "Instructions (callgrind, client process only)" + (" — quick run" if quick else "")
    lines = [
        f"## {title}",
        "",
        f"Produced by `python bench/instructions.py{' --quick' if quick else ''}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, code {revision()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; {total_s:.0f} s in all. Each count is a full run minus a dry "
        "run with the same imports, input and warm-up (how: the docstring of "
        "`bench/instructions.py`)."
        + (" **Quick run: small sizes, the per-record figures are rough.**" if quick else ""),
        "",
        f"### 1. Commit job: {creates:,} creates + {updates:,} updates + {deletes:,} deletes "
        "(5-field Salesforce contacts, 3 commits, chunks of 200)",
        "",
        *_table(
            ["client", "instructions", "per record", "wall (median)", "requests"],
            [
                [
                    "`Session` (sequin_orm)",
                    _m(session),
                    _i(session / records_in_job),
                    f"{wall['session'] * 1e3:,.0f} ms",
                    str(wall["requests"]["session"]),
                ],
                [
                    "hand-written httpx + `json`",
                    _m(raw),
                    _i(raw / records_in_job),
                    f"{wall['raw'] * 1e3:,.0f} ms",
                    str(wall["requests"]["raw"]),
                ],
                [
                    "**ratio**",
                    f"**{_x(session, raw)}**",
                    f"+{_i((session - raw) / records_in_job)}",
                    _x(wall["session"], wall["raw"]),
                    "",
                ],
            ],
        ),
        "",
        f"Target ≤ 1.25x (aim 1.0x): {_verdict(session / raw, 1.25)}. Wall: median of "
        f"{sizes.wall_repeats} fresh processes per side, alternating, without valgrind, "
        "against `bench/loopback_server.py` (includes that server's time). Bodies sent: "
        + (
            "identical (digest at the server)."
            if wall["same_bodies"]
            else "**differ between the two clients** (digest at the server)."
        ),
        "",
        f"### 2 and 3. Loading and construction ({fields} fields; {n:,} distinct inputs each)",
        "",
        *_table(
            ["operation", "sequin_orm", "plain attrs / cattrs", "ratio", "target"],
            [
                [
                    "`Contact.from_record(record)` vs `cattrs.structure(data, PlainAttrsContact)`",
                    _i(loads / n),
                    _i(structures / n),
                    f"**{_x(loads, structures)}**",
                    f"≤ 1x: {_verdict(loads / structures, 1.0)}",
                ],
                [
                    "`Contact(**row)` vs `PlainAttrsContact(**row)` (5 fields)",
                    _i(builds / n),
                    _i(plain_builds / n),
                    f"**{_x(builds, plain_builds)}**",
                    f"≤ 2x: {_verdict(builds / plain_builds, 2.0)}",
                ],
            ],
        ),
        "",
        "Instructions per call. Records: every declared field a key, about two thirds set. "
        "cattrs parses the record's three datetimes and one date eagerly (`fromisoformat` "
        "hooks); `from_record` may defer them.",
        "",
        f"### 4. Memory held by {m:,} loaded contacts (fresh process each)",
        "",
        *_table(
            ["records", "`from_record` objects", "their `data` dicts", "ratio", "peak RSS ratio"],
            [
                [
                    f"{label}",
                    f"{mem[('objects', shape, 'traced')] / 2**20:,.1f} MiB "
                    f"({mem[('objects', shape, 'traced')] / m:,.0f} B each)",
                    f"{mem[('dicts', shape, 'traced')] / 2**20:,.1f} MiB "
                    f"({mem[('dicts', shape, 'traced')] / m:,.0f} B each)",
                    f"**{_x(mem[('objects', shape, 'traced')], mem[('dicts', shape, 'traced')])}**",
                    _x(mem[("objects", shape, "rss")], mem[("dicts", shape, "rss")]),
                ]
                for shape, label in (("full", f"full ({fields} keys, about two thirds set)"),)
            ],
        ),
        "",
        "Target ≤ 1.4x (full records): "
        + _verdict(mem[("objects", "full", "traced")] / mem[("dicts", "full", "traced")], 1.4)
        + ". MiB: `tracemalloc` (Python objects still allocated); RSS: growth of `VmHWM`, "
        "allocator overhead included.",
        "",
        "### 5. Import (fresh processes, bytecode compiled)",
        "",
        *_table(
            ["import", "instructions (minus `python -c pass`)", "wall", "ratio"],
            [
                [f"`{IMPORT_HTTPX}`", _m(imp_httpx), f"{imports['httpx'] / 1e3:.1f} ms", "1.00x"],
                [
                    f"`{IMPORT_OURS}`",
                    _m(imp_ours),
                    f"{imports['sequin_orm'] / 1e3:.1f} ms",
                    f"**{_x(imp_ours, imp_httpx)}** instructions, "
                    f"{_x(imports['sequin_orm'], imports['httpx'])} wall",
                ],
            ],
        ),
        "",
        f"Target ≤ 1.3x: {_verdict(imp_ours / imp_httpx, 1.3)} (instructions). `import "
        "sequin_orm` alone loads nothing heavy (every public name is lazy), so what is counted "
        "is what a program that writes through it imports. Wall: time of the statement in a "
        f"fresh process, median of {sizes.import_runs}.",
    ]
    return lines


def write_section(path: Path, lines: list[str], markers: tuple[str, str] = (START, END)) -> None:
    """Write ``lines`` into ``path`` between the two markers (replacing what was there), or
    append them with the markers."""
    start, end = markers
    section = "\n".join([start, *lines, end])
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section + "\n"
    path.write_text(text, encoding="utf-8")


def parse_bench_args(argv: list[str], description: str, quick: str) -> argparse.Namespace:
    """The options of a callgrind benchmark script: ``--quick``, ``--out FILE``, ``--jobs N``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--out", type=Path, help="write the Markdown section into this file")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="callgrind runs at once (default: 2, or 1 on one CPU)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    description = (__doc__ or "").splitlines()[0]
    args = parse_bench_args(argv, description, "small sizes (about two minutes)")
    lines = measure(QUICK if args.quick else Sizes(), max(1, args.jobs), args.quick)
    print("\n".join(lines))
    if args.out is not None:
        write_section(args.out, lines)
        print(f"\nwrote the section into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
