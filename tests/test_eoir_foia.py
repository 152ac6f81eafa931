"""EOIR FOIA releases: generator, load (quirks, quarantine, all-or-nothing), diff, queries."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

import storage.eoir_foia as foia_mod
from checks.eoir_foia import SOURCE
from checks.eoir_foia import check as run_foia_check
from monitor.eoir_foia import (
    caseload_hearings,
    caseload_trend,
    caseload_unrepresented,
    release_diff,
)
from sandbox.eoir_foia import EoirFoiaSandbox
from sandbox.eoir_foia_release import CORE, ReleaseInfo, generate, successor
from sandbox.mail import SmtpSink
from sandbox.zipwriter import ZipWriter
from storage.db import session_scope
from storage.eoir_foia import current_release, load_release, normalize_etag
from storage.errors import ReleaseError
from storage.models import CrawlRun, Delivery, Event, FoiaProceeding, FoiaQuarantine, FoiaRelease
from storage.people import add_staff
from storage.settings import Settings
from storage.zipmembers import member_chunks
from tests.support.alerting import START, Clock, dispatcher
from tests.support.cli import ROOT, run_cli
from tests.support.foia import AS_OF_1, COURTS
from tests.support.golden import check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "eoir_foia"
AS_OF_2 = date(2026, 12, 1)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInfo, ReleaseInfo]:
    folder = tmp_path_factory.mktemp("foia")
    first = generate(folder / "r1.zip", 4000, seed=5, as_of=AS_OF_1)
    second = successor(first.path, folder / "r2.zip", seed=6, as_of=AS_OF_2)
    return first, second


def _load(engine: sa.Engine, info: ReleaseInfo, tmp_path: Path, **kw: Any) -> foia_mod.LoadReport:
    return load_release(
        engine,
        info.path,
        courts=COURTS,
        as_of=info.as_of,
        work_dir=tmp_path / "work",
        after_detail=release_diff("ADL", now=START),
        **kw,
    )


# -- independent computation over the raw files (plain Python, not DuckDB) ---------------------


def _unzip(zip_path: Path, member: str) -> bytes:
    """A member as Info-ZIP's unzip reads it (Deflate64 too): independent of docketwatch."""
    out = subprocess.run(["unzip", "-p", str(zip_path), member], capture_output=True, check=True)
    return out.stdout


def _rows(zip_path: Path, name: str) -> Iterator[dict[str, str]]:
    lines = _unzip(zip_path, f"{CORE}/{name}.csv").decode("latin-1").split("\n")
    header = lines[0].split("\t")
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            continue  # a shifted row: not trustworthy, and the loader quarantines it
        yield {h: f.replace("\x00", "").strip() for h, f in zip(header, fields, strict=True)}


def independent_new_unrepresented(prev: Path, cur: Path, court: str = "ADL") -> set[int]:
    cases = {r["IDNCASE"]: r for r in _rows(cur, "A_TblCase")}
    lawyered = {
        r["IDNCASE"]
        for r in _rows(cur, "tbl_RepsAssigned")
        if r["STRATTYTYPE"].upper() == "ALIEN" and r["STRATTYLEVEL"].upper() == "COURT"
    }
    before = {
        int(r["IDNPROCEEDING"])
        for r in _rows(prev, "B_TblProceeding")
        if r["BASE_CITY_CODE"] == court
    }
    out = set()
    for p in _rows(cur, "B_TblProceeding"):
        c = cases.get(p["IDNCASE"])
        if (
            c is not None
            and p["BASE_CITY_CODE"] == court
            and c["CUSTODY"] == "D"
            and not p["COMP_DATE"]
            and not p["OTHER_COMP"]
            and not c["E_28_DATE"]
            and p["IDNCASE"] not in lawyered
            and int(p["IDNPROCEEDING"]) not in before
        ):
            out.add(int(p["IDNPROCEEDING"]))
    return out


# -- tests ------------------------------------------------------------------------------------


def test_etags_are_normalized() -> None:
    assert normalize_etag('"e7c249785323dd1:0"') == "e7c249785323dd1:0"
    assert normalize_etag('W/"e7c249785323dd1:0"') == "e7c249785323dd1:0"
    assert normalize_etag(' w/"abc" ') == "abc"
    assert normalize_etag(None) == ""


@pytest.mark.parametrize("first", [1, 2])
def test_accepted_lines_match_a_plain_count(first: int) -> None:
    """Ranks among accepted rows map to the physical lines a plain walk over the file gives."""
    import random

    rng = random.Random(first)
    for _ in range(200):
        last = rng.randint(first, 80)
        passed = sorted(rng.sample(range(first, last + 1), rng.randint(0, last - first + 1)))
        accepted = [n for n in range(first, last + 1) if n not in passed]
        ranks = sorted(rng.sample(range(len(accepted)), rng.randint(0, len(accepted))))
        got = list(foia_mod._accepted_lines(ranks, passed, first))
        assert got == [accepted[r] for r in ranks], (passed, ranks)


def test_generator_is_deterministic_and_real_shaped(tmp_path: Path) -> None:
    a = generate(tmp_path / "a.zip", 300, seed=3, as_of=AS_OF_1)
    b = generate(tmp_path / "b.zip", 300, seed=3, as_of=AS_OF_1)
    assert a.path.read_bytes() == b.path.read_bytes()  # one seed, one file, byte for byte
    with zipfile.ZipFile(a.path) as za:
        names = sorted(za.namelist())
    assert "Count.txt" in names and f"{CORE}/tbl_CustodyHistory.csv" in names
    assert any(n.startswith("Lookup/") for n in names)
    head = _unzip(a.path, f"{CORE}/A_TblCase.csv").split(b"\n")[0].decode().split("\t")
    real = json.loads((ROOT / "tests/fixtures/eoir_foia/A_TblCase.dtypes.json").read_text())
    # The real columns, in the real order (column 31 is GENDER in older releases, Sex now).
    assert [c.replace("Sex", "GENDER") for c in head] == list(real)


def test_small_release_golden_and_every_quirk_counted(
    sqlite_engine: sa.Engine, tmp_path: Path, update_goldens: bool
) -> None:
    info = generate(tmp_path / "r.zip", 1500, seed=9, as_of=AS_OF_1)
    report = _load(sqlite_engine, info, tmp_path)
    d = report.as_dict()
    # Every row accounted for: loaded + quarantined = found = Count.txt.
    for name in d["lines"]:
        assert d["lines"][name] == d["counts"][name]
        assert d["loaded"][name] + d["quarantined"][name] == d["lines"][name]
    # The shifted rows the generator wrote are exactly the ones quarantined, by line.
    with Session(sqlite_engine) as s:
        q = s.exec(select(FoiaQuarantine).order_by(col(FoiaQuarantine.id))).all()
    assert [(x.file, x.line) for x in q] == [
        ("A_TblCase.csv", n) for n in info.quirks.shifted_case_rows
    ] + [("B_TblProceeding.csv", n) for n in info.quirks.shifted_proceeding_rows]
    assert all("FIELD COUNT" in x.reason and x.raw for x in q)
    assert d["quirks"]["nul_bytes_stripped"] == info.quirks.nul_schedule_rows > 0
    assert d["quirks"]["codes_with_trailing_spaces"] > 0
    d.pop("seconds")
    check_golden(FIXTURES / "small_release.expected.json", d, update_goldens)


def _rewrite(src: Path, dest: Path, edit: Any) -> None:
    """A variant of a release: ``edit(name, bytes) -> bytes`` for each member (each member
    compressed as it was: Deflate64 stays Deflate64)."""
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
    with ZipWriter(dest) as zout:
        for info in infos:
            data = b"".join(member_chunks(src, info))
            zout.write_bytes(info.filename, edit(info.filename, data), info.compress_type)


def test_pieces_change_nothing(
    sqlite_engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables read in many small pieces load exactly as read whole: same report, same
    quarantined lines and text, same stored proceedings; and the pieces never pile up."""
    info = generate(tmp_path / "r.zip", 1500, seed=9, as_of=AS_OF_1)
    whole = _load(sqlite_engine, info, tmp_path).as_dict()
    real = foia_mod._read_csv
    seen = {"pieces": 0, "most_on_disk": 0}

    def spy(path: Path, *args: Any, **kw: Any) -> str:  # the reader, once per piece
        seen["pieces"] += 1
        on_disk = len(list(path.parent.glob("*.csv")))
        seen["most_on_disk"] = max(seen["most_on_disk"], on_disk)
        return real(path, *args, **kw)

    monkeypatch.setattr(foia_mod, "PART_BYTES", 8192)
    monkeypatch.setattr(foia_mod, "_read_csv", spy)
    pieces = _load(sqlite_engine, info, tmp_path).as_dict()
    assert seen["pieces"] > 100  # every table in many pieces
    # each piece is deleted once read: on disk, the one read, two queued, one being written by
    # each of the two extractors
    assert seen["most_on_disk"] <= 5
    for d in (whole, pieces):
        for key in ("release_id", "seconds", "event_id", "new_unrepresented"):
            d.pop(key)
    assert pieces == whole

    def stored(model: Any, release_id: int, skip: set[str]) -> list[dict[str, Any]]:
        with Session(sqlite_engine) as s:
            rows = s.exec(select(model).where(model.release_id == release_id)).all()
        out = [
            {k: v for k, v in r.model_dump().items() if k not in skip | {"id", "release_id"}}
            for r in rows
        ]
        return sorted(out, key=lambda r: json.dumps(r, default=str, sort_keys=True))

    assert stored(FoiaQuarantine, 1, set()) == stored(FoiaQuarantine, 2, set())
    assert stored(FoiaProceeding, 1, set()) == stored(FoiaProceeding, 2, set())
    assert len(stored(FoiaQuarantine, 2, set())) == len(info.quirks.shifted_case_rows) + len(
        info.quirks.shifted_proceeding_rows
    )


@pytest.mark.parametrize("piece_bytes", [None, 2048], ids=["whole", "pieces"])
def test_a_row_with_a_non_numeric_id_is_quarantined_with_its_line(
    sqlite_engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    piece_bytes: int | None,
) -> None:
    if piece_bytes:  # the bad line then sits in a later piece, below no header
        monkeypatch.setattr(foia_mod, "PART_BYTES", piece_bytes)
    info = generate(tmp_path / "r.zip", 200, seed=2, as_of=AS_OF_1)
    bad_line = 0

    def edit(name: str, data: bytes) -> bytes:
        nonlocal bad_line
        if name.endswith("B_TblProceeding.csv"):
            lines = data.split(b"\n")
            lines[50] = b"10O4X" + lines[50][lines[50].index(b"\t") :]  # letter O, not zero
            bad_line = 51
            return b"\n".join(lines)
        return data

    variant = tmp_path / "variant.zip"
    _rewrite(info.path, variant, edit)
    report = load_release(
        sqlite_engine, variant, courts=COURTS, as_of=AS_OF_1, work_dir=tmp_path / "w"
    )
    with Session(sqlite_engine) as s:
        rows = s.exec(
            select(FoiaQuarantine).where(FoiaQuarantine.file == "B_TblProceeding.csv")
        ).all()
    assert bad_line in [r.line for r in rows]
    hit = next(r for r in rows if r.line == bad_line)
    assert "10O4X" in hit.raw and "CAST" in hit.reason.upper()
    assert report.quarantined["B_TblProceeding"] == len(info.quirks.shifted_proceeding_rows) + 1


@pytest.mark.parametrize("piece_bytes", [None, 2048], ids=["whole", "pieces"])
def test_empty_lines_are_skipped_and_line_numbers_stay_true(
    sqlite_engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    piece_bytes: int | None,
) -> None:
    """The reader skips empty lines without a word: they are counted, not rows, and the
    quarantined rows after them keep their true line numbers."""
    if piece_bytes:
        monkeypatch.setattr(foia_mod, "PART_BYTES", piece_bytes)
    info = generate(tmp_path / "r.zip", 600, seed=2, as_of=AS_OF_1)
    shifted = info.quirks.shifted_proceeding_rows
    assert any(n > 31 for n in shifted)

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("B_TblProceeding.csv"):
            lines = data.split(b"\n")
            lines.insert(30, b"")  # line 31 is empty
            return b"\n".join(lines) + b"\n"  # and so is the last
        return data

    variant = tmp_path / "variant.zip"
    _rewrite(info.path, variant, edit)
    report = load_release(
        sqlite_engine, variant, courts=COURTS, as_of=AS_OF_1, work_dir=tmp_path / "w"
    )
    assert report.quirks["empty_lines_skipped"] == 2
    assert report.lines["B_TblProceeding"] == report.counts["B_TblProceeding"]
    with Session(sqlite_engine) as s:
        lines = s.exec(
            select(FoiaQuarantine.line).where(FoiaQuarantine.file == "B_TblProceeding.csv")
        ).all()
    assert sorted(lines) == [n + (n > 30) for n in shifted]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda n, d: d.rsplit(b"\n", 2)[0] + b"\n" if n.endswith("tbl_schedule.csv") else d,
            "Count.txt says",
        ),
        (
            lambda n, d: (
                d.replace(b"BASE_CITY_CODE", b"BASE_CITY", 1)
                if n.endswith("B_TblProceeding.csv")
                else d
            ),
            "layout changed",
        ),
        (lambda n, d: b"" if n == "Count.txt" else d, "Count"),
    ],
    ids=["truncated-table", "renamed-column", "empty-count"],
)
def test_a_bad_release_stores_nothing_and_keeps_the_previous(
    engine: sa.Engine,
    tmp_path: Path,
    releases: tuple[ReleaseInfo, ReleaseInfo],
    edit: Any,
    message: str,
) -> None:
    first, second = releases
    _load(engine, first, tmp_path)
    variant = tmp_path / "bad.zip"
    _rewrite(second.path, variant, edit)
    with pytest.raises(ReleaseError, match=message):
        load_release(engine, variant, courts=COURTS, as_of=AS_OF_2, work_dir=tmp_path / "w")
    with Session(engine) as s:
        current = current_release(s)
        assert current is not None and current.as_of == AS_OF_1
        failed = s.exec(select(FoiaRelease).where(FoiaRelease.status == "failed")).one()
        assert message.split()[0] in failed.message
        assert (
            s.exec(
                select(sa.func.count())
                .select_from(FoiaProceeding)
                .where(FoiaProceeding.release_id == failed.id)
            ).one()
            == 0
        )
    assert not any((tmp_path / "w").glob("release-*"))  # the work files are gone


def test_a_failure_while_storing_rolls_back_the_whole_release(
    engine: sa.Engine,
    tmp_path: Path,
    releases: tuple[ReleaseInfo, ReleaseInfo],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = releases
    _load(engine, first, tmp_path)
    with Session(engine) as s:
        before = caseload_unrepresented(s, "ADL", detained=True).rows
    real = foia_mod.insert_rows
    calls = {"n": 0}

    def flaky(conn: Any, table: Any, rows: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # after the detail rows, before the aggregates
            raise OSError("disk full")
        return real(conn, table, rows)

    monkeypatch.setattr(foia_mod, "insert_rows", flaky)
    with pytest.raises(OSError, match="disk full"):
        _load(engine, second, tmp_path)
    monkeypatch.setattr(foia_mod, "insert_rows", real)
    with Session(engine) as s:
        assert caseload_unrepresented(s, "ADL", detained=True).rows == before
        statuses = [r.status for r in s.exec(select(FoiaRelease).order_by(col(FoiaRelease.id)))]
        assert statuses == ["loaded", "failed"]
        assert s.exec(select(sa.func.count()).select_from(FoiaProceeding)).one() == len(
            s.exec(select(FoiaProceeding).where(FoiaProceeding.release_id == 1)).all()
        )
        assert s.exec(select(Event)).all() == []
    # The same release loads fine afterwards.
    _load(engine, second, tmp_path)


def test_successor_yields_exactly_the_new_unrepresented_adl_cases(
    engine: sa.Engine, tmp_path: Path, releases: tuple[ReleaseInfo, ReleaseInfo]
) -> None:
    first, second = releases
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Cora Lee",
            email="coord@example.org",
            role="coordinator",
            channels=["json://127.0.0.1:9/coord"],
        )
        add_staff(
            s,
            name="Ana Ruiz",
            email="ana@example.org",
            role="attorney",
            channels=["json://127.0.0.1:9/ana"],
        )
    r1 = _load(engine, first, tmp_path)
    assert r1.new_unrepresented == 0 and r1.event_id is None  # the first release is a baseline
    r2 = _load(engine, second, tmp_path)
    expected = independent_new_unrepresented(first.path, second.path)
    assert len(expected) >= 5  # the successor has new detained intake at Adelanto
    with Session(engine) as s:
        got = caseload_unrepresented(s, "ADL", new_only=True)
        assert {row[1] for row in got.rows} == expected
        assert r2.new_unrepresented == len(expected)
        event = s.exec(select(Event)).one()
        assert event.kind == "new_unrepresented_case" and event.id == r2.event_id
        assert event.payload["count"] == len(expected)
        assert len(event.payload["items"]) == min(len(expected), 40)
        deliveries = s.exec(select(Delivery)).all()
        assert len(deliveries) == 1  # the coordinator only, never the attorney
    # Loading the same release again diffs it against itself: nothing is new, nobody hears twice.
    _load(engine, second, tmp_path)
    with Session(engine) as s:
        assert len(s.exec(select(Event)).all()) == 1


def test_coordinator_queries(
    sqlite_engine: sa.Engine, tmp_path: Path, releases: tuple[ReleaseInfo, ReleaseInfo]
) -> None:
    first, second = releases
    _load(sqlite_engine, first, tmp_path)
    _load(sqlite_engine, second, tmp_path)
    with Session(sqlite_engine) as s:
        listed = caseload_unrepresented(s, "ADL", detained=True)
        by_nat = caseload_unrepresented(s, "ADL", detained=True, by="nationality")
        by_week = caseload_unrepresented(s, "ADL", detained=True, by="week")
        trend = caseload_trend(s, "ADL")
        hearings = caseload_hearings(s, "ADL", AS_OF_2, date(2026, 12, 31))
        rows = s.exec(
            select(FoiaProceeding).where(
                FoiaProceeding.release_id == 2, FoiaProceeding.base_city == "ADL"
            )
        ).all()
    detained_unrep = [r for r in rows if r.pending and not r.represented and r.custody == "D"]
    assert len(listed.rows) == len(detained_unrep) > 0
    assert sum(r[1] for r in by_nat.rows) == len(detained_unrep)
    assert sum(r[1] for r in by_week.rows) == len(detained_unrep)
    assert [r[0] for r in trend.rows] == [1, 2]
    pending = sum(1 for r in rows if r.pending)
    assert trend.rows[1][2] == pending and trend.rows[1][3] == sum(
        1 for r in rows if r.pending and not r.represented
    )
    dates = [r[0] for r in hearings.rows]
    assert dates == sorted(dates) and all("2026-12-01" <= d <= "2026-12-31" for d in dates)
    assert all(r[2].startswith("IJ ") for r in hearings.rows)


@pytest.fixture
def share(releases: tuple[ReleaseInfo, ReleaseInfo]) -> Iterator[EoirFoiaSandbox]:
    with EoirFoiaSandbox() as replica:
        first, _ = releases
        replica.publish(first.path, datetime(2026, 11, 1, 14, 0, tzinfo=UTC))
        yield replica


def test_check_downloads_only_new_releases_resumes_and_survives_a_block(
    engine: sa.Engine,
    tmp_path: Path,
    share: EoirFoiaSandbox,
    releases: tuple[ReleaseInfo, ReleaseInfo],
) -> None:
    _first, second = releases
    settings = Settings(
        eoir_foia_url=share.zip_url,
        data_dir=tmp_path / "data",
        eoir_foia_courts=COURTS,
        source_failure_threshold=2,
    )
    result = run_foia_check(engine, settings)
    assert result.outcome == "ok" and result.details["release"].as_of == AS_OF_1  # Last-Modified
    gets = share.share.gets
    share.set(weak=True)  # Cloudflare turns the ETag weak: still the same release
    again = run_foia_check(engine, settings)
    assert again.outcome == "ok" and "unchanged" in again.message
    assert share.share.gets == gets  # HEAD only
    # A new release, and the connection drops halfway: the download resumes.
    share.publish(second.path, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    share.set(weak=False, fail="truncate_once")
    new = run_foia_check(engine, settings)
    assert new.outcome == "ok" and new.details["release"].as_of == AS_OF_2
    with Session(engine) as s:
        rel = s.exec(select(FoiaRelease).order_by(col(FoiaRelease.id).desc())).first()
        assert rel is not None and Path(rel.file_path).read_bytes() == second.path.read_bytes()
        import hashlib

        assert rel.sha256 == hashlib.sha256(second.path.read_bytes()).hexdigest()
    # A block page: recorded for the admins, the loaded release untouched.
    third = tmp_path / "r3.zip"
    successor(second.path, third, seed=7, as_of=date(2027, 1, 1))
    share.publish(third, datetime(2027, 1, 1, 14, 0, tzinfo=UTC))
    share.set(fail="block")
    with session_scope(engine) as s:
        add_staff(s, name="Adm In", email="admin@example.org", role="admin")
    for _ in range(2):
        blocked = run_foia_check(engine, settings)
        assert blocked.outcome == "blocked"
    assert blocked.health == "source_unhealthy"
    with Session(engine) as s:
        current = current_release(s)
        assert current is not None and current.as_of == AS_OF_2
        runs = s.exec(select(CrawlRun).where(CrawlRun.source == SOURCE)).all()
        assert [r.outcome for r in runs] == ["ok", "ok", "ok", "blocked", "blocked"]
        kinds = [e.kind for e in s.exec(select(Event))]
        assert "source_unhealthy" in kinds


def test_coordinator_gets_one_email_per_release(
    engine: sa.Engine,
    tmp_path: Path,
    share: EoirFoiaSandbox,
    releases: tuple[ReleaseInfo, ReleaseInfo],
) -> None:
    _first, second = releases
    with SmtpSink() as sink:
        with session_scope(engine) as s:
            add_staff(
                s,
                name="Cora Lee",
                email="coord@example.org",
                role="coordinator",
                channels=[sink.url("coord@example.org")],
                now=START,
            )
        settings = Settings(
            eoir_foia_url=share.zip_url, data_dir=tmp_path / "d", eoir_foia_courts=COURTS
        )
        run_foia_check(engine, settings)
        share.publish(second.path, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
        result = run_foia_check(engine, settings)
        release = result.details["release"]
        assert release.new_unrepresented > 0
        clock = Clock(datetime.now(UTC))  # the check stamps its event with the real time
        sent = dispatcher(engine, clock).run_once()
        assert sent.sent == 1
        (mail,) = sink.to("coord@example.org")
        assert "New unrepresented case at Adelanto" in mail.subject
        assert f"{release.new_unrepresented} new detained case(s)" in mail.text()


@pytest.mark.slow
def test_caseload_cli(tmp_path: Path, releases: tuple[ReleaseInfo, ReleaseInfo]) -> None:
    first, second = releases
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}", "DOCKETWATCH_DATA_DIR": str(tmp_path)}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    none = run_cli("caseload", "unrepresented", cwd=tmp_path, env=env)
    assert none.returncode == 2 and "no FOIA release is loaded" in none.stderr
    for info in (first, second):
        r = run_cli(
            "foia", "load", str(info.path), "--as-of", info.as_of.isoformat(), cwd=tmp_path, env=env
        )
        assert r.returncode == 0, r.stderr
        assert "quarantined" in r.stdout and "nul_bytes_stripped" in r.stdout
    js = run_cli(
        "caseload",
        "unrepresented",
        "--court",
        "adl",
        "--detained",
        "--by",
        "language",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data and set(data[0]) == {"language", "unrepresented", "share"}
    csv_out = run_cli(
        "caseload",
        "hearings",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-20",
        "--csv",
        cwd=tmp_path,
        env=env,
    )
    assert csv_out.stdout.splitlines()[0].startswith("date,time,judge,location")
    trend = run_cli("caseload", "trend", "--json", cwd=tmp_path, env=env)
    assert [r["release"] for r in json.loads(trend.stdout)] == [1, 2]
    bad = run_cli(
        "caseload", "hearings", "--from", "12/01/2026", "--to", "2026-12-20", cwd=tmp_path, env=env
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    by = run_cli("caseload", "unrepresented", "--by", "shoe", cwd=tmp_path, env=env)
    assert by.returncode == 2 and "--by must be one of" in by.stderr
    rel = run_cli("foia", "releases", "--json", cwd=tmp_path, env=env)
    assert [r["status"] for r in json.loads(rel.stdout)] == ["loaded", "loaded"]
    quar = run_cli("foia", "quarantine", "--json", cwd=tmp_path, env=env)
    assert len(json.loads(quar.stdout)) == len(second.quirks.shifted_case_rows) + len(
        second.quirks.shifted_proceeding_rows
    )
