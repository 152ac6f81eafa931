"""A PostgreSQL server for tests and benchmarks: the local one when it answers, else our own.

Order: ``DOCKETWATCH_TEST_PG_URL`` if set; the local server on 127.0.0.1:5432 (trust auth, as on
the development and CI machines); otherwise a throwaway cluster started from the installed Debian
``postgresql`` binaries in a temporary folder, stopped at the end of the session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _own_cluster() -> Iterator[str]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise RuntimeError(
            "no PostgreSQL server answers on 127.0.0.1:5432 and no initdb is installed: "
            "run ./setup.sh (it installs Debian's postgresql)"
        )
    bindir = os.path.dirname(bins[-1])
    folder = tempfile.mkdtemp(prefix="dw-pg-")
    port = _free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    subprocess.run(
        [*run_as, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(folder, "log"),
            "-w",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def server() -> Iterator[str]:
    """Yield an admin URL (psycopg form) of a PostgreSQL server."""
    url = os.environ.get("DOCKETWATCH_TEST_PG_URL")
    if url:
        yield url
        return
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if _answers(local):
        yield local
        return
    with _own_cluster() as own:
        deadline = time.monotonic() + 20
        while not _answers(own):
            if time.monotonic() > deadline:
                raise RuntimeError("the test PostgreSQL server did not come up")
            time.sleep(0.2)
        yield own


@contextmanager
def fresh_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """Create a database (empty, or a copy of the database ``template``), yield its SQLAlchemy
    URL, drop it afterwards."""
    name = f"dw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
