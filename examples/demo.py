"""sequin-orm demo: the library end to end against the embedded Sequin emulator.

Run with `make demo` (or `python examples/demo.py`). Nothing leaves this machine: the
emulator serves the Sequin v1 API on 127.0.0.1 and the library talks to it over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

import sequin_orm
from sequin_orm import Consumer, Sync
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce
from sequin_orm.progress import progress_bar

BATCH = 3_000


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


class LocalCopy:
    """What your app would keep in its own database: records as a consumer delivers them."""

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, consumer: Consumer) -> None:
        """Start a worker that receives, stores and acks messages until ``stop()``."""

        def work() -> None:
            while not self._stop.is_set():
                messages = consumer.receive(batch_size=500, wait_for=100)
                for message in messages:
                    record = message.raw.get("record") or {}
                    if record.get("collection_id") == "salesforce:contact":
                        self.contacts[record["upstream_id"]] = record
                consumer.ack_all(messages)

        self._thread = threading.Thread(target=work, name="consumer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


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
    client = sequin_orm.configure(
        emulator.token, base_url, syncs={"salesforce": sync.id}, transport=counter
    )

    paul = salesforce.Contact(FirstName="Paul", LastName="Atreides", Email="paul@arrakis.org")
    with step("save() a new Contact (create)", timings):
        paul.save()
    print(f"    upstream_id={paul.upstream_id}")
    with step("change Email, save() again (update of one field)", timings):
        paul.Email = "muaddib@arrakis.org"
        paul.save()
    with step("delete() it", timings):
        paul.delete()

    consumer = Consumer.objects.create(stream_id=stream_id, name="demo-app", deliver_policy="new")
    local = LocalCopy()
    local.follow(Consumer(consumer.id, client=client))
    title = f"Session: commit {BATCH:,} Contacts + 1 Account, awaiting the consumer"
    with step(title, timings), sequin_orm.Session() as session:
        house = salesforce.Account(Name="House Atreides")
        for i in range(BATCH):
            salesforce.Contact(
                FirstName="Fremen",
                LastName=f"No. {i}",
                Email=f"f{i}@sietch.org",
                AccountId=house,
            ).save()
        with progress_bar("    committed") as bar:  # a tqdm bar (plain lines without tqdm)
            result = session.commit(await_consumer_ids=[consumer.id], progress=bar)
    created = [c.upstream_id for c in result.created if isinstance(c, salesforce.Contact)]
    print(f"    {result.summary()}")
    stored = sum(upstream_id in local.contacts for upstream_id in created)
    print(
        f"    read-your-writes: the consumer had stored {stored:,} of {len(created):,}"
        " new contacts when commit() returned"
    )
    local.stop()
    with step("read the Contacts back through /v1/records", timings):
        read_back = list(salesforce.Contact.objects.iter(sync_id=sync.id, limit=1000))
    print(f"    {len(read_back):,} live contacts read back as typed models")


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
