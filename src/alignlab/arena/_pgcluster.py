"""A throwaway PostgreSQL cluster (Debian's ``postgresql`` binaries) for tests and benchmarks.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user (``runuser``). The
cluster listens on 127.0.0.1 on a free port, trusts local connections, and is deleted on ``stop()``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def pg_bin() -> Path | None:
    """The directory of ``initdb``/``pg_ctl`` (newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """``with PgCluster() as pg: pg.url`` — a fresh cluster on a free port; ``pg.create_db(name)`` adds databases."""

    def __init__(self, durable: bool = True) -> None:
        self.durable = durable
        """False: no fsync (a test server's data need not survive a power cut); benchmarks keep it True."""
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="alignlab-pg-"))
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            import pwd

            try:
                pwd.getpwnam(self.user)
            except KeyError:
                raise RuntimeError("initdb refuses root and there is no 'postgres' user to run it as") from None
        self._started = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PgCluster:
        data = self.dir / "data"
        if self.user:
            shutil.chown(self.dir, self.user)
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                "-c max_connections=300")
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "-t", "60", "start")
        self._started = True
        return self

    @property
    def url(self) -> str:
        return self.db_url("postgres")

    def db_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create_db(self, name: str) -> str:
        """Create database ``name`` and return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.db_url(name)

    def stop(self) -> None:
        if self._started:
            try:
                self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(url: str, timeout: float = 30.0) -> None:
    """Wait until a PostgreSQL server at ``url`` answers."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(dsn).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
