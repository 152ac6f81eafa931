"""ACIS answers -> observations, checked against goldens (recorded fixtures, no network)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from spiders.acis import Outcome, parse_case_info, split_address
from tests.support.golden import check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "acis"
CASES = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))
REAL = FIXTURES / "real" / "master_hearing_scheduled.json"  # sanitized real shape (README)


def _load(path: Path) -> tuple[int, bytes, str, date]:
    spec = json.loads(path.read_text())
    body = spec["body"]
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return spec["status"], raw, spec["language"], date.fromisoformat(spec["today"])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fixture_matches_golden(path: Path, update_goldens: bool) -> None:
    status, raw, language, today = _load(path)
    observation = parse_case_info(status, raw, today, language)
    check_golden(
        path.with_suffix(".expected.json"), observation.model_dump(mode="json"), update_goldens
    )


def test_real_sanitized_response(update_goldens: bool) -> None:
    raw = REAL.read_bytes()
    observation = parse_case_info(200, raw, date(2026, 7, 1), "EN")
    assert observation.outcome is Outcome.ok
    assert observation.hearing is not None
    assert (observation.hearing.date, observation.hearing.time) == ("2026-08-06", "8:30 AM")
    assert observation.hearing.court == "NYC" and observation.hearing.judge == "Roe, Alex"
    check_golden(
        FIXTURES / "realdata_master_hearing_scheduled.expected.json",
        observation.model_dump(mode="json"),
        update_goldens,
    )
    # After the hearing date there is no upcoming hearing, whatever Data.LatestHearing* says.
    assert parse_case_info(200, raw, date(2026, 8, 7), "EN").hearing is None


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("error_captcha", Outcome.blocked),
        ("error_not_found", Outcome.not_found),
        ("error_invalid_nationality", Outcome.invalid_nationality),
        ("error_unavailable", Outcome.unavailable),
        ("error_valid_false", Outcome.not_found),
        ("error_cloudflare_502", Outcome.upstream_error),
        ("error_unknown_message", Outcome.upstream_error),
        ("layout_missing_schedule", Outcome.layout_changed),
    ],
)
def test_non_hits_carry_no_case_data(name: str, outcome: Outcome) -> None:
    observation = parse_case_info(
        *_load(FIXTURES / f"{name}.json")[:1],
        _load(FIXTURES / f"{name}.json")[1],
        date(2026, 11, 27),
    )
    assert observation.outcome is outcome
    assert observation.hearing is None and observation.status is None


def test_elapsed_days_does_not_change_the_observation() -> None:
    status, raw, language, today = _load(FIXTURES / "adl_master_scheduled.json")
    body = json.loads(raw)
    body["Data"]["ElapsedDays"] = "544"
    body["Data"]["ClockStatus"] = "S"
    a = parse_case_info(status, raw, today, language)
    b = parse_case_info(status, json.dumps(body).encode(), today, language)
    assert a.raw_sha256 != b.raw_sha256
    assert (a.hearing, a.status) == (b.hearing, b.status)


def test_schedule_wins_over_latest_hearing() -> None:
    status, raw, language, today = _load(FIXTURES / "adl_master_scheduled.json")
    body = json.loads(raw)
    body["Data"]["LatestHearingDate"] = "2027-06-01T00:00:00"
    observation = parse_case_info(status, json.dumps(body).encode(), today, language)
    assert observation.hearing is not None and observation.hearing.date == "2026-12-15"


def test_dates_are_court_local_not_utc() -> None:
    status, raw, language, today = _load(FIXTURES / "adl_master_scheduled.json")
    observation = parse_case_info(status, raw, today, language)
    assert observation.hearing is not None
    assert observation.hearing.date == "2026-12-15"  # not the 14th, as UTC->Pacific would give
    assert observation.hearing.timezone == "America/Los_Angeles"


def test_address_display() -> None:
    assert split_address(
        "ADELANTO, CALIFORNIA|10250 RANCHO ROAD, SUITE 201A|ADELANTO, CA 92301"
    ) == ["10250 RANCHO ROAD, SUITE 201A", "ADELANTO, CA 92301"]
    assert split_address(None) == []


def test_language_does_not_change_the_hearing() -> None:
    en = parse_case_info(*_load(FIXTURES / "adl_master_scheduled.json")[:2], date(2026, 11, 27))
    es = parse_case_info(
        *_load(FIXTURES / "adl_master_scheduled_es.json")[:2], date(2026, 11, 27), "ES"
    )
    assert en.hearing == es.hearing and es.language == "ES"


def test_zone_follows_the_court() -> None:
    raw = REAL.read_bytes()
    hearing = parse_case_info(200, raw, date(2026, 7, 1)).hearing
    assert hearing is not None and hearing.timezone == "America/New_York"
