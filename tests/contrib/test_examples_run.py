"""Each example starts with its one documented command and serves its two pages."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(args: list[str], url: str) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEQUIN_", "DJANGO_"))}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    raise AssertionError(f"{args} did not start:\n{output}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def create_and_list(base: str, form: dict[str, str]) -> str:
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token:
            form = {**form, "csrfmiddlewaretoken": token.group(1)}
        created = client.post("/", data=form)
        assert created.status_code == 302, created.text
        assert created.headers["location"].endswith("/contacts/?created=1")
        return client.get("/contacts/").text


def test_the_django_example_runs_with_manage_py_runserver() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(EXAMPLES / "django_app" / "manage.py"), "runserver", f"127.0.0.1:{port}"]

    with running([*command, "--noreload"], base + "/") as process:
        page = create_and_list(base, {"first_name": "Paul", "last_name": "Atreides"})

    output = process.stdout.read() if process.stdout else ""
    assert "System check identified no issues" in output
    assert "Paul Atreides" in page


def test_the_flask_example_runs_with_python_app_py() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with running([str(EXAMPLES / "flask_app" / "app.py"), "--port", str(port)], base + "/"):
        page = create_and_list(base, {"first_name": "Chani", "last_name": "Kynes"})

    assert "Chani Kynes" in page


def test_the_fastapi_example_runs_with_python_app_py() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    command = [str(EXAMPLES / "fastapi_app" / "app.py"), "--port", str(port)]
    with running(command, base + "/docs"), httpx.Client(base_url=base, timeout=10) as client:
        created = client.post("/contacts", json={"first_name": "Alia", "last_name": "Atreides"})
        listed = client.get("/contacts").json()

    assert created.status_code == 201
    assert created.json()["upstream_id"] in [c["upstream_id"] for c in listed]
