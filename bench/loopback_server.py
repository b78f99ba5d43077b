"""A cheap stand-in for Sequin's ``POST /v1/mutations/run``, for ``bench/instructions.py``.

Runs in its own process (``python bench/loopback_server.py``; prints ``{"url": ...}`` on its
first stdout line, then serves until killed). Only the client process is measured, so this
server only has to answer correctly, not quickly; it imports nothing of sequin_orm.

- ``create``: one record per record sent, in request order, each with a fresh ``upstream_id``
  (``"003"`` and 15 digits, counted from 1 since the last reset) and the data sent plus ``Id``;
- ``update``: the stored record of each ``upstream_id`` sent, in request order, its data
  merged with the data sent;
- ``delete``: the stored record of each ``upstream_id`` sent, ``deleted: true``.

The records have the shape of the emulator's (``id``, ``upstream_id``, ``collection_id``,
``sync_id``, ``sync``, ``data``, timestamps, ``updated_idx``...). Control endpoints:
``POST /_reset`` (forget the records, restart the id counter, clear the digest) and
``GET /_stats`` (requests answered, their kinds, and a SHA-256 of the mutation bodies received,
parsed and re-encoded with sorted keys: two clients that sent equal JSON get equal digests;
also the most mutation requests it held at once, ``max_in_flight``).

``LOOPBACK_LATENCY_MS`` (default 0) adds that many milliseconds to every mutation request, slept
outside the state lock before the request is applied (as an upstream API's time would be): the
server answers each connection on its own thread, so concurrent requests wait side by side.
``bench/concurrency.py`` sets it to 150.
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import os
import sys
import threading
import time
from typing import Any

MUTATIONS = "/v1/mutations/run"
LATENCY_S = float(os.environ.get("LOOPBACK_LATENCY_MS") or 0) / 1000


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.next_id = 1
        self.idx = 1
        self.records: dict[str, dict[str, Any]] = {}
        self.digest = hashlib.sha256()
        self.kinds: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def stats(self) -> dict[str, Any]:
        return {
            "requests": len(self.kinds),
            "kinds": {k: self.kinds.count(k) for k in ("create", "update", "delete")},
            "bodies_sha256": self.digest.hexdigest(),
            "max_in_flight": self.max_in_flight,
        }

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def run(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        kind = body["kind"]
        self.kinds.append(kind)
        self.digest.update(json.dumps(body, sort_keys=True).encode())
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out = []
        if kind == "create":
            for item in body["records"]:
                upstream_id = f"003{self.next_id:015d}"
                self.next_id += 1
                record = {
                    "id": f"rec-{upstream_id}",
                    "upstream_id": upstream_id,
                    "collection_id": body["collection_id"],
                    "provider": "salesforce",
                    "stream_id": "bench-stream",
                    "sync": {"id": body["sync_id"], "external_id": None, "metadata": {}},
                    "sync_id": body["sync_id"],
                    "data": {**item["data"], "Id": upstream_id},
                    "deleted": False,
                    "inserted_at": now,
                    "upstream_created_at": now,
                    "upstream_updated_at": now,
                    "updated_idx": self.idx,
                }
                self.records[upstream_id] = record
                out.append(record)
                self.idx += 1
        elif kind == "update":
            for item in body["records"]:
                record = self.records[item["upstream_id"]]
                record["data"].update(item["data"])
                out.append(self._touch(record, now))
        elif kind == "delete":
            for upstream_id in body["upstream_ids"]:
                record = self.records[upstream_id]
                record["deleted"] = True
                out.append(self._touch(record, now))
        else:
            raise ValueError(f"unknown kind {kind!r}")
        return out

    def _touch(self, record: dict[str, Any], now: str) -> dict[str, Any]:
        record["upstream_updated_at"] = now
        record["updated_idx"] = self.idx
        self.idx += 1
        return record


STATE = State()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as against the real API
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, obj: Any) -> None:
        body = json.dumps(obj, separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)  # one write: no Nagle / delayed-ACK stall

    def do_GET(self) -> None:
        if self.path == "/_stats":
            with STATE.lock:
                self._answer(200, STATE.stats())
        else:
            self._answer(404, {"error": "Not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/_reset":
            with STATE.lock:
                STATE.reset()
            self._answer(200, {"ok": True})
            return
        if self.path != MUTATIONS:
            self._answer(404, {"error": "Not found"})
            return
        STATE.enter()
        try:
            if LATENCY_S:
                time.sleep(LATENCY_S)  # the upstream's time: outside the lock, side by side
            with STATE.lock:
                records = STATE.run(json.loads(raw))
        except (KeyError, ValueError, TypeError) as error:
            STATE.leave()
            self._answer(400, {"error": f"Error: bad mutation: {error!r}"})
            return
        STATE.leave()  # before answering: the client may send the next one at once
        self._answer(200, {"records": records})


class Server(http.server.ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: more connections opened at once (8 tasks of
    # an async commit) overflow it, and the dropped SYN is retried by the client after 1 s.
    request_queue_size = 128


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(json.dumps({"url": f"http://{host}:{port}", "pid": os.getpid()}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
