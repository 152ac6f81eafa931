"""Roster import on SQLite and PostgreSQL: the 5,000-row case, headers, mappings, rejects."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from unittest import mock

import pytest
import sqlalchemy as sa
from sqlmodel import select

from sandbox.roster import BAD_KINDS, make_roster, write_csv, write_xlsx
from storage.db import session_scope
from storage.errors import ImportFileError
from storage.identifiers import parse_a_number
from storage.models import Client
from storage.people import add_staff
from storage.roster import import_roster, parse_mapping, rejects_path_for

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def _clients(engine: sa.Engine) -> dict[str, Client]:
    with session_scope(engine) as s:
        return {c.a_number: c for c in s.exec(select(Client))}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_five_thousand_rows_with_sixty_bad(
    engine: sa.Engine, attorney: str, tmp_path: Path, fmt: str
) -> None:
    roster = make_roster(5000, bad=60, attorneys=[attorney])
    assert set(Counter(roster.bad_rows.values())) == set(BAD_KINDS)
    path = tmp_path / f"roster.{fmt}"
    title_rows = 2
    if fmt == "csv":
        write_csv(roster, path)
        first_data_line = 2
    else:
        write_xlsx(roster, path, title_rows=title_rows)  # a title row above the header
        first_data_line = title_rows + 2

    report = import_roster(engine, path, now=NOW)
    assert report.rows == 5000
    assert report.created == 4940 and report.updated == 0 and report.unchanged == 0
    assert len(report.rejects) == 60
    # Exactly the bad rows were rejected, each at its own line, each with a reason.
    expected_lines = {first_data_line + index for index in roster.bad_rows}
    assert {r.line for r in report.rejects} == expected_lines
    assert all(r.reason and r.column for r in report.rejects)
    by_line = {r.line: r for r in report.rejects}
    for index, kind in roster.bad_rows.items():
        reject = by_line[first_data_line + index]
        column = {
            "a_number": "A-Number",
            "nationality": "Nationality",
            "name": "Client Name",
            "date": "Date of Birth",
            "status": "Status",
            "attorney": "Attorney Email",
            "conflicting": "Client Name",
        }[
            next(
                k
                for k in (
                    "a_number",
                    "nationality",
                    "name",
                    "date",
                    "status",
                    "attorney",
                    "conflicting",
                )
                if kind.startswith(k)
            )
        ]
        assert reject.column == column, (kind, reject)
        if kind == "conflicting_duplicate":
            assert "repeats line" in reject.reason and "first row was kept" in reject.reason

    stored = _clients(engine)
    assert set(stored) == roster.good_a_numbers
    # The first of two conflicting rows is the one kept.
    for index, kind in roster.bad_rows.items():
        if kind == "conflicting_duplicate":
            number = parse_a_number(roster.rows[index][0])
            assert not stored[number].name.endswith(" JR")
    assert all(c.primary_attorney_id is not None for c in stored.values())

    # The rejects file has every rejected row with its line, column, reason and values.
    with rejects_path_for(path).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    assert {int(r["line"]) for r in rows} == expected_lines
    assert all(r["reason"] for r in rows)

    # A second import changes nothing.
    again = import_roster(engine, path, now=NOW)
    assert (again.created, again.updated, again.unchanged, len(again.rejects)) == (0, 0, 4940, 60)
    after = _clients(engine)
    assert {k: (c.name, c.updated_at) for k, c in after.items()} == {
        k: (c.name, c.updated_at) for k, c in stored.items()
    }


def test_reimport_updates_changed_rows_only(engine: sa.Engine, attorney: str, tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text(
        "A#,Client Name,Nationality,Date of Birth\n"
        'A-911-111-111,"DOE, JANE",HO,1990-02-03\n'
        '911111112,"ROE, JOHN",Mexico,03/04/1985\n'
    )
    assert import_roster(engine, path, now=NOW).created == 2
    path.write_text(
        "A#,Client Name,Nationality,Date of Birth\n"
        'A-911-111-111,"DOE, JANE",GT,1990-02-03\n'
        '911111112,"ROE, JOHN",Mexico,\n'  # a blank cell does not erase what is stored
    )
    later = datetime(2026, 11, 28, tzinfo=UTC)
    report = import_roster(engine, path, now=later)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    stored = _clients(engine)
    assert stored["911111111"].nationality_code == "GT"
    assert stored["911111111"].updated_at == later
    assert stored["911111112"].born_on == date(1985, 3, 4)
    assert stored["911111112"].updated_at == NOW


def test_identical_repeat_is_skipped_not_rejected(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "Alien Number,Name,Citizenship\n911111111,JANE DOE,HO\nA911111111,JANE DOE,honduras\n"
    )
    report = import_roster(engine, path, now=NOW)
    assert (report.created, report.duplicates_skipped, len(report.rejects)) == (1, 1, 0)
    assert not rejects_path_for(path).exists()


def test_explicit_mapping_and_split_names(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Client ID;Last Name;First Name;Pais\n911111111;Doe;Jane;Honduras\n")
    with pytest.raises(ImportFileError, match="no header row"):
        import_roster(engine, path, now=NOW)
    mapping = parse_mapping(["a_number=Client ID", "nationality=Pais"])
    report = import_roster(engine, path, mapping=mapping, now=NOW)
    assert report.created == 1
    assert _clients(engine)["911111111"].name == "Doe, Jane"
    with pytest.raises(ImportFileError, match="must look like FIELD=HEADER"):
        parse_mapping(["a_number"])
    with pytest.raises(ImportFileError, match="unknown roster field 'anumber'"):
        parse_mapping(["anumber=X"])
    with pytest.raises(ImportFileError, match="no column for the mapping"):
        import_roster(engine, path, mapping={"a_number": "Client ID", "notes": "Memo"}, now=NOW)


def test_dry_run_stores_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("A-Number,Client Name,Nationality\n911111111,JANE DOE,HO\nbad,X,HO\n")
    report = import_roster(engine, path, dry_run=True, now=NOW)
    assert report.created == 1 and len(report.rejects) == 1
    assert _clients(engine) == {}


def test_failure_while_storing_keeps_what_was_stored(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("A-Number,Client Name,Nationality\n911111111,JANE DOE,HO\n")
    import_roster(engine, path, now=NOW)
    path.write_text(
        "A-Number,Client Name,Nationality\n911111111,JANE Q DOE,HO\n911111112,JOHN ROE,MX\n"
    )
    broken = mock.patch("storage.roster.insert_rows", side_effect=RuntimeError("disk full"))
    with broken, pytest.raises(RuntimeError, match="disk full"):
        import_roster(engine, path, now=NOW)
    stored = _clients(engine)
    assert set(stored) == {"911111111"} and stored["911111111"].name == "JANE DOE"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("r.pdf", b"%PDF", "unsupported roster format"),
        ("r.xlsx", b"not a zip", "not a readable .xlsx"),
        ("r.csv", b"just,some,words\n1,2,3\n", "no header row"),
        ("r.csv", b"", "no header row"),
    ],
)
def test_unreadable_files_say_what_and_where(
    engine: sa.Engine, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=reason) as info:
        import_roster(engine, path, now=NOW)
    assert str(path) in str(info.value)


def test_missing_file(engine: sa.Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        import_roster(engine, tmp_path / "nope.csv", now=NOW)


def test_windows_1252_and_excel_number_cells(engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("A#,Client Name,Nationality\n911111111,NUÑEZ ROSA,HO\n".encode("cp1252"))
    assert import_roster(engine, path, now=NOW).created == 1
    assert _clients(engine)["911111111"].name == "NUÑEZ ROSA"

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["A-Number", "Client Name", "Nationality", "DOB"])
    sheet.append([12345678, "ZERO DROPPED", "MX", datetime(1990, 1, 2)])  # was 012345678
    sheet.append([1234567, "TOO SHORT", "MX", None])
    xlsx = tmp_path / "n.xlsx"
    book.save(xlsx)
    report = import_roster(engine, xlsx, now=NOW)
    assert report.created == 1
    assert _clients(engine)["012345678"].born_on == date(1990, 1, 2)
    assert "dropped leading zeros" in report.rejects[0].reason


def test_attorney_assignment_and_unknown_attorney(engine: sa.Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        a = add_staff(s, name="A", email="a@example.org", role="attorney").id
        b = add_staff(s, name="B", email="b@example.org", role="attorney").id
        add_staff(s, name="C", email="c@example.org", role="coordinator")
    path = tmp_path / "r.csv"
    path.write_text(
        "A#,Client Name,Nationality,Attorney Email,Backup Attorney\n"
        "911111111,JANE DOE,HO,A@example.org,b@example.org\n"
        "911111112,JOHN ROE,HO,c@example.org,\n"
    )
    report = import_roster(engine, path, now=NOW)
    assert report.created == 1
    assert "no attorney with email 'c@example.org'" in report.rejects[0].reason
    jane = _clients(engine)["911111111"]
    assert (jane.primary_attorney_id, jane.backup_attorney_id) == (a, b)

    path.write_text(
        "A#,Client Name,Nationality,Attorney Email\n911111111,JANE DOE,HO,b@example.org\n"
    )
    report = import_roster(engine, path, now=NOW)
    # b, the backup, becomes the primary attorney and stops being the backup.
    assert report.rejects == [] and report.updated == 1
    jane = _clients(engine)["911111111"]
    assert (jane.primary_attorney_id, jane.backup_attorney_id) == (b, None)

    path.write_text(
        "A#,Client Name,Nationality,Attorney Email,Backup Attorney Email\n"
        "911111111,JANE DOE,HO,b@example.org,B@example.org\n"
    )
    report = import_roster(engine, path, now=NOW)
    assert report.rejects[0].reason == "backup attorney is the same as the primary"
    assert report.rejects[0].column == "Backup Attorney Email"
