"""sequin-orm demo: the library end to end against the embedded Sequin emulator.

Run with `make demo` (or `python examples/demo.py`). Nothing leaves this machine: the
emulator serves the Sequin v1 API on 127.0.0.1 and the library talks to it over real HTTP.
A mirror (a SQLite file in a temporary directory) follows the emulator's consumer from a
worker thread, so `Contact.objects.filter(...)` queries your own database.
"""

from __future__ import annotations

import csv
import io
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import sequin_orm
from sequin_orm import Consumer, Sync
from sequin_orm.emulator import Emulator
from sequin_orm.mirror import Mirror
from sequin_orm.models import salesforce
from sequin_orm.progress import progress_bar

BATCH = 3_000
CSV_ROWS = "\n".join(
    ["FirstName,LastName,Email"] + [f"Sietch,No. {i},s{i}@tabr.org" for i in range(500)]
)


class RequestCounter(httpx.HTTPTransport):
    """Counts the HTTP requests the library sends, by method and path."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.counts[f"{request.method} {request.url.path}"] += 1
        return super().handle_request(request)


@contextmanager
def step(title: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[title] = time.perf_counter() - started
    print(f"  {title:<66} {timings[title] * 1000:8.1f} ms")


def run(emulator: Emulator, base_url: str, counter: RequestCounter) -> None:
    timings: dict[str, float] = {}
    sequin_orm.configure(emulator.token, base_url, transport=counter)
    stream_id = emulator.create_stream("demo")["id"]

    with step("create a Salesforce sync (POST /v1/syncs)", timings):
        sync = Sync.objects.create(
            provider="salesforce",
            stream_id=stream_id,
            name="Arrakis Corp - Salesforce",
            collection_ids=["salesforce:contact", "salesforce:account"],
            credential={
                "properties": {
                    "kind": "salesforce",
                    "instance_url": "https://arrakis.my.salesforce.com/",
                    "refresh_token": "demo-refresh-token",
                }
            },
        )
    print(f"    sync {sync.id} ({sync.status}); its credential: {sync.credential.properties}")
    consumer = Consumer.objects.create(stream_id=stream_id, name="demo-app", deliver_policy="new")
    database = Path(tempfile.mkdtemp(prefix="sequin-demo-")) / "sequin-mirror.db"
    client = sequin_orm.Client(emulator.token, base_url, transport=counter)  # fills the mirror
    mirror = Mirror(f"sqlite:///{database}", consumer_id=consumer.id, client=client,
                    read_your_writes=True)  # fmt: skip
    sequin_orm.configure(emulator.token, base_url, syncs={"salesforce": sync.id},
                         transport=counter, mirror=mirror)  # fmt: skip
    worker = threading.Thread(target=mirror.run, kwargs={"wait_for": 500}, daemon=True)
    worker.start()
    print(f"    mirror: {database} (SQLite), a worker thread follows consumer {consumer.id}")
    try:
        writes_and_queries(timings)
    finally:
        mirror.stop()
        worker.join()
        mirror.close()
        client.close()
    with step("read the Contacts back through /v1/records", timings):
        read_back = list(salesforce.Contact.objects.iter(sync_id=sync.id, limit=1000))
    print(f"    {len(read_back):,} live contacts read back as typed models")


def writes_and_queries(timings: dict[str, float]) -> None:
    contacts = salesforce.Contact.objects
    paul = salesforce.Contact(FirstName="Paul", LastName="Atreides", Email="paul@arrakis.org")
    with step("save() a new Contact (create, awaits the mirror's consumer)", timings):
        paul.save()
    with step("query it by email at once: objects.get(Email=...)", timings):
        found = contacts.get(Email="paul@arrakis.org")
    print(f"    {found!r}, read from the mirror, not the API")
    with step("change Email, save() again (update of one field)", timings):
        paul.Email = "muaddib@arrakis.org"
        paul.save()
    print(f"    objects.filter(Email='muaddib@arrakis.org').count() = "
          f"{contacts.filter(Email='muaddib@arrakis.org').count()}")  # fmt: skip
    with step("delete() it", timings):
        paul.delete()
    print(f"    objects.filter(LastName='Atreides').exists() = "
          f"{contacts.filter(LastName='Atreides').exists()}")  # fmt: skip

    title = f"Session: commit {BATCH:,} Contacts + 1 Account"
    with step(title, timings), sequin_orm.Session() as session:
        house = salesforce.Account(Name="House Atreides")
        for i in range(BATCH):
            salesforce.Contact(
                FirstName="Fremen", LastName=f"No. {i}", Email=f"f{i}@sietch.org", AccountId=house
            ).save()
        with progress_bar("    committed") as bar:  # a tqdm bar (plain lines without tqdm)
            result = session.commit(progress=bar)
    print(f"    {result.summary()}; the mirror holds {contacts.count():,} contacts already")

    rows = list(csv.DictReader(io.StringIO(CSV_ROWS)))
    for run_number in (1, 2):
        with step(f"upsert {len(rows)} CSV rows by Email, run {run_number}", timings):
            result = contacts.upsert(rows, key="Email")
        print(f"    {result.summary()}")


def main() -> int:
    emulator = Emulator(token="demo-token")
    counter = RequestCounter()
    print("sequin-orm demo — running against the LOCAL Sequin emulator (no network, no account)")
    with emulator.serve() as base_url:
        print(f"emulator: {base_url}\n")
        started = time.perf_counter()
        run(emulator, base_url, counter)
        total = time.perf_counter() - started
    print_report(emulator, counter, total)
    return 0


def print_report(emulator: Emulator, counter: RequestCounter, total: float) -> None:
    records = emulator.records("salesforce:contact")
    live = sum(1 for r in records if not r["deleted"])
    kinds = {k: len(emulator.mutation_requests(k)) for k in ("create", "update", "delete")}
    print("\nRequests the library sent:")
    for endpoint, count in sorted(counter.counts.items()):
        print(f"  {count:6,}  {endpoint}")
    print("\nMutation requests: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    print(
        f"Contacts in the emulator: {len(records):,} ({live:,} live, {len(records) - live} deleted)"
    )
    print(f"Total time: {total:.2f} s, all against the LOCAL emulator.")


if __name__ == "__main__":
    raise SystemExit(main())
