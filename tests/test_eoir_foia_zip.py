"""EOIR's real zip format: Deflate64 members beside Deflate and stored ones, zip64 records, every
table of the real release with its real header, and clear errors for what is not EOIR's."""

from __future__ import annotations

import re
import struct
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

import storage.eoir_foia as foia_mod
from monitor.eoir_foia import caseload_unrepresented
from sandbox.eoir_foia_release import (
    CORE,
    DEFLATE64_MEMBERS,
    EDITION_2026,
    LOOKUP_TABLES,
    REAL_HEADERS,
    ReleaseInfo,
    generate,
)
from sandbox.zipwriter import DEFLATE64, DEFLATED, STORED, ZipWriter
from storage.db import make_engine
from storage.eoir_foia import load_release
from storage.errors import ReleaseError, ReleaseLayoutError
from storage.zipmembers import member_chunks
from tests.support.cli import run_cli
from tests.support.db import migrated_sqlite

COURTS = ["ADL", "LOS", "SNC"]
AS_OF = date(2026, 11, 1)  # the generator's release date: hearings after it are upcoming


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInfo, ReleaseInfo]:
    """The same release twice: its big members in Deflate64 (as EOIR's), and all in Deflate."""
    folder = tmp_path_factory.mktemp("pair")
    return (
        generate(folder / "d64.zip", 1500, seed=9, as_of=AS_OF),
        generate(folder / "d.zip", 1500, seed=9, as_of=AS_OF, deflate64=False),
    )


def _engine(tmp_path: Path, name: str) -> sa.Engine:
    engine = make_engine(migrated_sqlite(tmp_path / name))
    return engine


def _load(engine: sa.Engine, path: Path, tmp_path: Path) -> dict[str, Any]:
    report = load_release(engine, path, courts=COURTS, as_of=AS_OF, work_dir=tmp_path / "work")
    d = report.as_dict()
    d.pop("seconds")
    d.pop("release_id")
    return d


def _caseload(engine: sa.Engine) -> list[Any]:
    """The unrepresented caseload at each watched court, listed and counted every way."""
    with Session(engine) as s:
        out = []
        for court in COURTS:
            for detained in (False, True):
                for by in (None, "nationality", "language", "judge", "case_type"):
                    result = caseload_unrepresented(s, court, detained=detained, by=by)
                    out.append((court, detained, by, result.columns, result.rows))
        return out


def _unzip(path: Path, member: str) -> bytes:
    """A member as Info-ZIP's unzip reads it: an independent reader of Deflate64."""
    return subprocess.run(
        ["unzip", "-p", str(path), member], capture_output=True, check=True
    ).stdout


def _repack(src: Path, dest: Path, method_of: Any = None, **writer: Any) -> None:
    """Copy a release member by member (through docketwatch's reader), choosing each method."""
    with zipfile.ZipFile(src) as zf:
        infos = zf.infolist()
    with ZipWriter(dest, **writer) as zw:
        for info in infos:
            method = method_of(info) if method_of else info.compress_type
            zw.write_bytes(info.filename, b"".join(member_chunks(src, info)), method)


def _patch_method(path: Path, member: str, method: int) -> None:
    """Say a member is compressed with ``method``, in its local and central headers."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, info.header_offset + 8, method)
    central = 0
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            struct.pack_into("<H", data, at + 10, method)
            central = at
        at = data.find(b"PK\x01\x02", at + 4)
    assert central > 0
    path.write_bytes(bytes(data))


def _patch_crc(path: Path, member: str) -> None:
    """Give a member a wrong CRC-32 in both headers (its data intact)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    wrong = (info.CRC ^ 0x5A5A5A5A) & 0xFFFFFFFF
    struct.pack_into("<I", data, info.header_offset + 14, wrong)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == member.encode():
            struct.pack_into("<I", data, at + 16, wrong)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_the_zip_is_compressed_as_eoirs(pair: tuple[ReleaseInfo, ReleaseInfo]) -> None:
    d64, plain = pair
    with zipfile.ZipFile(d64.path) as zf:
        methods = {i.filename: i.compress_type for i in zf.infolist()}
    stems = {name.rsplit("/", 1)[-1][:-4]: m for name, m in methods.items()}
    assert {stems[t] for t in DEFLATE64_MEMBERS} == {DEFLATE64}
    assert stems["A_TblCase"] == stems["tbl_RepsAssigned"] == stems["tblLookupJudge"] == DEFLATED
    assert methods["Count.txt"] == STORED  # a mixed-method zip: stored, Deflate and Deflate64
    with zipfile.ZipFile(plain.path) as zf:
        assert {i.compress_type for i in zf.infolist()} <= {STORED, DEFLATED}
    # Info-ZIP's unzip, which reads Deflate64 natively, finds every member sound ...
    tested = subprocess.run(["unzip", "-tq", str(d64.path)], capture_output=True, text=True)
    assert tested.returncode == 0 and "No errors" in tested.stdout, tested.stdout
    # ... and reads the same bytes as docketwatch's reader, member by member.
    for name in (f"{CORE}/tbl_schedule.csv", f"{CORE}/B_TblProceeding.csv", "Count.txt"):
        with zipfile.ZipFile(d64.path) as zf:
            ours = b"".join(member_chunks(d64.path, zf.getinfo(name)))
        assert ours == _unzip(d64.path, name) == _unzip(plain.path, name), name


def test_a_deflate64_release_gives_exactly_the_caseload_of_the_deflate_one(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path
) -> None:
    d64, plain = pair
    a, b = _engine(tmp_path, "a.db"), _engine(tmp_path, "b.db")
    report_a = _load(a, d64.path, tmp_path / "a")
    report_b = _load(b, plain.path, tmp_path / "b")
    assert report_a == report_b
    assert report_a["detail_rows"] > 0 and sum(report_a["quarantined"].values()) > 0
    caseload = _caseload(a)
    assert caseload == _caseload(b)
    assert sum(len(rows) for *_, rows in caseload) > 20  # the same, and not empty


def test_zip64_records_are_read(pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path) -> None:
    """Every member and the archive with zip64 records, as a release over 4 GiB has them."""
    d64, _ = pair
    big = tmp_path / "zip64.zip"
    _repack(d64.path, big, force_zip64=True)
    tested = subprocess.run(["unzip", "-tq", str(big)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert _load(_engine(tmp_path, "z.db"), big, tmp_path) == _load(
        _engine(tmp_path, "d.db"), d64.path, tmp_path / "d"
    )


def test_a_deflate64_member_with_a_bad_crc_is_refused_with_its_name(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(pair[0].path.read_bytes())
    _patch_crc(bad, f"{CORE}/tbl_schedule.csv")
    engine = _engine(tmp_path, "bad.db")
    with pytest.raises(ReleaseError, match=r"tbl_schedule\.csv.*CRC"):
        load_release(engine, bad, courts=COURTS, work_dir=tmp_path / "w")
    with Session(engine) as s:  # nothing of it stored
        assert s.exec(sa.text("SELECT count(*) FROM foia_proceeding")).one()[0] == 0  # type: ignore[call-overload]


def test_damaged_deflate64_data_is_refused_with_its_name(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path
) -> None:
    member = f"{CORE}/B_TblProceeding.csv"
    with zipfile.ZipFile(pair[0].path) as zf:
        info = zf.getinfo(member)
    data = bytearray(pair[0].path.read_bytes())
    start = info.header_offset + 30 + len(member) + 20  # the data, past the local header
    for k in range(start + 100, start + 164):
        data[k] ^= 0xFF
    bad = tmp_path / "damaged.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(ReleaseError, match=r"B_TblProceeding\.csv"):
        load_release(_engine(tmp_path, "x.db"), bad, courts=COURTS, work_dir=tmp_path / "w")


@pytest.mark.parametrize(("method", "name"), [(14, "LZMA"), (12, "bzip2"), (99, "unknown")])
def test_an_unknown_method_is_a_one_line_error(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path, method: int, name: str
) -> None:
    odd = tmp_path / "odd.zip"
    odd.write_bytes(pair[1].path.read_bytes())
    _patch_method(odd, f"{CORE}/tbl_schedule.csv", method)
    with pytest.raises(ReleaseError, match=rf"compression method {method} \({name}\)"):
        load_release(_engine(tmp_path, "o.db"), odd, courts=COURTS, work_dir=tmp_path / "w")
    if method == 14:  # the command line: one line, exit 2, no traceback
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
        assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
        result = run_cli("eoir_foia", "load", str(odd), cwd=tmp_path, env=env)
        assert result.returncode == 2
        assert "compression method 14 (LZMA) is not supported" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_small_member_that_swells_is_refused(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(foia_mod, "SMALL_MEMBER_LIMIT", 200)  # Count.txt is more than that
    with pytest.raises(ReleaseError, match=r"Count\.txt: inflates past 200 bytes"):
        load_release(
            _engine(tmp_path, "s.db"), pair[0].path, courts=COURTS, work_dir=tmp_path / "w"
        )


def test_every_table_of_the_real_release_with_its_real_header_and_value_shapes(
    pair: tuple[ReleaseInfo, ReleaseInfo],
) -> None:
    path = pair[0].path
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        heads = {}
        for name in names - {"Count.txt"}:
            first = next(member_chunks(path, zf.getinfo(name))).split(b"\n", 1)[0]
            heads[name] = first.decode("latin-1").split("\t")
    expected = {
        (f"Lookup/{t}.csv" if t in LOOKUP_TABLES else f"{CORE}/{t}.csv"): cols
        for t, cols in EDITION_2026.items()
    }
    expected[f"{CORE}/tbl_schedule.csv"] = REAL_HEADERS["editions"]["2023-06"]["tbl_schedule"]
    assert len(expected) == 33 and set(expected) <= names
    for name, cols in expected.items():
        assert heads[name] == cols, name
    counted = {line.split("\t")[0] for line in _unzip(path, "Count.txt").decode().splitlines()}
    assert counted == {n[len(CORE) + 1 : -4] for n in expected if n.startswith(CORE)}
    case = _unzip(path, f"{CORE}/A_TblCase.csv").decode("latin-1")
    sched = _unzip(path, f"{CORE}/tbl_schedule.csv").decode("latin-1")
    reps = _unzip(path, f"{CORE}/tbl_RepsAssigned.csv").decode("latin-1")
    procs = _unzip(path, f"{CORE}/B_TblProceeding.csv").decode("latin-1")
    assert re.search(r"\t\d{4}-\d\d-\d\d 00:00:00\.000\t", procs)  # YYYY-MM-DD hh:mm:ss.fff
    assert re.search(r"\t(1[0-2]|[1-9])/(19|20)\d\d\t", case)  # C_BIRTHDATE is M/YYYY
    assert "\tb6\t" in case and "\tN/A\t" in case and "\t??\t" in case
    rows = [line.split("\t") for line in sched.splitlines()[1:]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r[12]) for r in rows if len(r) == 30)  # date only
    assert any(re.fullmatch(r"\d{4}", r[24]) and r[24].startswith("0") for r in rows if r[24])
    assert any(r[2].endswith(":00.000") for r in rows)  # a datetime where IDNCASE belongs
    parents = {line.split("\t")[4] for line in reps.splitlines()[1:]}
    assert {"A_Tblcase", "a_tblcase"} <= parents
    assert re.search(r"\t01\t", procs)  # TRANS_NBR, zero-padded


def test_header_changes_are_reported_and_a_missing_needed_column_fails(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path
) -> None:
    src = pair[1].path

    def edit(member: str, drop: str | None, add: str | None) -> Path:
        out = tmp_path / f"{drop}-{add}.zip"
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
        with ZipWriter(out) as zw:
            for info in infos:
                data = b"".join(member_chunks(src, info))
                if info.filename.endswith(f"/{member}.csv"):
                    lines = data.decode("latin-1").split("\n")
                    head = lines[0].split("\t")
                    at = head.index(drop) if drop else None
                    fixed = []
                    for line in lines:
                        f = line.split("\t") if line else []
                        if f and at is not None and len(f) == len(head):
                            del f[at]
                        if f and add:
                            f.append(add if line is lines[0] else "x")
                        fixed.append("\t".join(f))
                    data = "\n".join(fixed).encode("latin-1")
                zw.write_bytes(info.filename, data, info.compress_type)
        return out

    drift = _load(_engine(tmp_path, "n.db"), edit("A_TblCase", None, "NEW_FLAG"), tmp_path / "n")
    assert any("A_TblCase: new column(s) NEW_FLAG" in x for x in drift["header_drift"])
    gone = _load(_engine(tmp_path, "g.db"), edit("A_TblCase", "ALIEN_CITY", None), tmp_path / "g")
    assert any("ALIEN_CITY of the 2026-04 edition missing" in x for x in gone["header_drift"])
    with pytest.raises(ReleaseLayoutError, match="CUSTODY"):
        load_release(
            _engine(tmp_path, "c.db"),
            edit("A_TblCase", "CUSTODY", None),
            courts=COURTS,
            work_dir=tmp_path / "c",
        )


def test_big_members_are_written_in_bounded_memory_as_valid_deflate64(
    pair: tuple[ReleaseInfo, ReleaseInfo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members over the threshold (a national release's) are written as literal-only Deflate64,
    which Info-ZIP and docketwatch both read, giving the same load as the matched kind."""
    import sandbox.zipwriter as zipwriter

    monkeypatch.setattr(zipwriter, "LITERAL_DEFLATE64_ABOVE", 1 << 16)
    big = generate(tmp_path / "literal.zip", 1500, seed=9, as_of=AS_OF)
    with zipfile.ZipFile(big.path) as zf:
        assert zf.getinfo(f"{CORE}/tbl_schedule.csv").compress_type == DEFLATE64
    tested = subprocess.run(["unzip", "-tq", str(big.path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert _unzip(big.path, f"{CORE}/tbl_schedule.csv") == _unzip(
        pair[0].path, f"{CORE}/tbl_schedule.csv"
    )
    assert _load(_engine(tmp_path, "l.db"), big.path, tmp_path / "l") == _load(
        _engine(tmp_path, "m.db"), pair[0].path, tmp_path / "m"
    )
