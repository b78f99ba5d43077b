"""Concurrent requests in threads, each with its own test client, never share a session.

Every request holds its view (after saving, before committing) until all requests have
arrived, so all sessions are alive at the same time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sequin_orm.contrib.flask import Sequin
from sequin_orm.emulator import Emulator
from tests.contrib.flask import apps

REQUESTS = 16
PER_REQUEST = 3


def test_threads_never_share_a_session(emu: Emulator) -> None:
    # In-process transport: the emulator's HTTP server has a listen backlog of 5, too small
    # for 16 simultaneous connections (reported; see the example tests for loopback HTTP).
    app = apps.make_app(Sequin(), apps.emulator_config(emu))
    markers = [f"thread{i}" for i in range(REQUESTS)]

    def request(marker: str) -> str:
        response = app.test_client().get(
            "/commit", query_string={"marker": marker, "count": str(PER_REQUEST)}
        )
        return response.text

    apps.BARRIER = threading.Barrier(REQUESTS)
    try:
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(request, markers))
    finally:
        apps.BARRIER = None

    assert answers == [f"{m}: {PER_REQUEST} created in 1 request(s)" for m in markers]
    bodies = [m.json for m in emu.mutation_requests()]
    assert len(bodies) == REQUESTS
    by_marker = {}
    for body in bodies:
        names = [r["data"]["LastName"] for r in body["records"]]
        marker = names[0].rsplit("-", 1)[0]
        assert names == [f"{marker}-{i}" for i in range(PER_REQUEST)]
        by_marker[marker] = names
    assert sorted(by_marker) == sorted(markers)
