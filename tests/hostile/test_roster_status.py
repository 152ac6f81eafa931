"""Issue 15, item 2: a blank Status cell, or no Status column, never erases a stored status."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from storage.db import session_scope
from storage.models import Client
from storage.roster import import_roster


def _statuses(engine: sa.Engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {c.a_number: c.status for c in s.exec(select(Client))}


def test_blank_or_missing_status_keeps_closed_and_prospect(
    engine: sa.Engine, tmp_path: Path
) -> None:
    first = tmp_path / "roster.csv"
    first.write_text(
        "A-Number,Client Name,Nationality,Status\n"
        'A-912-000-001,"DOE, JANE",MX,closed\n'
        'A-912-000-002,"ROE, ANA",GT,prospect\n'
        'A-912-000-003,"POE, LUIS",HO,represented\n'
    )
    assert not import_roster(engine, first).rejects
    before = _statuses(engine)
    assert before == {"912000001": "closed", "912000002": "prospect", "912000003": "represented"}

    blank = tmp_path / "blank.csv"  # the same people, the Status cells left empty
    blank.write_text(
        "A-Number,Client Name,Nationality,Status\n"
        'A-912-000-001,"DOE, JANE",MX,\n'
        'A-912-000-002,"ROE, ANA",GT,\n'
        'A-912-000-003,"POE, LUIS",HO,\n'
    )
    report = import_roster(engine, blank)
    assert (report.updated, report.unchanged) == (0, 3)
    assert _statuses(engine) == before

    no_column = tmp_path / "nocolumn.csv"  # no Status column at all, and one new client
    no_column.write_text(
        "A-Number,Client Name,Nationality\n"
        'A-912-000-001,"DOE, JANE",MX\n'
        'A-912-000-002,"ROE, ANA",GT\n'
        'A-912-000-004,"NEW, ONE",ES\n'
    )
    report = import_roster(engine, no_column, default_status="prospect")
    assert (report.created, report.unchanged) == (1, 2)
    assert _statuses(engine) == {**before, "912000004": "prospect"}
