"""ACIS lookups stored and compared: the right client events, and none from source trouble."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from monitor.acis import detect
from monitor.source_health import check_source
from sandbox.acis_data import Case, Hearing
from storage.db import session_scope
from storage.models import AcisLookup, Client, CrawlRun, Event
from storage.models import Hearing as HearingRow
from storage.people import add_client, add_staff
from tests.support.acis import look

NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)
TODAY = date(2026, 11, 27)


@pytest.fixture
def client_id(engine: sa.Engine) -> int:
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Coord",
            email="coord@example.org",
            role="coordinator",
            channels=["json://127.0.0.1:9/none"],
        )
        c = add_client(s, a_number="912345678", name="DOE, JANE", nationality="MX")
        assert c.id is not None
        return c.id


def test_hearing_changes_and_quiet_days(engine: sa.Engine, client_id: int) -> None:
    case = Case("912345678", "MX", hearing=Hearing(on=date(2027, 1, 5)))
    assert look(engine, client_id, case, NOW) == []  # the first lookup is the baseline
    case.elapsed_days += 1
    assert look(engine, client_id, case, NOW + timedelta(days=1)) == []
    assert look(engine, client_id, case, NOW + timedelta(days=2), "ES") == []  # other language
    case.hearing = Hearing(on=date(2026, 12, 10), judge="Lee, Ann", judge_code="ALE")
    assert look(engine, client_id, case, NOW + timedelta(days=3)) == [
        "hearing_moved_earlier",
        "hearing_judge_changed",
    ]
    with session_scope(engine) as s:
        (current,) = s.exec(select(HearingRow).where(HearingRow.current == True)).all()  # noqa: E712
        assert (current.hearing_on, current.hearing_time) == (date(2026, 12, 10), "8:30 AM")
        assert current.timezone == "America/Los_Angeles" and current.court_code == "ADL"
        assert current.starts_at == datetime(2026, 12, 10, 16, 30, tzinfo=UTC)
    # a pass run twice emits nothing twice
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        assert detect(s, client, NOW + timedelta(days=3), TODAY) == []
    case.hearing = None
    assert look(engine, client_id, case, NOW + timedelta(days=4)) == ["hearing_removed"]
    case.hearing = Hearing(on=date(2027, 3, 1))
    assert look(engine, client_id, case, NOW + timedelta(days=5)) == ["hearing_scheduled"]


def test_source_trouble_never_makes_client_events(engine: sa.Engine, client_id: int) -> None:
    case = Case("912345678", "MX", hearing=Hearing(on=date(2027, 1, 5)))
    look(engine, client_id, case, NOW)
    for i, trouble in enumerate(["captcha", "cloudflare_502", "captcha"]):
        assert look(engine, client_id, trouble, NOW + timedelta(hours=i + 1)) == []
    case.hearing = None  # even after trouble, a real change is still seen as one
    assert look(engine, client_id, case, NOW + timedelta(hours=5)) == ["hearing_removed"]
    with session_scope(engine) as s:
        outcomes = [x.outcome for x in s.exec(select(AcisLookup))]
    assert outcomes == ["ok", "blocked", "upstream_error", "blocked", "ok"]


def test_not_found_must_repeat(engine: sa.Engine, client_id: int) -> None:
    case = Case("912345678", "MX", hearing=Hearing(on=date(2027, 1, 5)))
    assert look(engine, client_id, "not_found", NOW) == []  # never found: nothing to lose
    look(engine, client_id, case, NOW + timedelta(days=1))
    assert look(engine, client_id, "not_found", NOW + timedelta(days=2)) == []
    assert look(engine, client_id, "valid_false", NOW + timedelta(days=3)) == ["case_not_found"]
    assert look(engine, client_id, "not_found", NOW + timedelta(days=4)) == []  # said once


def test_decision_appeal_due_and_appeal_filed(engine: sa.Engine, client_id: int) -> None:
    case = Case("912345678", "MX", hearing=Hearing(on=date(2026, 11, 30)))
    look(engine, client_id, case, NOW)
    case.hearing = Hearing(on=date(2026, 11, 30))
    case.decision_code, case.decision_text = "X", "Removal ordered"
    case.completed_on, case.appeal_due_on = date(2026, 11, 30), date(2026, 12, 30)
    later = datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert look(engine, client_id, case, later) == ["hearing_removed", "decision_entered"]
    assert look(engine, client_id, case, datetime(2026, 12, 19, 18, tzinfo=UTC)) == []
    assert look(engine, client_id, case, datetime(2026, 12, 20, 18, tzinfo=UTC)) == [
        "appeal_due_soon"
    ]
    assert look(engine, client_id, case, datetime(2026, 12, 21, 18, tzinfo=UTC)) == []
    case.appeal_filed_on = date(2026, 12, 22)
    assert look(engine, client_id, case, datetime(2026, 12, 23, 18, tzinfo=UTC)) == ["appeal_filed"]


def test_prospect_with_a_case_at_adelanto_is_a_lead(engine: sa.Engine, client_id: int) -> None:
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        client.status = "prospect"
        s.add(client)
    case = Case(
        "912345678",
        "MX",
        court="LOS",
        hearing=Hearing(on=date(2027, 1, 5), court="LOS", location="LOS"),
    )
    assert look(engine, client_id, case, NOW) == []
    case.court, case.hearing = "ADL", Hearing(on=date(2026, 12, 20))
    made = look(engine, client_id, case, NOW + timedelta(days=1))
    assert "new_unrepresented_case" in made
    with session_scope(engine) as s:
        lead = s.exec(select(Event).where(Event.kind == "new_unrepresented_case")).one()
        assert lead.payload["hearing"]["date"] == "2026-12-20"


def test_source_health_after_three_failing_runs(engine: sa.Engine) -> None:
    def run(outcome: str, hour: int) -> str | None:
        with session_scope(engine) as s:
            s.add(
                CrawlRun(
                    source="acis",
                    started_at=NOW + timedelta(hours=hour),
                    finished_at=NOW + timedelta(hours=hour),
                    outcome=outcome,
                    message="captcha refused 50 of 50 lookups",
                )
            )
            s.flush()
            return check_source(s, "acis", NOW + timedelta(hours=hour))

    assert [run("blocked", 1), run("layout_changed", 2)] == [None, None]
    assert run("blocked", 3) == "source_unhealthy"
    assert run("blocked", 4) is None  # told once
    assert run("ok", 5) == "source_recovered"
    assert run("ok", 6) is None
