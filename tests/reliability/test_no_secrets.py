"""No API token and no credential secret in logs, exception text or cassettes.

One workload touches everything that talks to the API — mutations that succeed and fail in
every way the fault matrix knows, retries, a wrong token, a closed port, syncs and credentials
created with secrets (and a server that echoes a secret back), reads — while DEBUG logs of
``sequin_orm``, ``httpx`` and ``httpcore`` are captured and the traffic is recorded to a vcrpy
cassette with the project's ``sequin_vcr_config``. Then every log line, every exception string
(``str``, ``repr``, traceback, ``args``, body) and every cassette — the one just recorded and
every file under ``cassettes/`` that the suite replays — is searched.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import secrets
import socket
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr  # type: ignore[import-untyped]
import yaml  # type: ignore[import-untyped]
from vcr.record_mode import RecordMode  # type: ignore[import-untyped]

import sequin_orm
from sequin_orm import Session
from sequin_orm.config import Timeouts
from sequin_orm.emulator import Emulator
from sequin_orm.errors import AuthenticationError, CommitError, SequinError
from sequin_orm.models import salesforce
from sequin_orm.secrets import MASK, collect_secret_values
from sequin_orm.testing import REDACTED, sequin_vcr_config

from . import fault_cases as fc

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
SYNC = "sync-sf"

API_TOKEN = f"sqn_live_{secrets.token_hex(16)}"
WRONG_TOKEN = f"sqn_wrong_{secrets.token_hex(16)}"
CREDENTIAL_SECRETS = {
    "secret": f"sk_live_{secrets.token_hex(12)}",
    "refresh_token": f"rt_{secrets.token_hex(12)}",
    "client_secret": f"cs_{secrets.token_hex(12)}",
    "password": f"pw_{secrets.token_hex(12)}",
    "api_key": f"ak_{secrets.token_hex(12)}",
}
HAVE_SYNCS = importlib.util.find_spec("sequin_orm.syncs") is not None
HAVE_CREDENTIALS = importlib.util.find_spec("sequin_orm.credentials") is not None


def _suite_tokens() -> list[str]:
    """Tokens and secrets other tests use (and so might have recorded), where importable."""
    found: list[str] = []
    for module, names in (
        ("tests.conftest", ("TOKEN",)),
        ("tests.syncs.seed_example", ("SECRET",)),
        ("tests.syncs.test_sync_cassettes", ("TOKEN",)),
        ("tests.core.test_seed_requests", ("TOKEN",)),
    ):
        try:
            imported = __import__(module, fromlist=list(names))
        except ImportError:
            continue
        found += [v for n in names if isinstance(v := getattr(imported, n, None), str) and v]
    return found


class Collected:
    """Every exception text the workload saw."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, error: BaseException) -> None:
        self.texts += [str(error), repr(error), repr(error.args)]
        self.texts.append("".join(traceback.format_exception(error)))
        body = getattr(error, "body", None)
        if body is not None:
            self.texts.append(repr(body))
        result = getattr(error, "result", None)  # CommitError, or a 401/403 that refused one
        if result is not None:
            for outcome in result.outcomes:
                self.texts.append(repr(outcome))
                if outcome.error is not None and outcome.error is not error:
                    self.add(outcome.error)

    def expect(self, error_type: type[BaseException], call: Callable[[], Any]) -> None:
        with pytest.raises(error_type) as caught:
            call()
        self.add(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _recording(path: Path) -> Iterator[None]:
    recorder = vcr.VCR(**sequin_vcr_config(), record_mode=RecordMode.ALL)
    with recorder.use_cassette(str(path)):
        yield


def _mutation_workload(emu: Emulator, url: str, seen: Collected) -> None:
    client = sequin_orm.Client(
        API_TOKEN,
        url,
        syncs={"salesforce": SYNC},
        timeout=Timeouts(connect=5.0, read=fc.READ_TIMEOUT, write=5.0, pool=5.0),
    )
    client.http.sleep = lambda seconds: None
    with client:
        contacts = [salesforce.Contact(LastName=f"Secretive {i}") for i in range(3)]
        with Session(client):
            for contact in contacts:
                contact.save()
        with Session(client):
            contacts[0].Email = "paul@arrakis.org"
            contacts[0].save()
            contacts[1].delete()
        for fault in fc.FAULTS:
            if not fault.inject or (fault.every_attempt and "latency" in fault.inject):
                continue  # (the slow read timeouts once are enough)
            for kind in fc.KINDS:
                emu.inject(kind=kind, times=fault.times, **fault.inject)
                record = emu.create_record(SYNC, "salesforce:contact", {"LastName": "Target"})
                target = salesforce.Contact.from_record(record)
                session = Session(client)
                if kind == "create":
                    session.add(salesforce.Contact(LastName=f"Faulty {fault.id}"))
                elif kind == "update":
                    target.Title = f"after {fault.id}"
                    session.add(target)
                else:
                    session.delete(target)
                try:
                    session.commit()
                except CommitError as error:
                    seen.add(error)
                emu.clear_faults()
                session.rollback()
        # outside a session the API error itself is raised
        emu.inject(kind="create", status=500)
        seen.expect(SequinError, salesforce.Contact(LastName="Alone").save)
        # upstream validation error
        seen.expect(SequinError, salesforce.Contact(LastName="X", Email="not-an-email").save)
        # the awaited consumer never acks
        consumer = emu.create_consumer()
        seen.expect(
            SequinError,
            lambda: salesforce.Contact(LastName="Awaiting").save(
                await_consumer_ids=[consumer["id"]], await_consumers_timeout=50
            ),
        )
        with Session(client) as session:  # reads
            salesforce.Contact.objects.using(client).iter(limit=10)
            records = list(salesforce.Contact.objects.using(client).iter(limit=10))
            assert records and session is sequin_orm.current_session()
    with sequin_orm.Client(WRONG_TOKEN, url, syncs={"salesforce": SYNC}) as wrong:
        seen.expect(SequinError, lambda: wrong.run_mutation({"kind": "delete"}))
        seen.expect(
            AuthenticationError,
            lambda: _commit(wrong, salesforce.Contact(LastName="Wrong token")),
        )
    closed = f"http://127.0.0.1:{_closed_port()}"
    with sequin_orm.Client(API_TOKEN, closed, syncs={"salesforce": SYNC}) as refused:
        refused.http.sleep = lambda seconds: None
        seen.expect(CommitError, lambda: _commit(refused, salesforce.Contact(LastName="Nobody")))


def _commit(client: sequin_orm.Client, obj: salesforce.Contact) -> None:
    session = Session(client)
    session.add(obj)
    session.commit()


def _management_workload(emu: Emulator, url: str, seen: Collected, *, echo: bool = False) -> None:
    if not HAVE_SYNCS:  # pragma: no cover - until sequin_orm/syncs.py lands
        return
    stream = emu.create_stream(f"secret-stream-{secrets.token_hex(4)}")
    credential = {"properties": {"kind": "stripe_key", **CREDENTIAL_SECRETS}}
    with sequin_orm.Client(API_TOKEN, url) as client:
        client.http.sleep = lambda seconds: None
        sync = client.syncs.create(
            provider="stripe",
            stream_id=str(stream["id"]),
            name="Stripe with secrets",
            collection_ids=["stripe:customer"],
            credential=credential,
        )
        texts = [repr(sync), str(sync), repr(sync.credential), repr(client.syncs.list())]
        texts.append(repr(client.syncs.get(sync.id)))
        seen.texts += texts
        emu.inject(path="/v1/syncs", method="POST", status=500)
        seen.expect(
            SequinError,
            lambda: client.syncs.create(
                provider="stripe",
                stream_id=str(stream["id"]),
                name="Server error",
                collection_ids=["stripe:customer"],
                credential=credential,
            ),
        )
        if echo:  # the server quotes the secret in its error message
            secret = CREDENTIAL_SECRETS["secret"]
            emu.inject(path="/v1/syncs", method="POST", error=f"Stripe rejected the key {secret}")
            seen.expect(
                SequinError,
                lambda: client.syncs.create(
                    provider="stripe",
                    stream_id=str(stream["id"]),
                    name="Rejected",
                    collection_ids=["stripe:customer"],
                    credential=credential,
                ),
            )
        if HAVE_CREDENTIALS:
            created = client.credentials.create(
                {
                    "kind": "salesforce",
                    "instance_url": "https://x.my.salesforce.com/",
                    "refresh_token": CREDENTIAL_SECRETS["refresh_token"],
                },
                name="Salesforce with a secret",
            )
            seen.texts += [repr(created), str(created), repr(client.credentials.list())]


def _cassette_problems(path: Path, secrets_: list[str]) -> list[str]:
    """What in a cassette could leak: a real Authorization header, an unmasked secret."""
    text = path.read_text(encoding="utf-8")
    problems = [f"{path}: contains {s[:6]}…" for s in secrets_ if s in text]
    data = yaml.safe_load(text) or {}
    for number, interaction in enumerate(data.get("interactions", [])):
        request, response = interaction["request"], interaction["response"]
        for name, values in (request.get("headers") or {}).items():
            if name.lower() == "authorization" and values != [f"Bearer {REDACTED}"]:
                problems.append(f"{path} #{number}: Authorization {values!r}")
        for what, raw in (
            ("request", request.get("body")),
            ("response", (response.get("body") or {}).get("string")),
        ):
            try:
                body = json.loads(raw) if raw else None
            except (TypeError, ValueError):
                continue
            leaked = [v for v in collect_secret_values(body) if v not in (MASK, REDACTED)]
            if leaked:
                problems.append(f"{path} #{number}: {what} body holds unmasked secret values")
    return problems


def test_no_token_or_credential_secret_in_logs_exceptions_or_cassettes(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    for name in ("sequin_orm", "sequin_orm.emulator", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    seen = Collected()
    emu = Emulator(token=API_TOKEN)
    emu.create_sync("salesforce", ["salesforce:contact"], id=SYNC)
    recorded = tmp_path / "workload.yaml"
    with emu.serve() as url:
        with _recording(recorded):
            _mutation_workload(emu, url, seen)
            _management_workload(emu, url, seen)
        # not recorded: see test_a_secret_echoed_by_the_server_stays_out_of_cassettes
        _management_workload(emu, url, seen, echo=True)

    all_secrets = [API_TOKEN, WRONG_TOKEN, *CREDENTIAL_SECRETS.values()]
    assert len(caplog.records) > 100, "the workload should have logged at DEBUG"
    assert len(seen.texts) > 50, "the workload should have raised many errors"
    log_lines = [caplog.handler.format(record) for record in caplog.records]
    log_lines += [record.getMessage() for record in caplog.records]
    for secret in all_secrets:
        assert not [line for line in log_lines if secret in line], "a secret in the logs"
        assert not [text for text in seen.texts if secret in text], "a secret in an error"

    cassettes = [*sorted(CASSETTES.rglob("*.yaml")), recorded]
    assert recorded.exists() and len(yaml.safe_load(recorded.read_text())["interactions"]) > 50
    problems = [p for c in cassettes for p in _cassette_problems(c, all_secrets + _suite_tokens())]
    assert problems == []
    if not HAVE_SYNCS:  # pragma: no cover
        pytest.skip("sequin_orm.syncs is missing: only the API token was checked")


@pytest.mark.skipif(not HAVE_SYNCS, reason="needs sequin_orm.syncs")
def test_a_secret_echoed_by_the_server_stays_out_of_cassettes(tmp_path: Path) -> None:
    emu = Emulator(token=API_TOKEN)
    recorded = tmp_path / "echo.yaml"
    seen = Collected()
    with emu.serve() as url, _recording(recorded):
        _management_workload(emu, url, seen, echo=True)
    assert not [t for t in seen.texts if CREDENTIAL_SECRETS["secret"] in t]  # the error is masked
    assert _cassette_problems(recorded, list(CREDENTIAL_SECRETS.values())) == []
