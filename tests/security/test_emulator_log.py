"""The emulator checks the token before it logs a request, and caps what it keeps."""

from __future__ import annotations

import httpx

from sequin_orm.emulator import Emulator

TOKEN = "tok-log-11aa"


def test_unauthenticated_requests_are_not_logged() -> None:
    emu = Emulator(TOKEN)
    big = b"{" + b'"x":"' + b"a" * 1_000_000 + b'"}'
    with emu.serve() as url:
        for _ in range(20):
            answer = httpx.post(f"{url}/v1/streams", content=big, headers={"Authorization": "x"})
            assert answer.status_code == 401
        listed = httpx.get(f"{url}/_emulator/requests", headers={"Authorization": "Bearer no"})
        assert listed.status_code == 401
    assert emu.requests == []


def test_the_log_keeps_the_last_requests_and_not_large_bodies() -> None:
    emu = Emulator(TOKEN, max_logged_requests=3, max_logged_body=100)
    client = httpx.Client(
        transport=emu.transport(),
        base_url="http://emu",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    for i in range(5):
        client.post("/v1/streams", json={"slug": f"s{i}"})
    assert [r.json for r in emu.requests] == [{"slug": "s2"}, {"slug": "s3"}, {"slug": "s4"}]
    client.post("/v1/streams", json={"slug": "x" * 200})
    last = emu.requests[-1]
    assert last.json is None and last.truncated and last.size > 200
    shown = client.get("/_emulator/requests").json()["data"][-1]
    assert shown["truncated"] is True and shown["json"] is None
