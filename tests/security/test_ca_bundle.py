"""``trust_env=False`` drops httpx's reading of SSL_CERT_FILE/SSL_CERT_DIR: the client honours
them itself, so a corporate CA keeps working. A real TLS server on loopback whose certificate
only the temporary CA bundle trusts."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.emulator.server import _Server
from sequin_orm.errors import APIConnectionError, ConfigurationError

TOKEN = "tok-tls-41c2"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def tls_emulator(emu: Emulator, cert: Path, key: Path) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), emu.handle)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()


def test_ssl_cert_file_is_honoured(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    emu = Emulator(TOKEN)
    with tls_emulator(emu, cert, key) as url:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        with (
            sequin_orm.Client(TOKEN, url, max_retries=0) as untrusting,
            pytest.raises(APIConnectionError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"),
        ):
            untrusting.streams.list()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with sequin_orm.Client(TOKEN, url) as client:
            assert client.streams.list() == []
    assert [r.path for r in emu.requests] == ["/v1/streams"]


def test_ssl_cert_dir_is_honoured(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = certificate
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shutil.copy(cert, tmp_path / f"{subject_hash}.0")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    emu = Emulator(TOKEN)
    with tls_emulator(emu, cert, key) as url, sequin_orm.Client(TOKEN, url) as client:
        assert client.streams.list() == []


def test_an_unreadable_ca_bundle_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        sequin_orm.Client(TOKEN, "https://api.sequin.io")
