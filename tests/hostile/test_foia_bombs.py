"""Issue 15, item 4: FOIA zips that inflate without bound, and a table with no line end.

The bombs are generated here, streamed into the zip, never committed: a lookup member of
512 MB of one byte (about 0.5 MB compressed), and a proceedings table whose one line runs for
64 MB. Each is refused with its member's name, in bounded memory, and the release loaded
before stays the current one."""

from __future__ import annotations

import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from sandbox.eoir_foia_release import generate
from sandbox.zipwriter import DEFLATED, ZipWriter
from storage.eoir_foia import current_release, load_release
from storage.errors import ReleaseError
from storage.zipmembers import member_chunks
from tests.support.foia import AS_OF_1, COURTS

MB = 1 << 20


def _repeat(byte: bytes, size: int, first: bytes = b"") -> Iterator[bytes]:
    yield first
    piece = byte * MB
    for _ in range(size // MB):
        yield piece


def _with_member(src: Path, dest: Path, stem: str, pieces: Iterator[bytes], size: int) -> None:
    """``src`` with the member named ``stem`` replaced by the streamed ``pieces``."""
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
    with ZipWriter(dest, level=9) as zout:  # the highest ratio Deflate reaches, about 1,000
        for info in infos:
            if info.filename.rsplit("/", 1)[-1] == f"{stem}.csv":
                zout.write_pieces(info.filename, pieces, size, DEFLATED)
            else:
                data = b"".join(member_chunks(src, info))
                zout.write_bytes(info.filename, data, info.compress_type)


@pytest.fixture
def loaded(sqlite_engine: sa.Engine, tmp_path: Path) -> tuple[sa.Engine, Path, int]:
    info = generate(tmp_path / "good.zip", 300, seed=5, as_of=AS_OF_1)
    report = load_release(
        sqlite_engine, info.path, courts=COURTS, as_of=AS_OF_1, work_dir=tmp_path / "work"
    )
    return sqlite_engine, info.path, report.release_id


def _load(engine: sa.Engine, path: Path, tmp_path: Path) -> None:
    load_release(engine, path, courts=COURTS, as_of=AS_OF_1, work_dir=tmp_path / "work")


def test_a_lookup_bomb_is_refused_in_bounded_memory(
    loaded: tuple[sa.Engine, Path, int], tmp_path: Path
) -> None:
    engine, good, first = loaded
    bomb = tmp_path / "bomb.zip"
    size = 512 * MB
    _with_member(
        good, bomb, "tblLookupNationality", _repeat(b"A", size, b"CODE\tNAME\n"), size + 10
    )
    assert bomb.stat().st_size < 4 * MB
    tracemalloc.start()
    try:
        with pytest.raises(ReleaseError, match=r"tblLookupNationality\.csv: inflates past"):
            _load(engine, bomb, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 160 * MB, f"{peak / MB:.0f} MB"  # the 64 MB limit, and one step past it
    with Session(engine) as s:
        current = current_release(s)
        assert current is not None and current.id == first


def test_a_table_with_no_line_end_is_refused_at_its_line(
    loaded: tuple[sa.Engine, Path, int], tmp_path: Path
) -> None:
    engine, good, first = loaded
    with zipfile.ZipFile(good) as zf:
        name = next(i for i in zf.infolist() if i.filename.endswith("/B_TblProceeding.csv"))
        header = b"".join(member_chunks(good, name)).split(b"\n", 1)[0] + b"\n"
    endless = tmp_path / "endless.zip"
    size = 64 * MB
    _with_member(good, endless, "B_TblProceeding", _repeat(b"7", size, header), size + len(header))
    with pytest.raises(ReleaseError, match=r"B_TblProceeding\.csv, line 2: longer than 1,048,576"):
        _load(engine, endless, tmp_path)
    with Session(engine) as s:
        current = current_release(s)
        assert current is not None and current.id == first
    assert not list((tmp_path / "work").rglob("*.csv"))  # no piece left behind
