"""Issue 15, item 10: several `docketwatch init` (or service starts) at once on a new PostgreSQL
database: each ends well, the schema is made once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import pgserver as pg
from storage.db import current_revision, head_revision, make_engine

EXE = str(Path(sys.executable).with_name("docketwatch"))


def test_simultaneous_first_starts_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    admin = request.getfixturevalue("pg_admin_url")
    with pg.fresh_database(admin) as url:  # empty: never migrated
        env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
        procs = [
            subprocess.Popen(
                [EXE, "init"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]
        for code, stderr in results:
            assert code == 0 and "Traceback" not in stderr, stderr[-2000:]
        engine = make_engine(url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
