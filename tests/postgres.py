"""A throwaway PostgreSQL server for the tests, from Debian's `postgresql` package (.ci/system-packages installs it; make test runs it):
initdb into a temporary folder, listen on a free loopback port with trust authentication, stop and delete
on exit. As root (CI), the server runs as the `postgres` system user, which Postgres requires."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (make test does, through .ci/system-packages)")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(databases: tuple[str, ...]):
    """Yields ``postgresql://postgres@127.0.0.1:<port>/`` (append a database name); ``databases`` exist."""
    import psycopg2

    bin_dir = _binaries()
    base = Path(tempfile.mkdtemp(prefix="waterworks-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, log, port = base / "data", base / "server.log", _free_port()
    run = lambda *cmd: subprocess.run([*as_postgres, *map(str, cmd)], check=True, capture_output=True,  # noqa: E731
                                      text=True, timeout=120)
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
            f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c max_connections=200", "start")
        root = f"postgresql://postgres@127.0.0.1:{port}/"
        connection = psycopg2.connect(root + "postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in databases:
                cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        yield root
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
