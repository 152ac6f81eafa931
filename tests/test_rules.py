"""The detectors' rules, each alone: ACIS (a client's case lookups), the locator (custody
changes replayed from lookups) and court closures. The detectors run them in order
(``RULES``); the end-to-end tests run them through the checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from monitor import acis, court_status
from monitor import detainee_locator as locator
from storage.models import Client, Facility, Hearing
from storage.people import add_client
from storage.snapshots import CourtRow

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
HEARING = {"date": "2027-01-05", "time": "8:30 AM", "court": "ADL", "judge": "Lee, Ann"}


def _client(status: str = "active") -> Client:
    return Client(
        id=7,
        a_number="912345678",
        name="DOE, JANE",
        nationality_code="MX",
        status=status,
        organization_id=1,
        created_at=NOW,
        updated_at=NOW,
    )


def _seen(i: int, outcome: str = "ok", hearing: Any = None, **status: Any) -> acis.Seen:
    return acis.Seen(i, outcome, hearing, status or {}, NOW - timedelta(days=10 - i))


def _facts(*lookups: acis.Seen, status: str = "active") -> acis.Facts:
    newest_first = sorted(lookups, key=lambda s: -s.id)
    return acis.Facts(_client(status), newest_first, NOW, TODAY, acis.WatchSettings())


def _kinds(events: list[Any]) -> list[str]:
    return [e.kind for e in events]


def test_acis_rules_run_in_order() -> None:
    names = [r.__name__ for r in acis.RULES]
    assert names == [
        "case_not_found",
        "hearing_changed",
        "decision_entered",
        "appeal_filed",
        "appeal_due_soon",
        "prospect_case",
    ]


def test_case_not_found_needs_repeats_after_a_found_case() -> None:
    found = _seen(1, hearing=HEARING)
    assert acis.case_not_found(_facts(found, _seen(2, "not_found"))) == []
    (event,) = acis.case_not_found(_facts(found, _seen(2, "not_found"), _seen(3, "not_found")))
    assert event.kind == "case_not_found" and event.dedup_key == "case_not_found:7:after:1"
    assert event.group_key == "acis:7:3"
    assert acis.case_not_found(_facts(_seen(2, "not_found"), _seen(3, "not_found"))) == []


def test_hearing_changed_compares_the_last_two_found_cases() -> None:
    moved = {**HEARING, "date": "2026-12-20"}
    events = acis.hearing_changed(_facts(_seen(1, hearing=HEARING), _seen(3, hearing=moved)))
    assert _kinds(events) == ["hearing_moved_earlier"]
    assert events[0].dedup_key == "hearing_moved_earlier:7:1>3"
    assert acis.hearing_changed(_facts(_seen(1, hearing=HEARING))) == []  # a baseline


def test_decision_entered_once_per_code() -> None:
    before = _seen(1, hearing=HEARING)
    decided = _seen(
        2, hearing=HEARING, decision_code="X", decision_text="Removal", completed_on="2026-11-30"
    )
    (event,) = acis.decision_entered(_facts(before, decided))
    assert event.payload["changes"] == [{"field": "decision", "old": None, "new": "Removal"}]
    again = _seen(3, hearing=HEARING, decision_code="X", completed_on="2026-11-30")
    assert acis.decision_entered(_facts(decided, again)) == []


def test_appeal_filed_when_it_first_shows() -> None:
    before = _seen(1, hearing=HEARING)
    filed = _seen(2, hearing=HEARING, appeal_filed=True, appeal_filed_on="2026-11-29")
    assert _kinds(acis.appeal_filed(_facts(before, filed))) == ["appeal_filed"]
    assert acis.appeal_filed(_facts(filed, _seen(3, appeal_filed=True))) == []


@pytest.mark.parametrize(
    ("due", "filed", "expected"),
    [
        ("2026-12-06", False, 1),
        ("2026-12-31", False, 0),
        ("2026-12-06", True, 0),
        ("2026-11-30", False, 0),
    ],
)
def test_appeal_due_soon_within_the_warning(due: str, filed: bool, expected: int) -> None:
    facts = _facts(_seen(1, hearing=HEARING, appeal_due_on=due, appeal_filed=filed))
    assert len(acis.appeal_due_soon(facts)) == expected


def test_prospect_case_at_a_lead_court() -> None:
    first = _seen(1, hearing=HEARING)
    (event,) = acis.prospect_case(_facts(first, status="prospect"))
    assert event.kind == "new_unrepresented_case"
    assert event.dedup_key == "new_unrepresented_case:prospect:7:ADL"  # as stored before
    assert acis.prospect_case(_facts(first, status="active")) == []
    la = _seen(2, hearing={**HEARING, "court": "LOS"})
    assert acis.prospect_case(_facts(la, status="prospect")) == []
    back = _seen(3, hearing=HEARING)
    assert len(acis.prospect_case(_facts(la, back, status="prospect"))) == 1
    assert acis.prospect_case(_facts(first, _seen(2, hearing=HEARING), status="prospect")) == []


# -- the locator: the replay, then each rule ------------------------------------------------


def _row(i: int, outcome: str, facility: int | None = None, hours: float = 0) -> locator.Row:
    detained = None if outcome == "zero" else facility is not None
    return locator.Row(i, outcome, detained, facility, NOW + timedelta(hours=hours))


def test_replay_takes_the_first_found_as_the_baseline_and_needs_spaced_zeros() -> None:
    rules = locator.CustodySettings(zero_repeats=3, zero_spacing=timedelta(hours=6))
    rows = [
        _row(1, "found", 10),
        _row(2, "found", 11, 1),
        _row(3, "zero", hours=2),
        _row(4, "zero", hours=3),
        _row(5, "zero", hours=4),
    ]
    steps = list(locator.replay(rows, rules))
    assert [(b.kind, a.kind, r.id) for b, a, r, _ in steps] == [("detained", "detained", 2)]
    spaced = [
        *rows[:2],
        _row(3, "zero", hours=2),
        _row(4, "zero", hours=8),
        _row(5, "zero", hours=14),
    ]
    *_, (before, after, row, zeros) = locator.replay(spaced, rules)
    assert (before.kind, after.kind, row.id, [z.id for z in zeros]) == (
        "detained",
        "absent",
        5,
        [3, 4, 5],
    )
    only_zeros = [
        _row(1, "zero"),
        _row(2, "zero", hours=6),
        _row(3, "zero", hours=12),
        _row(4, "found", 10, 13),
    ]
    assert [(b.kind, a.kind) for b, a, _, _ in locator.replay(only_zeros, rules)] == [
        ("unseen", "detained")
    ]


@pytest.fixture
def session(sqlite_engine: sa.Engine) -> Iterator[Session]:
    with Session(sqlite_engine) as s:
        s.add(
            Facility(
                id=10,
                name="Adelanto ICE Processing Center",
                city="Adelanto",
                state="CA",
                aor="Los Angeles",
            )
        )
        s.add(
            Facility(
                id=11, name="Desert View Annex", city="Adelanto", state="CA", aor="Los Angeles"
            )
        )
        s.add(Facility(id=12, name="Otero County Processing Center", state="NM", aor="El Paso"))
        s.commit()
        yield s


def _step(s: Session, before: locator.Custody, after: locator.Custody, **kw: Any) -> locator.Step:
    row = kw.pop("row", _row(9, "found", after.facility_id))
    return locator.Step(s, 7, before, after, row, kw.pop("zeros", []), locator.CustodySettings())


DETAINED_10 = locator.Custody("detained", 10)


def test_locator_rules_each_alone(session: Session) -> None:
    released = locator.Custody("released")
    assert _kinds(locator.detained(_step(session, released, DETAINED_10))) == ["client_detained"]
    assert locator.detained(_step(session, DETAINED_10, DETAINED_10)) == []
    assert _kinds(locator.released(_step(session, DETAINED_10, released))) == ["client_released"]
    assert locator.released(_step(session, released, released)) == []
    near = locator.transferred(_step(session, DETAINED_10, locator.Custody("detained", 11)))
    assert _kinds(near) == ["client_transferred"] and near[0].severity is None
    (far,) = locator.transferred(_step(session, DETAINED_10, locator.Custody("detained", 12)))
    assert far.severity == "urgent" and "Otero" in far.payload["facility"]
    zeros = [_row(3, "zero"), _row(4, "zero", hours=6), _row(5, "zero", hours=12)]
    lost = locator.lost(
        _step(session, DETAINED_10, locator.Custody("absent"), row=zeros[-1], zeros=zeros)
    )
    assert _kinds(lost) == ["client_not_found"] and lost[0].dedup_key == "client_not_found:7:3"
    assert [locator.lost, locator.detained, locator.transferred, locator.released] == locator.RULES


# -- court closures -----------------------------------------------------------------------


def _court(closed: bool) -> CourtRow:
    status = "CLOSED on 12/02/2026" if closed else "OPEN"
    return CourtRow(
        slug="adelanto-immigration-court",
        name="Adelanto",
        status=status,
        code="ADL",
        closed=closed,
        closed_days=[date(2026, 12, 2)] if closed else [],
    )


def test_court_rules_each_alone(sqlite_engine: sa.Engine) -> None:
    with Session(sqlite_engine) as s:
        client = add_client(s, a_number="912345670", name="DOE, JO", nationality="MX")
        s.flush()
        assert client.id is not None
        s.add(
            Hearing(
                client_id=client.id,
                hearing_on=date(2026, 12, 2),
                hearing_time="9:00 AM",
                court_code="ADL",
                seen_at=NOW,
            )
        )
        s.flush()
        closing = court_status.StatusChange(_court(True), [date(2026, 12, 2)], True, False)
        assert court_status.closed(s, closing, NOW) == {
            "court_closed": 1,
            "court_closed_summary": 1,
        }
        assert court_status.reopened(s, closing, NOW) == {}
        same = court_status.StatusChange(_court(True), [date(2026, 12, 2)], False, True)
        assert court_status.closed(s, same, NOW) == {}  # nothing new in the status
        opening = court_status.StatusChange(_court(False), [], True, True)
        assert court_status.closed(s, opening, NOW) == {}
        assert court_status.reopened(s, opening, NOW) == {"court_reopened": 1}
    assert [court_status.closed, court_status.reopened] == court_status.RULES
