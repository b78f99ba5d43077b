"""One phase of a session commit, for counting its CPU instructions (no server, no timing).

Timings on a shared machine vary by a quarter from run to run; instruction counts do not.
Count a phase per record as the difference between a run and a ``--dry`` one (which does
everything but the phase)::

    for dry in --dry ""; do
      valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/phases.py commit 2000 $dry 2>&1 | grep Collected
    done                     # (second - first) / 2000 = instructions per record

Phases, each including the ones before it: ``construct`` (``Contact(**row)``), ``save``
(enqueue in a session), ``plan``, ``payloads``, ``http`` (send without applying the
answers), ``commit`` (the whole commit); ``raw`` is the hand-written httpx baseline of
``run.py``. The server is an ``httpx.MockTransport`` answering with prepared JSON, so only the
client's work is counted.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench

import sequin_orm
from sequin_orm import Session
from sequin_orm.models import salesforce
from sequin_orm.plan import mutation_body, payloads_of

PHASES = ("construct", "save", "plan", "payloads", "http", "commit", "raw")
_answers: dict[int, bytes] = {}
_requests = itertools.count()


def answer(request: httpx.Request) -> httpx.Response:
    """A created record per record sent, prepared once per chunk size; each request's ids are
    its own (one commit must not get the same upstream id twice)."""
    count = request.content.count(b'"data"')
    if count not in _answers:
        factory = bench.RecordFactory()
        _answers[count] = json.dumps(
            {"records": [factory.record(i) for i in range(count)]}
        ).encode()
    ids = b'"003%06d' % next(_requests)  # ids are "003" and 15 digits, the first 6 zeros
    content = _answers[count].replace(b'"003000000', ids)
    return httpx.Response(200, content=content, headers={"content-type": "application/json"})


def run_phase(phase: str, rows: list[dict[str, str]], client: sequin_orm.Client) -> None:
    if phase == "raw":
        with httpx.Client(
            base_url=client.settings.base_url, transport=httpx.MockTransport(answer)
        ) as http:
            bench.raw_commit(http, rows)
        return
    if phase == "commit":
        bench.session_commit(client, rows)
        return
    objects = [salesforce.Contact(**row) for row in rows]  # type: ignore[arg-type]
    if phase == "construct":
        return
    session = Session(client)
    session.activate()
    for obj in objects:
        obj.save()
    session.deactivate()
    if phase == "save":
        return
    steps, _ = session._plan(None, client.settings)
    if phase == "plan":
        return
    payloads = [payloads_of(step) for step in steps]
    if phase == "http":
        for step, data in zip(steps, payloads, strict=True):
            client.run_mutation(mutation_body(step, data))


def main(argv: list[str]) -> int:
    phase, n, dry = argv[0], int(argv[1]), argv[2:] == ["--dry"]
    if phase not in PHASES:
        raise SystemExit(f"usage: phases.py {{{'|'.join(PHASES)}}} N [--dry]")
    client = sequin_orm.Client(
        bench.TOKEN,
        "https://api.sequin.io",
        syncs={"salesforce": bench.SYNC},
        transport=httpx.MockTransport(answer),
    )
    warm = bench.rows(bench.CHUNK)
    bench.session_commit(client, warm)  # imports, caches and the prepared answers, for N = 0 too
    run_phase("raw", warm, client)
    rows = bench.rows(n)
    if not dry:
        run_phase(phase, rows, client)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
