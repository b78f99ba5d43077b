"""Benchmarks of the mirror (issue 15): numbers, not tests.

1. Ingest: 100,000 contact records through ``Mirror.apply()`` in consumer-sized batches (100
   and 1,000 records, one transaction each) into PostgreSQL and into SQLite: records per
   second.
2. Query: ``get(Email=...)`` on 1,000,000 mirrored contacts, with and without
   ``mirror.index(Contact, "Email")``: median (p50) and p95 latency of the whole call (SQL,
   the row, the typed model).
3. End to end: records per second from the emulator's HTTP consumer (its own process, served
   on loopback) into PostgreSQL, with one and with two worker processes draining it
   (``Mirror.pull()``: receive, upsert, commit, ack).

PostgreSQL is a throwaway server (``tests/pgserver.py``) with its default durability settings
(fsync and synchronous commit on); SQLite is a file in a temporary directory.
``--smoke`` runs tiny sizes to prove the script works; ``--out FILE`` writes the Markdown
section into FILE between ``<!-- mirror:start -->`` and ``<!-- mirror:end -->`` (else
appends it): ``make bench`` writes it into ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from instructions import write_section  # noqa: E402  (bench/ is the script's folder)
from run import machine  # noqa: E402

import sequin_orm  # noqa: E402
from sequin_orm.emulator import Emulator  # noqa: E402
from sequin_orm.mirror import Mirror  # noqa: E402
from sequin_orm.models import salesforce  # noqa: E402
from tests.pgserver import PostgresServer  # noqa: E402

MARKERS = ("<!-- mirror:start -->", "<!-- mirror:end -->")
TOKEN = "bench-token"
SYNC = "bench-sync"
CONSUMER = "bench-consumer"
BATCH = 100  # records per consumer batch (the workers of the end-to-end figure)
INGEST_BATCHES = (100, 1_000)


@dataclass(frozen=True)
class Sizes:
    ingest: int
    query_rows: int
    indexed_gets: int
    scan_gets: int
    end_to_end: int


FULL = Sizes(ingest=100_000, query_rows=1_000_000, indexed_gets=2_000, scan_gets=15,
             end_to_end=20_000)  # fmt: skip
SMOKE = Sizes(ingest=2_000, query_rows=5_000, indexed_gets=50, scan_gets=3, end_to_end=500)


def contact(n: int, updated_idx: int) -> dict[str, Any]:
    """A Salesforce contact record as a consumer delivers it (13 data fields)."""
    upstream_id = f"003{n:015d}"
    stamp = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00.000+0000"
    return {
        "id": f"rec-{n}",
        "upstream_id": upstream_id,
        "collection_id": "salesforce:contact",
        "sync_id": SYNC,
        "updated_idx": updated_idx,
        "deleted": False,
        "upstream_created_at": "2024-01-01T00:00:00.000000Z",
        "upstream_updated_at": "2024-06-01T00:00:00.000000Z",
        "data": {
            "Id": upstream_id,
            "FirstName": f"First{n}",
            "LastName": f"Last{n % 5000}",
            "Email": f"person{n}@example.org",
            "Phone": f"+1 555 {n:07d}",
            "Title": "Engineer" if n % 3 else "Manager",
            "MailingCity": ("Arrakeen", "Carthag", "Tabr")[n % 3],
            "AccountId": f"001{n % 1000:015d}",
            "DoNotCall": n % 7 == 0,
            "Birthdate": f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}",
            "CreatedDate": stamp,
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
        },
    }


@contextmanager
def databases(server: PostgresServer, name: str) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and a fresh SQLite file."""
    with tempfile.TemporaryDirectory(prefix="sequin-bench-") as folder:
        yield {
            "PostgreSQL": server.create_database(name),
            "SQLite": f"sqlite:///{folder}/{name}.db",
        }


# --- 1. ingest --------------------------------------------------------------------------------


def ingest(url: str, n: int, batch: int) -> float:
    """Records per second through apply() in batches of ``batch`` (one transaction each)."""
    mirror = Mirror(url)
    mirror.create_tables()
    records = [contact(i, 1_000 + i) for i in range(n)]
    started = time.perf_counter()
    for start in range(0, n, batch):
        mirror.apply(records[start : start + batch])
    elapsed = time.perf_counter() - started
    mirror.close()
    return n / elapsed


# --- 2. query ---------------------------------------------------------------------------------


def fill(mirror: Mirror, n: int) -> None:
    """n contacts, 10,000 per transaction (setup, not measured)."""
    for start in range(0, n, 10_000):
        mirror.apply([contact(i, 1) for i in range(start, min(n, start + 10_000))])


def get_latencies(mirror: Mirror, n: int, runs: int) -> list[float]:
    """Seconds per ``get(Email=...)`` of random existing contacts."""
    picks = random.Random(15).sample(range(n), runs)
    query = mirror.query(salesforce.Contact)
    query.get(Email="person0@example.org")  # warm the pool and the statement cache
    times = []
    for i in picks:
        started = time.perf_counter()
        found = query.get(Email=f"person{i}@example.org")
        times.append(time.perf_counter() - started)
        assert found.upstream_id == f"003{i:015d}"
    return times


def query_figures(url: str, sizes: Sizes) -> dict[str, list[float]]:
    mirror = Mirror(url)
    fill(mirror, sizes.query_rows)
    figures = {"without index": get_latencies(mirror, sizes.query_rows, sizes.scan_gets)}
    mirror.index(salesforce.Contact, "Email")
    if mirror.dialect == "postgresql":
        with mirror.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE sequin_records")
            connection.commit()
    figures["with index"] = get_latencies(mirror, sizes.query_rows, sizes.indexed_gets)
    mirror.close()
    return figures


# --- 3. end to end ----------------------------------------------------------------------------


def serve_emulator(n: int) -> int:
    """Child process: an emulator with a consumer and n contacts, served until stdin closes."""
    emu = Emulator(token=TOKEN)
    emu.create_sync("salesforce", ["salesforce:contact"], id=SYNC)
    emu.create_consumer(id=CONSUMER, ack_wait_ms=60_000, max_ack_pending=10_000)
    for i in range(n):
        emu.create_record(SYNC, "salesforce:contact", contact(i, 1)["data"])
    with emu.serve() as url:
        print(json.dumps({"url": url}), flush=True)
        sys.stdin.read()
    return 0


def drain(url: str, database_url: str) -> int:
    """Worker process: pull until the consumer is empty; how many records it stored."""
    with sequin_orm.Client(TOKEN, url) as client:
        mirror = Mirror(database_url, consumer_id=CONSUMER, client=client)
        stored = mirror.pull(batch_size=BATCH)
        mirror.close()
        return stored


def end_to_end(server: PostgresServer, n: int, workers: int) -> float:
    """Records per second from the emulator's consumer into a fresh PostgreSQL database."""
    database_url = server.create_database(f"bench_e2e_{workers}")
    Mirror(database_url).create_tables()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = json.loads(child.stdout.readline())["url"]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            stored = sum(pool.starmap(drain, [(url, database_url)] * workers))
        elapsed = time.perf_counter() - started
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
    count = Mirror(database_url).query(salesforce.Contact).count()
    assert count == n and stored >= n, (count, stored)
    return n / elapsed


# --- report -----------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def report(sizes: Sizes, figures: dict[str, Any]) -> list[str]:
    ingest_rates: dict[tuple[str, int], float] = figures["ingest"]
    pg_rate = ingest_rates["PostgreSQL", BATCH]
    pg_best = max(rate for (name, _), rate in ingest_rates.items() if name == "PostgreSQL")
    pg_get = statistics.median(figures["query"]["PostgreSQL"]["with index"])
    lines = [
        "## Mirror (issue 15)",
        "",
        "Produced by `python bench/mirror.py`; PostgreSQL 15 with its default durability "
        "settings, started by the script; SQLite a file in a temporary directory.",
        "",
        *machine(),
        "",
        f"- Ingest target (PostgreSQL >= 20,000 records/s): "
        f"{'met' if pg_rate >= 20_000 else 'NOT met'} in batches of {BATCH} ({pg_rate:,.0f}/s); "
        f"{'met' if pg_best >= 20_000 else 'NOT met'} in batches of {INGEST_BATCHES[-1]:,} "
        f"({pg_best:,.0f}/s).",
        f"- Query target (indexed `get(Email=...)` p50 <= 1 ms on PostgreSQL): "
        f"{'met' if pg_get <= 0.001 else 'NOT met'} ({_ms(pg_get)}).",
        "",
        f"### M1. Ingest: {sizes.ingest:,} contacts through `apply()` (one transaction per "
        "batch, committed durably)",
        "",
        "| database | records per batch | records/s |",
        "|---|---|---|",
        *(f"| {name} | {b:,} | {rate:,.0f} |" for (name, b), rate in ingest_rates.items()),
        "",
        f"### M2. `get(Email=...)` on {sizes.query_rows:,} mirrored contacts (whole call: "
        "SQL, row, typed model)",
        "",
        "| database | index | calls | p50 | p95 |",
        "|---|---|---|---|---|",
    ]
    for name, runs in figures["query"].items():
        for label, times in runs.items():
            lines.append(
                f"| {name} | {label} | {len(times):,} | {_ms(statistics.median(times))} "
                f"| {_ms(_p95(times))} |"
            )
    lines += [
        "",
        f"### M3. End to end: {sizes.end_to_end:,} records from the emulator's consumer "
        "(its own process, loopback HTTP) into PostgreSQL",
        "",
        "| workers (processes) | records/s |",
        "|---|---|",
        *(f"| {w} | {rate:,.0f} |" for w, rate in figures["end_to_end"].items()),
        "",
        "Each worker receives 100 records, upserts them, commits, then acks. On 2 cores the "
        "emulator's process, PostgreSQL and the workers share the CPUs, which bounds what a "
        "second worker can add.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    parser.add_argument("--out", type=Path, help="write the Markdown section into this file")
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_emulator is not None:
        return serve_emulator(args.serve_emulator)
    sizes = SMOKE if args.smoke else FULL
    figures: dict[str, Any] = {"ingest": {}, "query": {}, "end_to_end": {}}
    with PostgresServer.started(durable=True) as server:
        for name in ("PostgreSQL", "SQLite"):
            for batch in INGEST_BATCHES:
                with databases(server, f"bench_ingest_{name.lower()}_{batch}") as urls:
                    rate = figures["ingest"][name, batch] = ingest(urls[name], sizes.ingest, batch)
                print(f"ingest {name}, {batch} per batch: {rate:,.0f} records/s", flush=True)
        with databases(server, "bench_query") as urls:
            for name, url in urls.items():
                figures["query"][name] = query_figures(url, sizes)
                for label, times in figures["query"][name].items():
                    print(f"get {name} {label}: p50 {_ms(statistics.median(times))}", flush=True)
        for workers in (1, 2):
            figures["end_to_end"][workers] = end_to_end(server, sizes.end_to_end, workers)
            print(f"end to end, {workers} worker(s): {figures['end_to_end'][workers]:,.0f}/s")
    lines = report(sizes, figures)
    print("\n".join(lines))
    if args.out is not None:
        write_section(args.out, lines, MARKERS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
