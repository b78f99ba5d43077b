"""A throwaway PostgreSQL server for the mirror's tests and benchmarks (one place, two users).

::

    with PostgresServer.started() as server:       # initdb + pg_ctl in a temporary directory
        url = server.create_database("t1")         # postgresql+psycopg://…@127.0.0.1:PORT/t1

The server binaries come from ``pg_config --bindir`` (Debian keeps them off ``PATH``).
``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` user
(``runuser``). The server listens on a free loopback port, its socket in the temporary
directory; ``stop()`` shuts it down and removes the directory. ``PostgresUnavailable`` says
why a server could not start.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

__all__ = ["PostgresServer", "PostgresUnavailable", "start_for_tests"]

USER = "sequin"
PASSWORD = "mirror-test-pw-7c1e"  # the tests check that it never shows in reprs or errors


class PostgresUnavailable(RuntimeError):
    """The server could not be started here (no binaries, no postgres user, initdb failed)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        raise PostgresUnavailable("pg_config is not on PATH (install PostgreSQL 15+)")
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


class PostgresServer:
    """One running server; ``create_database`` hands out fresh databases on it."""

    def __init__(self, directory: Path, port: int, bindir: Path, *, durable: bool) -> None:
        self.directory = directory
        self.port = port
        self.bindir = bindir
        self.durable = durable
        self._as_postgres = os.geteuid() == 0

    @classmethod
    @contextlib.contextmanager
    def started(cls, *, durable: bool = False) -> Iterator[PostgresServer]:
        """A running server for the duration of the block."""
        server = cls.start(durable=durable)
        try:
            yield server
        finally:
            server.stop()

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresServer:
        """initdb, then pg_ctl start (raises ``PostgresUnavailable`` with the reason).

        ``durable=False`` (tests) turns fsync and synchronous commit off; benchmarks keep
        PostgreSQL's defaults.
        """
        bindir = _bindir()
        directory = Path(tempfile.mkdtemp(prefix="sequin-pg-"))
        server = cls(directory, _free_port(), bindir, durable=durable)
        try:
            server._init()
            server._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(server.data), "-l",
                        str(directory / "log"), "-o", server._options())  # fmt: skip
        except (OSError, subprocess.CalledProcessError, KeyError) as error:
            detail = getattr(error, "stderr", "") or ""
            shutil.rmtree(directory, ignore_errors=True)
            raise PostgresUnavailable(f"could not start PostgreSQL: {error} {detail}") from error
        return server

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server (password included)."""
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))
        shutil.rmtree(self.directory, ignore_errors=True)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} dbname={database}"

    def _init(self) -> None:
        password_file = self.directory / "pw"
        password_file.write_text(PASSWORD)
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chmod(self.directory, 0o700)
            for path in (self.directory, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                  "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")  # fmt: skip

    def _options(self) -> str:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c max_connections=50"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return options

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


def start_for_tests() -> PostgresServer:
    """A server for a test: one that cannot start FAILS the test under ``CI=true`` and skips
    it elsewhere, saying why."""
    try:
        return PostgresServer.start()
    except PostgresUnavailable as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs PostgreSQL for this test: {error}", pytrace=False)
        pytest.skip(f"no PostgreSQL server here ({error}); CI=true makes this a failure")
