"""The emulator as a real HTTP server in its own process, for the benchmarks.

Started by ``bench/run.py`` with ``subprocess``; prints ``{"url": ...}`` on stdout, then answers
one JSON command per stdin line with one JSON line:

- ``{"cmd": "reset"}``: fresh state (one Salesforce sync) and zeroed counters;
- ``{"cmd": "seed", "n": N}``: N existing contacts, answers their records;
- ``{"cmd": "stats"}``: requests answered, seconds spent answering them (the emulator's share
  of the time), the process CPU time, and a digest of the mutation bodies received (in any
  order);
- ``{"cmd": "quit"}``.

The server runs in its own process so the client's CPU time is the client's alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from sequin_orm.emulator import Emulator
from sequin_orm.emulator.protocol import Response

TOKEN = "bench-token"
SYNC = "bench-sync-sf"
COLLECTION = "salesforce:contact"


class TimedEmulator:
    """An emulator whose handler counts requests and the time spent answering them."""

    def __init__(self) -> None:
        self.emu = Emulator(token=TOKEN)
        self.lock = threading.Lock()
        self.requests = 0
        self.busy = 0.0
        self.reset()
        inner = self.emu.handle

        def handle(
            method: str, path: str, query: str | Mapping[str, str], headers: Any, body: bytes
        ) -> Response:
            started = time.perf_counter()
            try:
                return inner(method, path, query, headers, body)
            finally:
                spent = time.perf_counter() - started
                with self.lock:
                    self.requests += 1
                    self.busy += spent

        self.emu.handle = handle  # type: ignore[method-assign]  # serve() reads it

    def reset(self) -> None:
        self.emu.reset()
        self.emu.create_sync("salesforce", [COLLECTION], id=SYNC)
        with self.lock:
            self.requests, self.busy = 0, 0.0

    def stats(self) -> dict[str, Any]:
        # Sorted: a client sending chunks concurrently may deliver them in any order.
        digest = hashlib.sha256()
        mutations = self.emu.mutation_requests()
        for body in sorted(json.dumps(request.json, sort_keys=True) for request in mutations):
            digest.update(body.encode())
        with self.lock:
            return {
                "requests": self.requests,
                "busy_s": self.busy,
                "cpu_s": time.process_time(),
                "mutations": len(mutations),
                "kinds": [(r.json or {}).get("kind") for r in mutations],
                "bodies_sha256": digest.hexdigest(),
            }


def main() -> None:
    server = TimedEmulator()
    with server.emu.serve() as url:
        print(json.dumps({"url": url}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            name = command["cmd"]
            if name == "quit":
                break
            if name == "reset":
                server.reset()
                answer: Any = {"ok": True}
            elif name == "seed":
                answer = [
                    server.emu.create_record(
                        SYNC,
                        COLLECTION,
                        {"FirstName": f"Seed{i}", "LastName": f"Contact{i}", "Title": "Old"},
                    )
                    for i in range(int(command["n"]))
                ]
            elif name == "stats":
                answer = server.stats()
            else:
                answer = {"error": f"unknown command {name!r}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
