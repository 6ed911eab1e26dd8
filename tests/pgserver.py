"""A real PostgreSQL server for the test session.

This module owns finding the PostgreSQL binaries, initdb into a temporary folder, starting and
stopping that server, and a fresh database per test. Fixtures: `postgres` (session: the server, a
`PgServer`) and `postgres_url` (function: the URL of a new, empty database on it).

Without PostgreSQL the tests that use these fixtures are skipped, or fail when CI is "true"/"1".
"""

from __future__ import annotations

import glob
import importlib
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn
from urllib.parse import quote

import pytest

BIN_ENV = "CTFLOW_TEST_PG_BIN"
SUPERUSER = "ctflow"
ROOT_OS_USER = "postgres"
START_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 40
_DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_HOW_TO_RUN = (
    "install PostgreSQL (e.g. `apt install postgresql`) or set "
    f"{BIN_ENV} to the directory holding initdb and pg_ctl"
)
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class PgServerError(RuntimeError):
    """The test server could not be set up, started or stopped."""


@dataclass(frozen=True)
class PgServer:
    """One running PostgreSQL cluster in a temporary folder, reachable over 127.0.0.1."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    bin_dir: Path
    base_dir: Path
    os_user: str | None  # who runs initdb/pg_ctl: None is the current user

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def url(self, dbname: str | None = None) -> str:
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{dbname or self.dbname}"

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """`pg_ctl start`, then wait until the server accepts a password login over TCP."""
        deadline = time.monotonic() + timeout
        log = str(self.log_file)
        result = _pg_ctl(self, "start", "-w", "-t", str(round(timeout)), "-l", log)
        if result.returncode != 0:
            raise PgServerError(_explain(self, "pg_ctl start failed", result))
        self._wait_until_ready(deadline)

    def stop(self) -> None:
        """`pg_ctl stop -m immediate`: the server is gone when this returns.

        Every transaction committed before the call survives it, as on a server with
        synchronous_commit on: this server runs with it off, so a CHECKPOINT writes the WAL out
        first (skipped when the server does not answer).
        """
        self._flush_wal()
        result = _pg_ctl(self, "stop", "-m", "immediate", "-w")
        if result.returncode != 0:
            raise PgServerError(_explain(self, "pg_ctl stop failed", result))

    def is_running(self) -> bool:
        return _pg_ctl(self, "status").returncode == 0

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` (letters, digits, underscores) and return its URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        psycopg = require_psycopg()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def _flush_wal(self) -> None:
        psycopg = require_psycopg()
        try:
            with psycopg.connect(self.url(), autocommit=True, connect_timeout=2) as conn:
                conn.execute("checkpoint")  # writes out all WAL, async commits' included
        except psycopg.OperationalError:
            return  # not reachable: there is nothing left to flush

    def _wait_until_ready(self, deadline: float) -> None:
        psycopg = require_psycopg()
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() >= deadline:
                    message = f"server at {self.host}:{self.port} never accepted connections"
                    tail = f"--- server log (tail) ---\n{self.log_tail()}"
                    raise PgServerError(f"{message}: {exc}\n{tail}") from exc
            time.sleep(0.05)


def require_psycopg() -> ModuleType:
    """psycopg 3, or a skip (a failure in CI) saying it is missing; usable at module level."""
    try:
        return importlib.import_module("psycopg")
    except ImportError:
        _unavailable("psycopg 3 is not installed", fix="pip install 'psycopg[binary]'")


def find_bin_dir() -> Path | None:
    """$CTFLOW_TEST_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else pg_ctl on PATH."""
    override = os.environ.get(BIN_ENV)
    if override:
        return _checked_override(Path(override))
    debian = [Path(d) for d in glob.glob(_DEBIAN_BIN_GLOB) if _has_binaries(Path(d))]
    if debian:
        return max(debian, key=lambda d: _version_key(d.parent.name))
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and _has_binaries(Path(pg_ctl).parent):
        return Path(pg_ctl).parent
    return None


def _checked_override(bin_dir: Path) -> Path:
    if not _has_binaries(bin_dir):
        pytest.fail(f"{BIN_ENV}={bin_dir} lacks initdb, pg_ctl or postgres", pytrace=False)
    return bin_dir


def _has_binaries(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def _unavailable(reason: str, fix: str = _HOW_TO_RUN) -> NoReturn:
    if _in_ci():
        pytest.fail(f"PostgreSQL is required in CI: {reason}; {fix}", pytrace=False)
    message = f"needs PostgreSQL: {reason}; to run these tests, {fix}"
    pytest.skip(message, allow_module_level=True)


def _server_os_user() -> str | None:
    """initdb and pg_ctl refuse root: as root they run as the `postgres` OS user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(ROOT_OS_USER)
    except KeyError:
        _unavailable(f"running as root needs the {ROOT_OS_USER!r} OS user, which is missing")
    return ROOT_OS_USER


def _as_user(command: Sequence[str], os_user: str | None) -> list[str]:
    if os_user is None:
        return list(command)
    if shutil.which("runuser"):
        return ["runuser", "-u", os_user, "--", *command]
    return ["su", os_user, "-s", "/bin/sh", "-c", shlex.join(command)]


def _run(
    command: Sequence[str], os_user: str | None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_user(command, os_user),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=START_TIMEOUT_S * 2,
    )


def _pg_ctl(server: PgServer, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), *args]
    return _run(command, server.os_user, server.base_dir)


def _explain(server: PgServer, what: str, result: subprocess.CompletedProcess[str]) -> str:
    output = (result.stdout + result.stderr).strip()
    return (
        f"{what} (exit {result.returncode}): {shlex.join(result.args)}\n{output}\n"
        f"--- server log (tail) ---\n{server.log_tail()}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _give_to(path: Path, os_user: str | None) -> None:
    if os_user is not None:
        shutil.chown(path, user=os_user)


def _initdb(server: PgServer) -> None:
    """A fresh cluster: superuser with the password, scram-sha-256 over TCP, trust on the socket."""
    _give_to(server.base_dir, server.os_user)
    server.socket_dir.mkdir()
    _give_to(server.socket_dir, server.os_user)
    pwfile = server.base_dir / "pwfile"
    pwfile.write_text(server.password + "\n", encoding="utf-8")
    pwfile.chmod(0o600)
    _give_to(pwfile, server.os_user)
    command = [
        str(server.bin_dir / "initdb"),
        *("-D", str(server.data_dir), "-U", server.user, f"--pwfile={pwfile}"),
        *("--auth-local=trust", "--auth-host=scram-sha-256"),
        *("--encoding=UTF8", "--no-locale", "--no-sync"),
    ]
    result = _run(command, server.os_user, server.base_dir)
    pwfile.unlink()
    if result.returncode != 0:
        raise PgServerError(_explain(server, "initdb failed", result))
    _configure(server)


def _configure(server: PgServer) -> None:
    settings = {
        **_SETTINGS,
        "port": str(server.port),
        "unix_socket_directories": f"'{server.socket_dir}'",
    }
    lines = [f"{name} = {value}" for name, value in settings.items()]
    with (server.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# ctflow test server\n" + "\n".join(lines) + "\n")


def _teardown(server: PgServer) -> None:
    if server.data_dir.joinpath("postmaster.pid").exists():
        _pg_ctl(server, "stop", "-m", "immediate", "-w")
    shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """The session's PostgreSQL server, started once and removed with its data at the end."""
    if find_bin_dir() is None:
        _unavailable("no PostgreSQL binaries were found")
    require_psycopg()
    with temporary_server() as server:
        yield server


@contextmanager
def temporary_server() -> Iterator[PgServer]:
    """A PostgreSQL server of its own in a temporary folder (the benchmarks start one too),
    removed with its data at the end."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PgServerError(f"no PostgreSQL binaries were found: {_HOW_TO_RUN}")
    os_user = _server_os_user()
    server = PgServer(
        host="127.0.0.1",
        port=_free_port(),
        user=SUPERUSER,
        password=secrets.token_urlsafe(24),
        dbname="postgres",
        bin_dir=bin_dir,
        base_dir=Path(tempfile.mkdtemp(prefix="ctflow-pg-")),
        os_user=os_user,
    )
    try:
        _initdb(server)
        server.start()
        yield server
    finally:
        _teardown(server)


@pytest.fixture
def postgres_url(postgres: PgServer) -> str:
    """The URL of a new, empty database on the session server, one per test."""
    return postgres.create_database(f"test_{secrets.token_hex(8)}")
