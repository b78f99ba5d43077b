"""The admin API, the real HTTP server, the async transport, the CLI and a speed check."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sequin_orm.emulator import Emulator
from sequin_orm.emulator.cli import main
from tests.emulator.emu_helpers import AUTH, MUTATE, TOKEN, mutation

ROOT = Path(__file__).resolve().parents[2]


def test_admin_faults_over_http(front_door: httpx.Client, emu: Emulator) -> None:
    added = front_door.post("/_emulator/faults", json={"path": "/v1/syncs", "status": 503})
    assert added.status_code == 200 and added.json()["status"] == 503
    assert [f["id"] for f in front_door.get("/_emulator/faults").json()["data"]] == [
        added.json()["id"]
    ]
    assert front_door.get("/v1/syncs").status_code == 503
    front_door.post("/_emulator/faults", json={"status": 500, "times": 3})
    assert front_door.delete("/_emulator/faults").status_code == 204
    assert front_door.get("/v1/syncs").status_code == 200
    for bad in ({"colour": "red"}, {"status": 99}, [1]):
        response = front_door.post("/_emulator/faults", json=bad)
        assert response.status_code == 422 and "fault" in response.json()["validation_errors"]


def test_admin_reset_and_requests(front_door: httpx.Client) -> None:
    front_door.post("/v1/streams", json={"slug": "dev"})
    logged = front_door.get("/_emulator/requests").json()["data"]
    assert logged == [
        {"method": "POST", "path": "/v1/streams", "query": {}, "json": {"slug": "dev"}}
    ]
    assert front_door.post("/_emulator/reset").status_code == 204
    assert front_door.get("/v1/streams").json() == {"data": []}
    assert front_door.delete("/_emulator/requests").status_code == 204
    assert front_door.get("/_emulator/requests").json() == {"data": []}


def test_reset_reapplies_the_seed(demo: Emulator) -> None:
    demo.create_record(demo.seeded["salesforce_sync"], "salesforce:contact", {"LastName": "A"})
    demo.inject(status=500)
    demo.reset()
    assert demo.records() == [] and demo.faults == [] and demo.requests == []
    assert demo.seeded["salesforce_sync"] == "de000000-0000-4000-8000-000000000003"


def test_demo_seed(demo_client: httpx.Client, demo: Emulator) -> None:
    syncs = demo_client.get("/v1/syncs").json()["data"]
    assert [s["provider"] for s in syncs] == ["salesforce", "stripe", "hubspot"]
    salesforce = demo_client.get(f"/v1/syncs/{demo.seeded['salesforce_sync']}").json()
    assert salesforce["collection_ids"] == [
        "salesforce:contact",
        "salesforce:account",
        "salesforce:task",
        "salesforce:lead",
        "salesforce:opportunity",
    ]
    assert salesforce["credential"]["properties"]["refresh_token"] == "***********"
    assert demo_client.get(f"/v1/http-consumers/{demo.seeded['consumer']}").status_code == 200
    assert len(demo_client.get("/v1/streams").json()["data"]) == 1
    with pytest.raises(ValueError, match="unknown seed"):
        Emulator(seed="nope")


def test_server_keeps_connections_alive_and_sets_content_length(emu: Emulator) -> None:
    with emu.serve() as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            request = (
                f"GET /v1/streams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                f"POST /v1/http-consumers/none/ack HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Length: 2\r\n\r\n{{}}"
            )
            sock.sendall(request.encode())
            received = b""
            while received.count(b"HTTP/1.1 ") < 2 or not received.endswith(b"}"):
                chunk = sock.recv(65536)
                assert chunk, received
                received += chunk
    first, second = received.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and b"Content-Length: 11" in first
    assert first.endswith(b'{"data":[]}')
    assert second.startswith(b"404") and b"Content-Length: " in second


def test_server_reads_chunked_bodies(emu: Emulator) -> None:
    with emu.serve() as url, httpx.Client(base_url=url, headers=AUTH) as client:
        body = iter([b'{"slug":', b' "chunked"}'])
        response = client.post("/v1/streams", content=body)
        assert response.status_code == 200 and response.json()["slug"] == "chunked"


def test_two_thousand_creates_over_http_are_fast(emu: Emulator) -> None:
    emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    started = time.monotonic()
    with emu.serve() as url, httpx.Client(base_url=url, headers=AUTH) as client:
        for chunk in range(10):
            records = [{"data": {"LastName": f"L{chunk}-{i}"}} for i in range(200)]
            body = mutation("create", "sf", "salesforce:contact", records=records)
            assert client.post(MUTATE, json=body).status_code == 200
    elapsed = time.monotonic() - started
    upstream_ids = {r["upstream_id"] for r in emu.records()}
    assert len(upstream_ids) == 2000 and len(emu.mutation_requests("create")) == 10
    assert elapsed < 5, elapsed


def test_async_transport(emu: Emulator) -> None:
    emu.create_sync("salesforce", ["salesforce:contact"], id="sf")
    consumer = emu.create_consumer()["id"]

    async def scenario() -> tuple[int, int]:
        transport = emu.async_transport()
        async with httpx.AsyncClient(transport=transport, base_url="http://h", headers=AUTH) as c:
            waiting = asyncio.create_task(
                c.post(f"/v1/http-consumers/{consumer}/next", json={"wait_for": 3000})
            )
            await asyncio.sleep(0.05)
            body = mutation(
                "create", "sf", "salesforce:contact", records=[{"data": {"LastName": "A"}}]
            )
            created = await c.post(MUTATE, json=body)
            delivered = await waiting
            emu.inject(drop="before")
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("/v1/syncs")
            return created.status_code, len(delivered.json()["data"])

    assert asyncio.run(scenario()) == (200, 1)


def test_cli_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_cli_serves_until_interrupted() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "sequin_orm.emulator",
        "--port",
        "0",
        "--seed",
        "demo",
        "--token",
        "cli-token",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(7)]
        url = lines[0].split()[-1]
        assert lines[1] == f"SEQUIN_BASE_URL={url}\n" and lines[2] == "SEQUIN_API_TOKEN=cli-token\n"
        assert "SEQUIN_SYNC_SALESFORCE=de000000-0000-4000-8000-000000000003\n" in lines
        assert any(line.startswith("consumer id: ") for line in lines)
        headers = {"Authorization": "Bearer cli-token"}
        assert len(httpx.get(f"{url}/v1/syncs", headers=headers).json()["data"]) == 3
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
        if process.stdout is not None:
            process.stdout.close()
