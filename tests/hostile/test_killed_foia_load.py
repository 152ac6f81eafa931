"""Issue 15, item 10 (killed FOIA loads): a load killed outright (no ``finally`` ran) leaves a
``loading`` row and a work folder; the next load marks the row failed and removes the folder,
and leaves a load still running alone."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from sandbox.eoir_foia_release import generate
from storage.eoir_foia import LOADER, load_release
from storage.models import FoiaRelease
from storage.processes import this_process
from tests.support.foia import AS_OF_1, COURTS


def _row(engine: sa.Engine, tag: str) -> int:
    with Session(engine) as s:
        row = FoiaRelease(
            url="",
            file_path="x.zip",
            as_of=AS_OF_1,
            status="loading",
            started_at=datetime.now(UTC),
            message=f"{LOADER}{tag}",
        )
        s.add(row)
        s.commit()
        assert row.id is not None
        return row.id


def test_the_next_load_sweeps_what_a_killed_one_left(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    dead = _row(sqlite_engine, f"{socket.gethostname()}:999999999:1")  # no such process
    alive = _row(sqlite_engine, this_process())  # as if another thread were loading now
    work = tmp_path / "work"
    for number in (dead, alive, 777):
        (work / f"release-{number}").mkdir(parents=True)
        (work / f"release-{number}" / "A_TblCase.0.csv").write_text("IDNCASE\n1\n")
    info = generate(tmp_path / "r.zip", 200, seed=3, as_of=AS_OF_1)
    report = load_release(sqlite_engine, info.path, courts=COURTS, as_of=AS_OF_1, work_dir=work)
    with Session(sqlite_engine) as s:
        statuses = {r.id: r.status for r in s.exec(select(FoiaRelease))}
        swept = s.get(FoiaRelease, dead)
        assert swept is not None and "interrupted" in swept.message
    assert statuses == {dead: "failed", alive: "loading", report.release_id: "loaded"}
    assert sorted(p.name for p in work.iterdir()) == [f"release-{alive}"]
