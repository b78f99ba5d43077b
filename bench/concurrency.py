"""Concurrent commits and the async driver (issue 14): ``python bench/concurrency.py``.

Prints two tables; ``--out FILE`` also writes them as the Markdown section ``## Concurrency and
the async driver (issue 14)`` into FILE (replacing that section if FILE has it, else appending
it; the rest of FILE is kept). ``--quick``: one run per setting and a smaller counted job.

1. **Wall time against a slow upstream.** ``bench/loopback_server.py`` in another process with
   ``LOOPBACK_LATENCY_MS=150`` (150 ms slept before each mutation request is applied, outside
   its lock, so concurrent requests wait side by side). N = 10,000 new 5-field Salesforce
   contacts (``Contact(**row)``, rows as in ``bench/instructions.py``), added to a
   ``Session(client)`` and committed (50 creates of 200), with ``Client(max_concurrency=c)``
   for c = 1, 4, 8; then the same through ``AsyncSession(AsyncClient(max_concurrency=c))``
   (``asyncio.run`` per run). Timed: ``commit()`` alone (building and adding the objects is
   not). A fresh client per run, closed after; the server reset (``POST /_reset``) before each
   run, and its ``/_stats`` read after (requests, most requests it held at once). Settings
   and drivers alternate; the median of 3 runs each, with the client process's CPU time
   during the commit. Ratio: to the ideal ``ceil(50 / c) x 0.150 s`` (target at 4 and 8:
   <= 1.15x). The same runs against a second server without latency (the client's and that
   server's own work) are given for comparison.
2. **Instructions per record, async vs sync driver.** ``valgrind --tool=callgrind`` counts a
   child process (this script with ``--child``; the loopback server, without latency, is
   another process and not counted) that commits M = 2,000 new contacts (10 requests) with
   one of: ``Session`` at ``max_concurrency=1`` (inline, one request at a time),
   ``AsyncSession`` at ``max_concurrency=1`` (one task at a time: the two loops compare like
   for like), ``Session`` at ``max_concurrency=4`` (the thread pool; for information). Every
   child does the same imports, creates all three clients and one event loop, and warms up
   all three sides with a commit of 400 other contacts each, then ``gc.collect()`` and
   ``gc.freeze()``. Two dry runs: ``dry`` stops there; ``build`` also builds the M contacts and
   adds them to a ``Session`` without committing. *commit* per record = (side - build) / M;
   *job* per record (build, add and commit) = (side - dry) / M. Target: async within 1.1x of
   sync. For information, two more sides post the same create bodies (built in every child)
   one at a time through ``httpx.Client`` and ``httpx.AsyncClient`` alone (minus ``dry``): what
   the async HTTP stack costs per request without sequin_orm. A child run without valgrind
   writes the bytecode first.

It measures whichever ``sequin_orm`` Python imports; to measure a commit while the tree is being
edited, ``git archive COMMIT sequin_orm | tar -x -C /tmp/snap`` and run it with
``PYTHONPATH=/tmp/snap`` (the section names the source).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructions import (
    Counter,
    parse_bench_args,
    revision,
    rows,
    run_child,
    server_call,
    settle,
    write_section,
)

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token"
SYNC = "bench-sync-sf"
CHUNK = 200  # Salesforce's limit per request
TITLE = "## Concurrency and the async driver (issue 14)"
MARKERS = ("<!-- concurrency:start -->", "<!-- concurrency:end -->")
DRIVERS = ("sync", "async")
SIDES = ("sync1", "async1", "sync4")  # counted under callgrind
HTTPX = ("httpx-sync", "httpx-async")  # the same bodies through httpx alone, for information
DRY = ("dry", "build")
COLLECTION = "salesforce:contact"
MUTATIONS = "/v1/mutations/run"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Sizes:
    contacts: int = 10_000
    latency_ms: int = 150
    levels: tuple[int, ...] = (1, 4, 8)
    repeats: int = 3
    counted: int = 2_000
    warm: int = 400


QUICK = Sizes(repeats=1, counted=1_000, warm=200)


# --- one commit (wall time) -------------------------------------------------------------------


def options(url: str, concurrency: int) -> dict[str, Any]:
    return {
        "api_token": TOKEN,
        "base_url": url,
        "syncs": {"salesforce": SYNC},
        "max_concurrency": concurrency,
    }


Timed = tuple[float, float, int]  # wall, CPU of this process (all its threads), requests


def sync_commit(url: str, concurrency: int, data: list[dict[str, str]]) -> Timed:
    """Wall and CPU time of ``session.commit()`` and the requests it reports, with a fresh
    client."""
    import sequin_orm
    from sequin_orm.models import salesforce

    with (
        sequin_orm.Client(**options(url, concurrency)) as client,
        sequin_orm.Session(client) as session,
    ):
        for row in data:
            session.add(salesforce.Contact(**row))  # type: ignore[arg-type]
        started, cpu = time.perf_counter(), time.process_time()
        result = session.commit()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    _check(result, len(data))
    return wall, cpu, result.requests_sent


def async_commit(url: str, concurrency: int, data: list[dict[str, str]]) -> Timed:
    """The same through ``AsyncSession(AsyncClient(...))``, in a new event loop."""
    import sequin_orm
    from sequin_orm.models import salesforce

    async def job() -> Timed:
        async with (
            sequin_orm.AsyncClient(**options(url, concurrency)) as client,
            sequin_orm.AsyncSession(client) as session,
        ):
            for row in data:
                session.add(salesforce.Contact(**row))  # type: ignore[arg-type]
            started, cpu = time.perf_counter(), time.process_time()
            result = await session.commit()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        _check(result, len(data))
        return wall, cpu, result.requests_sent

    return asyncio.run(job())


def _check(result: Any, expected: int) -> None:
    if not result.ok or len(result.outcomes) != expected:
        raise AssertionError(f"commit not clean: {result!r}")


@dataclass
class Setting:
    driver: str
    concurrency: int
    walls: list[float]
    cpus: list[float]
    requests: int = 0
    server_requests: int = 0
    max_in_flight: int = 0
    walls_no_latency: list[float] | None = None


def wall_runs(url: str, url_no_latency: str, sizes: Sizes) -> list[Setting]:
    import gc

    data = rows(0, sizes.contacts)
    settings = [Setting(d, c, [], [], walls_no_latency=[]) for d in DRIVERS for c in sizes.levels]
    commit = {"sync": sync_commit, "async": async_commit}
    for run in ((s, url_no_latency) for s in settings):  # warm-up: imports, first connections
        commit[run[0].driver](run[1], run[0].concurrency, data[:CHUNK])
    for repeat in range(sizes.repeats):
        order = settings if repeat % 2 == 0 else settings[::-1]
        for setting in order:
            for target in (url, url_no_latency):
                server_call(target, "/_reset")
                gc.collect()
                wall, cpu, sent = commit[setting.driver](target, setting.concurrency, data)
                stats = server_call(target, "/_stats")
                if target == url:
                    setting.walls.append(wall)
                    setting.cpus.append(cpu)
                    setting.requests = sent
                    setting.server_requests = stats["requests"]
                    setting.max_in_flight = max(setting.max_in_flight, stats["max_in_flight"])
                else:
                    assert setting.walls_no_latency is not None
                    setting.walls_no_latency.append(wall)
            print(
                f"  {setting.driver} c={setting.concurrency}: {setting.walls[-1]:.3f} s",
                file=sys.stderr,
                flush=True,
            )
    return settings


# --- the counted child ------------------------------------------------------------------------


def child(argv: list[str]) -> int:
    """``--child URL M WARM SIDE``: SIDE one of ``SIDES``, ``HTTPX`` or ``DRY``. The same
    imports, clients, event loop, input and warm-up in every case."""
    import httpx

    import sequin_orm
    from sequin_orm.models import salesforce

    url, n, warm, side = argv[0], int(argv[1]), int(argv[2]), argv[3]
    if side not in (*SIDES, *HTTPX, *DRY):
        raise SystemExit(f"unknown side {side!r}")
    clients = {
        "sync1": sequin_orm.Client(**options(url, 1)),
        "sync4": sequin_orm.Client(**options(url, 4)),
    }
    aclient = sequin_orm.AsyncClient(**options(url, 1))
    raw = {"base_url": url, "headers": {"Authorization": f"Bearer {TOKEN}"}, "timeout": 60.0}
    http, ahttp = httpx.Client(**raw), httpx.AsyncClient(**raw)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()

    def build(start: int, count: int, session: Any) -> None:
        for row in rows(start, count):
            session.add(salesforce.Contact(**row))  # type: ignore[arg-type]

    def commit_sync(name: str, start: int, count: int, build_only: bool = False) -> None:
        session = sequin_orm.Session(clients[name])
        build(start, count, session)
        if not build_only:
            _check(session.commit(), count)

    async def commit_async(start: int, count: int) -> None:
        session = sequin_orm.AsyncSession(aclient)
        build(start, count, session)
        _check(await session.commit(), count)

    def post(bodies: list[bytes]) -> None:
        for body in bodies:
            http.post(MUTATIONS, content=body, headers=JSON).raise_for_status()

    async def apost(bodies: list[bytes]) -> None:
        for body in bodies:
            (await ahttp.post(MUTATIONS, content=body, headers=JSON)).raise_for_status()

    bodies = create_bodies(30_000_000, n)  # the same input in every case
    warm_bodies = create_bodies(40_000_000, 2 * CHUNK)
    for k, name in enumerate(SIDES):  # warm every side, whichever is counted
        start = 10_000_000 * (k + 1)
        if name == "async1":
            loop.run_until_complete(commit_async(start, warm))
        else:
            commit_sync(name, start, warm)
    post(warm_bodies)
    loop.run_until_complete(apost(warm_bodies))
    settle()  # gc.collect() and gc.freeze(): the measured work's GC walks only its own heap
    if side == "async1":
        loop.run_until_complete(commit_async(0, n))
    elif side in ("sync1", "sync4"):
        commit_sync(side, 0, n)
    elif side == "build":
        commit_sync("sync1", 0, n, build_only=True)
    elif side == "httpx-sync":
        post(bodies)
    elif side == "httpx-async":
        loop.run_until_complete(apost(bodies))
    for client in clients.values():
        client.close()
    http.close()
    loop.run_until_complete(aclient.aclose())
    loop.run_until_complete(ahttp.aclose())
    loop.close()
    return 0


def create_bodies(start: int, n: int) -> list[bytes]:
    """Create bodies of ``n`` contacts, ``CHUNK`` a request, as the library sends them."""
    return [
        json.dumps(
            {
                "kind": "create",
                "sync_id": SYNC,
                "collection_id": COLLECTION,
                "records": [{"data": row} for row in rows(i, min(CHUNK, start + n - i))],
            },
            separators=(",", ":"),
        ).encode()
        for i in range(start, start + n, CHUNK)
    ]


def me(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", *args]


def counted_runs(url: str, sizes: Sizes, jobs: int) -> dict[str, int]:
    """Instructions of each side's commit and whole job (build, add, commit), and of the
    httpx clients alone, each minus its dry run."""
    argv = [url, str(sizes.counted), str(sizes.warm)]
    run_child(me(*argv, "dry"))  # writes the bytecode of everything imported, uncounted
    counter = Counter(jobs)
    for side in (*SIDES, *HTTPX, *DRY):
        counter.count(side, me(*argv, side))
    out: dict[str, int] = {}
    for side in SIDES:
        out[f"{side}:commit"] = counter.diff(side, "build")
        out[f"{side}:job"] = counter.diff(side, "dry")
    for side in HTTPX:
        out[side] = counter.diff(side, "dry")
    counter.pool.shutdown()
    return out


# --- servers ----------------------------------------------------------------------------------


@contextmanager
def loopback_server(latency_ms: int) -> Iterator[str]:
    env = dict(os.environ, PYTHONHASHSEED="0", LOOPBACK_LATENCY_MS=str(latency_ms))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "loopback_server.py")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        yield str(json.loads(proc.stdout.readline())["url"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- report -----------------------------------------------------------------------------------


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in body]


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "**not met**"


def machine() -> list[str]:
    """The machine lines of ``bench/run.py``; the code as ``bench/instructions.py`` names it
    (a commit of this checkout, or where ``sequin_orm`` was imported from)."""
    import httpx

    import sequin_orm

    cpu = platform.processor() or "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"- Code: {revision()}",
        f"- Platform: `{platform.platform()}`",
        f"- CPU: {cpu}; {os.cpu_count()} cores",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- Versions: sequin_orm {sequin_orm.__version__}, httpx {httpx.__version__}",
    ]


def ideal(sizes: Sizes, concurrency: int) -> float:
    requests = math.ceil(sizes.contacts / CHUNK)
    return math.ceil(requests / concurrency) * sizes.latency_ms / 1000


def report(
    sizes: Sizes, settings: list[Setting], counts: dict[str, int], quick: bool, total_s: float
) -> list[str]:
    requests = math.ceil(sizes.contacts / CHUNK)
    m = sizes.counted
    n_req = math.ceil(m / CHUNK)
    label = {"sync": "`Session(Client(...))`", "async": "`AsyncSession(AsyncClient(...))`"}
    rows_a = []
    verdicts = []
    for s in settings:
        wall = statistics.median(s.walls)
        best = ideal(sizes, s.concurrency)
        ratio = wall / best
        if s.concurrency > 1:
            verdicts.append(f"{s.driver} at {s.concurrency}: {_verdict(ratio, 1.15)}")
        assert s.walls_no_latency
        rounds = math.ceil(requests / s.concurrency)
        rows_a.append(
            [
                label[s.driver],
                str(s.concurrency),
                f"{wall:.3f} s ({min(s.walls):.2f} to {max(s.walls):.2f})",
                f"{s.requests} / {s.server_requests}",
                str(s.max_in_flight),
                f"{best:.2f} s",
                f"**{ratio:.2f}x**" if s.concurrency > 1 else f"{ratio:.2f}x",
                f"{(wall - best) * 1e3 / rounds:+.0f} ms",
                f"{statistics.median(s.cpus):.3f} s",
                f"{statistics.median(s.walls_no_latency):.3f} s",
            ]
        )
    per = {key: value / m for key, value in counts.items()}
    ratio_commit = per["async1:commit"] / per["sync1:commit"]
    ratio_job = per["async1:job"] / per["sync1:job"]
    rows_b = [
        [
            "`Session`, `max_concurrency=1` (inline)",
            f"{per['sync1:commit']:,.0f}",
            f"{per['sync1:job']:,.0f}",
            "1.00x",
        ],
        [
            "`AsyncSession`, `max_concurrency=1` (tasks)",
            f"{per['async1:commit']:,.0f}",
            f"{per['async1:job']:,.0f}",
            f"**{ratio_commit:.2f}x** commit, {ratio_job:.2f}x job",
        ],
        [
            "`Session`, `max_concurrency=4` (thread pool; for information)",
            f"{per['sync4:commit']:,.0f}",
            f"{per['sync4:job']:,.0f}",
            f"{per['sync4:commit'] / per['sync1:commit']:.2f}x commit, "
            f"{per['sync4:job'] / per['sync1:job']:.2f}x job",
        ],
    ]
    runs = "1 run" if sizes.repeats == 1 else f"median of {sizes.repeats} runs"
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        TITLE,
        "",
        f"Produced by `python bench/concurrency.py{' --quick' if quick else ''}` on "
        f"{now:%Y-%m-%d %H:%M UTC} ({total_s:.0f} s in all); how each figure is taken: the "
        "docstring of `bench/concurrency.py`."
        + (" **Quick run: one run per setting, the figures are rough.**" if quick else ""),
        "",
        *machine(),
        "",
        f"### Wall time: {sizes.contacts:,} new contacts ({requests} creates of {CHUNK}), "
        f"{sizes.latency_ms} ms added to each mutation request",
        "",
        *_table(
            [
                "driver",
                "max_concurrency",
                f"wall ({runs}; range)",
                "requests (client / server)",
                "most in flight at the server",
                "ideal",
                "ratio to ideal",
                "over ideal, per round",
                "client CPU",
                "wall without the latency",
            ],
            rows_a,
        ),
        "",
        f"Ideal: `ceil({requests} / max_concurrency) x {sizes.latency_ms / 1000:.2f} s`. Target "
        f"≤ 1.15x at 4 and 8: {'; '.join(verdicts)}. Timed: `commit()` alone, a fresh client "
        "per run (its connections are opened during the commit), against "
        "`bench/loopback_server.py` in another process, reset before each run. *Over ideal, "
        "per round*: (wall - ideal) / ceil(requests / max_concurrency). *Client CPU*: "
        "`time.process_time()` of the committing process during the commit (every thread). "
        "*Wall without the latency*: the same commits against a second loopback server that "
        "adds nothing (the client's and that server's own work).",
        "",
        f"### Instructions per record (callgrind, client process only): {m:,} new contacts, "
        "no added latency",
        "",
        *_table(
            ["driver", "commit, per record", "build + add + commit, per record", "vs sync"],
            rows_b,
        ),
        "",
        f"Target: async within 1.1x of sync (commit): {_verdict(ratio_commit, 1.1)}. "
        f"{n_req} requests per commit. *commit* is a counted run minus one that builds and "
        "adds the same contacts without committing; *build + add + commit* minus one that stops "
        "after the warm-up. Callgrind counts every thread of the process (the pool's too).",
        "",
        f"Per request ({n_req} requests): the async commit costs "
        f"{(counts['async1:commit'] - counts['sync1:commit']) / n_req / 1e6:,.2f} M "
        "instructions more than the sync one. The same create bodies posted one at a time "
        "through httpx alone (no sequin_orm; `post()`, `raise_for_status()`, minus the dry run): "
        f"`httpx.Client` {counts['httpx-sync'] / n_req / 1e6:,.2f} M per request, "
        f"`httpx.AsyncClient` {counts['httpx-async'] / n_req / 1e6:,.2f} M "
        f"({(counts['httpx-async'] - counts['httpx-sync']) / n_req / 1e6:+,.2f} M).",
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    description = (__doc__ or "").splitlines()[0]
    args = parse_bench_args(argv, description, "one run per setting, smaller job")
    sizes = QUICK if args.quick else Sizes()
    started = time.perf_counter()
    with loopback_server(sizes.latency_ms) as url, loopback_server(0) as plain:
        print(f"wall runs ({sizes.latency_ms} ms per mutation request):", file=sys.stderr)
        settings = wall_runs(url, plain, sizes)
        print("callgrind runs...", file=sys.stderr, flush=True)
        counts = counted_runs(plain, sizes, max(1, args.jobs))
    lines = report(sizes, settings, counts, args.quick, time.perf_counter() - started)
    print("\n".join(lines))
    if args.out is not None:
        write_section(args.out, lines, MARKERS)
        print(f"\nwrote the section into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
