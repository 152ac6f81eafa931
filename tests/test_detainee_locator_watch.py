"""Custody history -> events: transfers, releases, detentions; never from a single zero."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from monitor.detainee_locator import CustodySettings, detect, resolve_facilities
from storage.acis import record as record_acis
from storage.db import session_scope
from storage.detainee_locator import facility_key, record
from storage.models import Client, Event, Facility
from storage.people import add_client
from storage.snapshots import AcisObservation, CustodyObservation, CustodyOutcome, HearingSnapshot
from storage.snapshots import Outcome as AcisOutcome

T0 = datetime(2026, 11, 27, 18, tzinfo=UTC)
RULES = CustodySettings(zero_repeats=3, zero_spacing=timedelta(hours=6))


@pytest.fixture
def client_id(engine: sa.Engine) -> int:
    with session_scope(engine) as s:
        c = add_client(s, a_number="912345678", name="DOE, JANE", nationality="MX")
        assert c.id is not None
        return c.id


def found(
    facility: str = "ADELANTO ICE PROCESSING CENTER",
    state: str = "CA",
    address: tuple[str, ...] = (),
) -> CustodyObservation:
    return CustodyObservation(
        outcome=CustodyOutcome.found,
        detained=True,
        status_text="In ICE Custody",
        facility_name=facility,
        state=state,
        facility_address=address,
    )


RELEASED = CustodyObservation(outcome=CustodyOutcome.found, detained=False, status_text="Released")
ZERO = CustodyObservation(outcome=CustodyOutcome.zero)
ERROR = CustodyObservation(outcome=CustodyOutcome.ambiguous)


def look(
    engine: sa.Engine, client_id: int, observation: CustodyObservation, hours: float
) -> list[str]:
    when = T0 + timedelta(hours=hours)
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        record(s, client, observation, "<html/>", when)
        resolve_facilities(s, client, when)
        return detect(s, client, when, RULES)


def test_transfers_releases_and_detentions(engine: sa.Engine, client_id: int) -> None:
    assert look(engine, client_id, found(), 0) == []  # baseline
    assert look(engine, client_id, found("Adelanto ICE Processing Center"), 1) == []  # same place
    assert look(engine, client_id, found("DESERT VIEW ANNEX"), 2) == ["client_transferred"]
    assert look(engine, client_id, found("ELOY FEDERAL CONTRACT FACILITY", "AZ"), 3) == [
        "client_transferred"
    ]
    assert look(engine, client_id, RELEASED, 4) == ["client_released"]
    assert look(engine, client_id, found("OTAY MESA DETENTION CENTER"), 5) == ["client_detained"]
    with session_scope(engine) as s:
        moves = s.exec(select(Event).where(Event.kind == "client_transferred")).all()
        assert [m.severity for m in moves] == ["normal", "urgent"]  # Desert View: LA; Eloy: AZ
        assert "ELOY" in moves[1].payload["changes"][0]["new"]


def test_one_zero_is_nothing_three_spaced_zeros_are_news(engine: sa.Engine, client_id: int) -> None:
    look(engine, client_id, found(), 0)
    for hours in (1, 2):
        assert look(engine, client_id, ZERO, hours) == []
    assert look(engine, client_id, found(), 3) == []  # a found result resets the count
    assert look(engine, client_id, ZERO, 4) == []
    assert look(engine, client_id, ERROR, 5) == []  # errors are not zeros
    assert look(engine, client_id, ZERO, 6) == []
    assert look(engine, client_id, ZERO, 8) == []  # three zeros, but within 4 hours
    assert look(engine, client_id, ZERO, 16) == ["client_not_found"]
    assert look(engine, client_id, ZERO, 30) == []  # said once
    assert look(engine, client_id, found("DESERT VIEW ANNEX"), 31) == ["client_detained"]


def test_unknown_facility_is_created_once_and_admins_told(
    engine: sa.Engine, client_id: int
) -> None:
    look(engine, client_id, found(), 0)
    tacoma = found(
        "NORTHWEST ICE PROCESSING CENTER (NWIPC)",
        "WA",
        ("1623 East J Street, Suite 2", "Tacoma, WA 98421"),
    )
    assert look(engine, client_id, tacoma, 1) == ["client_transferred"]
    look(engine, client_id, found(), 2)
    look(engine, client_id, found("Northwest ICE Processing Center"), 3)
    with session_scope(engine) as s:
        rows = s.exec(select(Facility).where(Facility.state == "WA")).all()
        assert [(f.name, f.city, f.zip) for f in rows] == [
            ("NORTHWEST ICE PROCESSING CENTER (NWIPC)", "Tacoma", "98421")
        ]
        added = s.exec(select(Event).where(Event.kind == "facility_added")).all()
        assert len(added) == 1


def test_facility_names_match() -> None:
    assert (
        facility_key("ADELANTO ICE PROCESSING CENTER")
        == facility_key("Adelanto ICE Processing Center")
        == facility_key("ADELANTO CORRECTIONAL FACILITY")
    )
    assert facility_key("DESERT VIEW ANNEX") != facility_key("ADELANTO ICE PROCESSING CENTER")


def test_detained_while_the_hearing_is_at_a_non_detained_court(
    engine: sa.Engine, client_id: int
) -> None:
    hearing = HearingSnapshot(
        date=(date.today() + timedelta(30)).isoformat(), time="9:00 AM", court="SNC"
    )
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        record_acis(
            s,
            client,
            AcisObservation(
                outcome=AcisOutcome.ok, http_status=200, hearing=hearing, raw_sha256="x"
            ),
            b"{}",
            T0,
        )
    assert look(engine, client_id, found(), 0) == ["custody_court_mismatch"]
    assert look(engine, client_id, found(), 1) == []


def test_first_found_after_confirmed_absence_is_a_detention(
    engine: sa.Engine, client_id: int
) -> None:
    for hours in (0, 6, 12):
        assert look(engine, client_id, ZERO, hours) == []
    assert look(engine, client_id, found(), 13) == ["client_detained"]


def test_a_false_zero_at_first_is_not_an_absence(engine: sa.Engine, client_id: int) -> None:
    assert look(engine, client_id, ZERO, 0) == []
    assert look(engine, client_id, found(), 1) == []  # the baseline, not a detention
    assert look(engine, client_id, found("DESERT VIEW ANNEX"), 2) == ["client_transferred"]
