"""The FOIA loader's steps, each alone: reading a piece (its bad lines quarantined with their
numbers, every line accounted for), deriving the next hearings and representation from tables
read that way, and the rows written. ``tests/test_eoir_foia.py`` loads whole releases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from storage.eoir_foia import (
    NEEDED,
    LoadReport,
    ReleaseLoad,
    _detail_rows_sql,
    _lookup_rows_of,
    _stats_rows,
    keep_sql,
)
from storage.errors import ReleaseError
from storage.zipmembers import Done, Part

AS_OF = date(2026, 11, 1)
CASE_HEADER = "IDNCASE\tNAT\tLANG\tCUSTODY\tCASE_TYPE\tE_28_DATE"
PROC_HEADER = (
    "IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE\tIJ_CODE\t"
    "COMP_DATE\tOTHER_COMP\tCASE_TYPE\tDEC_CODE\tABSENTIA\tHEARING_DATE"
)
SCHED_HEADER = (
    "IDNPROCEEDING\tHEARING_LOC_CODE\tIJ_CODE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START\tADJ_RSN\t"
    "SCHEDULE_TYPE"
)
REPS_HEADER = "IDNCASE\tSTRATTYLEVEL\tSTRATTYTYPE\tE_28_DATE"


@pytest.fixture
def load(tmp_path: Path) -> Iterator[ReleaseLoad]:
    report = LoadReport(release_id=1, as_of=AS_OF, counts=dict.fromkeys(NEEDED, 0))
    yield ReleaseLoad(
        sa.create_engine("sqlite://"),  # the steps tested here write nothing
        tmp_path / "r.zip",
        {},
        report.counts,
        [],
        report,
        courts=["ADL"],
        alert_court="ADL",
        work=tmp_path,
        memory_mb=200,
        tick=lambda *_: None,
    )


@pytest.fixture
def con() -> Iterator[Any]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _piece(tmp_path: Path, name: str, lines: list[str], index: int = 0) -> Part:
    path = tmp_path / f"{name}.{index}.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="latin-1")
    return Part(name, index, path, len(lines), 0, all(line.isascii() for line in lines))


def _read(load: ReleaseLoad, con: Any, tmp_path: Path, name: str, lines: list[str]) -> None:
    keep = keep_sql(AS_OF.isoformat(), load.courts_sql)[name]
    load.read_piece(con, _piece(tmp_path, name, lines), keep)


def test_a_piece_is_read_and_its_shifted_row_quarantined_by_line(
    load: ReleaseLoad, con: Any, tmp_path: Path
) -> None:
    _read(
        load,
        con,
        tmp_path,
        "A_TblCase",
        [
            CASE_HEADER,
            "1\tMX\tSPA\tD\tRMV\t",
            "2\tGT\tSPA\tD\tRMV\t\textra",  # a stray tab: one field too many
            "x\tHO\tSPA\tN\tRMV\t",  # not a number where the id is
            "4\tHO\tSPA \tN\tRMV\t2026-10-01",
        ],
    )
    (accepted,) = con.execute("SELECT count(*) FROM raw_A_TblCase WHERE _ok").fetchone()
    assert accepted == 2
    lines = {line: why for _, line, why, _ in load.state.quarantine}
    assert sorted(lines) == [3, 4]
    assert lines[3].startswith("FIELD COUNT") and "CAST" in lines[4].upper()
    assert load.state.quarantine[0][3] == "2\tGT\tSPA\tD\tRMV\t\textra"
    assert load.state.seen_lines["A_TblCase"] == 5
    assert not (tmp_path / "A_TblCase.0.txt").exists()  # read, then deleted


def test_a_line_neither_read_nor_refused_stops_the_load(load: ReleaseLoad, tmp_path: Path) -> None:
    item = _piece(tmp_path, "A_TblCase", [CASE_HEADER, "1\tMX\tSPA\tD\tRMV\t"])
    item.lines = 4  # the extractor counted lines the reader never saw
    with pytest.raises(ReleaseError, match="lines but 1 rows read"):
        load._account(item, True, 1, 0)


def test_a_table_short_of_its_count_is_refused(load: ReleaseLoad) -> None:
    load.counts["A_TblCase"] = 10
    with pytest.raises(ReleaseError, match=r"has 9 rows but Count\.txt says 10"):
        load.table_done(Done("A_TblCase", 9))


def test_derive_finds_representation_and_the_next_hearing(
    load: ReleaseLoad, con: Any, tmp_path: Path
) -> None:
    _read(
        load,
        con,
        tmp_path,
        "A_TblCase",
        [CASE_HEADER, "1\tMX\tSPA\tD\tRMV\t", "2\tGT\tSPA\tD\tRMV\t"],
    )
    _read(
        load,
        con,
        tmp_path,
        "B_TblProceeding",
        [
            PROC_HEADER,
            "11\t1\t2026-01-05\t2026-01-06\tADL\tADL\tIJA\t\t\tRMV\t\t\t2026-02-01",
            "12\t2\t2026-01-07\t2026-01-08\tADL\tADL\tIJA\t\t\tRMV\t\t\t2026-02-03",
            "13\t2\t2025-01-07\t2025-01-08\tLOS\tLOS\tIJB\t2025-06-01\t\tRMV\tX\t\t2025-02-03",
        ],
    )
    _read(
        load,
        con,
        tmp_path,
        "tbl_schedule",
        [
            SCHED_HEADER,
            "11\tADL\tIJA\tM\t2026-12-03\t0830\t\tMC",
            "11\tADL\tIJA\tM\t2026-11-20\t0900\t\tMC",  # the earliest upcoming: the next
            "11\tADL\tIJA\tM\t2026-11-10\t0900\tIJ\tMC",  # adjourned: not a hearing
            "12\tADL\tIJA\tM\t2026-10-01\t0900\t\tMC",  # before the release: past
        ],
    )
    _read(
        load,
        con,
        tmp_path,
        "tbl_RepsAssigned",
        [
            REPS_HEADER,
            "1\tCOURT\tALIEN\t2026-03-01",
            "2\tCOURT\tGOVT\t2026-03-01",
        ],
    )
    load.report.seconds["extract_and_read"] = 0.0
    stats = load.derive(con)
    assert [(s[0], s[1], s[2], s[4]) for s in stats] == [("ADL", 2, 2, 1), ("LOS", 1, 0, 0)]
    rows = con.execute(
        "SELECT pc.idnproceeding, pc.represented, n.d FROM pc LEFT JOIN n USING (idnproceeding) "
        "ORDER BY 1"
    ).fetchall()
    assert rows == [(11, True, date(2026, 11, 20)), (12, False, None)]
    assert load.report.quirks["proceedings_without_case_row"] == 0


def test_the_rows_written() -> None:
    lookups = [("nationality", "MX", "MEXICO"), ("nationality", "MX", "MEXICO (again)")]
    assert _lookup_rows_of(5, lookups) == [
        {"release_id": 5, "table_name": "nationality", "code": "MX", "label": "MEXICO"}
    ]
    stats = _stats_rows(5, [("ADL", 10, 8, 6, 4, 2), ("TOOLONG", 1, 1, 1, 1, 1)])
    assert [s["base_city"] for s in stats] == ["ADL"] and stats[0]["unrepresented"] == 4
    assert "strftime(pc.osc_date" in _detail_rows_sql(5, "sqlite")
    assert "strftime" not in _detail_rows_sql(5, "postgresql")
    assert set(keep_sql("2026-11-01", "'ADL'")) == set(NEEDED)
