"""Issue 15, items 6, 7 and 10 (the parts built): damaged or odd input is one clear line, never a
traceback, and nothing of a client's data reaches an error's text.

The hostile workbooks are made here: random bytes named .xlsx, a zip that is not a workbook, a
1.7 KB sheet declaring a million by sixteen thousand cells, a shared-strings member that would
inflate to 512 MB."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from spiders.detention_stats import parse_workbook
from storage.db import session_scope
from storage.errors import ImportFileError, ValidationError
from storage.models import Client
from storage.roster import import_roster
from tests.support.cli import run_cli

SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1:XFD1048576"/><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>A-Number</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Client Name</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>Nationality</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>A-912-000-201</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>DOE, JANE</t></is></c>'
    '<c r="C2" t="inlineStr"><is><t>MX</t></is></c></row>'
    "</sheetData></worksheet>"
)
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
    'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="Roster" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships '
    'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
    'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml": SHEET,
}


def _workbook(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        for name, data in (extra or {}).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def test_a_huge_declared_dimension_reads_only_the_rows_there(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = _workbook(tmp_path / "roster.xlsx")
    assert path.stat().st_size < 4000
    report = import_roster(engine, path)  # was half an hour of padding empty cells
    assert (report.rows, report.created) == (1, 1)


def test_a_shared_strings_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = b"<sst>" + b"A" * (512 << 20) + b"</sst>"
    path = _workbook(tmp_path / "bomb.xlsx", {"xl/sharedStrings.xml": bomb})
    del bomb
    assert path.stat().st_size < 2 << 20
    with pytest.raises(ImportFileError, match=r"sharedStrings\.xml inflates to"):
        import_roster_path(path)


def import_roster_path(path: Path) -> None:
    from storage.roster import _read_xlsx

    list(_read_xlsx(path))


@pytest.mark.parametrize("content", [b"\x93\x17 random bytes, not a zip" * 50, b"PK\x03\x04junk"])
def test_corrupt_workbooks_are_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "edition.xlsx"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=r"not a readable \.xlsx workbook"):
        parse_workbook(path)
    with pytest.raises(ImportFileError, match=r"not a readable \.xlsx workbook"):
        import_roster_path(path)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}"}
    parsed = run_cli("detention_stats", "parse", str(path), cwd=tmp_path, env=env)
    assert parsed.returncode == 2 and "Traceback" not in parsed.stderr
    assert "not a readable .xlsx workbook" in parsed.stderr


def test_utf16_rosters_and_duplicated_headers(engine: sa.Engine, tmp_path: Path) -> None:
    text = 'A-Number,Client Name,Nationality\nA-912-000-301,"DOE, JANE",MX\n'
    for i, data in enumerate([text.encode("utf-16"), text.encode("utf-16-le")]):
        path = tmp_path / f"roster{i}.csv"
        path.write_bytes(data)
        report = import_roster(engine, path)
        assert report.rows == 1 and not report.rejects, report.rejects
    with session_scope(engine) as s:
        assert [c.name for c in s.exec(select(Client))] == ["DOE, JANE"]
    twice = tmp_path / "twice.csv"
    twice.write_text("A-Number,Client Name,Status,Nationality,Status\nA-912-000-301,X,closed,MX,\n")
    with pytest.raises(ImportFileError, match=r"columns 3 \('Status'\) and 5 \('Status'\)"):
        import_roster(engine, twice)


def test_cli_refuses_unknown_values_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    for args, words in [
        (["alerts", "log", "--kind", "nope"], "unknown event kind 'nope'"),
        (["clients", "list", "--status", "garbage"], "is not prospect, represented or closed"),
    ]:
        result = run_cli(*args, cwd=tmp_path, env=env)
        assert result.returncode == 2 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_database_error_is_one_line_naming_no_client(
    engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two imports of one roster at once meet a unique key: the command says so in one line,
    without the row's values (SQLAlchemy hides its parameters; PostgreSQL's own DETAIL line,
    which repeats the row, is not shown)."""
    from datetime import UTC, datetime

    import typer

    from cli.common import handles_errors

    def row() -> Client:
        now = datetime.now(UTC)
        return Client(
            organization_id=1,
            a_number="912000401",
            name="SECRET, NAME",
            nationality_code="MX",
            created_at=now,
            updated_at=now,
        )

    with session_scope(engine) as s:
        s.add(row())

    @handles_errors
    def second_import() -> None:
        with session_scope(engine) as s:
            s.add(row())

    with pytest.raises(typer.Exit):
        second_import()
    said = capsys.readouterr().err
    assert "database error" in said and len(said.strip().splitlines()) == 1, said
    assert "912000401" not in said and "SECRET" not in said


def test_a_huge_cell_rejects_its_row_and_an_open_quote_is_named(
    engine: sa.Engine, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "A-Number,Client Name,Nationality,Notes\n"
        f'A-912-000-501,"DOE, JANE",MX,{"x" * 200_000}\n'
        'A-912-000-502,"ROE, ANA",GT,ok\n'
    )
    report = import_roster(engine, roster)  # was: the whole import aborted (csv field limit)
    assert (report.created, len(report.rejects)) == (1, 1)
    assert report.rejects[0].line == 2 and "200,000 characters" in report.rejects[0].reason
    opened = tmp_path / "open.csv"
    opened.write_text(
        "A-Number,Client Name,Nationality\n"
        'A-912-000-601,"DOE, JANE,MX\n'  # the quote never closes
        'A-912-000-602,"ROE, ANA",GT\n'
        'A-912-000-603,"POE, LUIS",HO\n'
    )
    with pytest.raises(ImportFileError, match="line 2: a quote opened here is never closed"):
        import_roster(engine, opened)
    with session_scope(engine) as s:
        assert {c.a_number for c in s.exec(select(Client))} == {"912000502"}
