"""ICE locator pages -> observations, against goldens (recorded fixtures, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spiders.detainee_locator import parse_facility, parse_result
from storage.snapshots import CustodyOutcome
from tests.golden import check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "detainee_locator"
PAGES = sorted(p for p in FIXTURES.glob("*.json") if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_result_page_matches_golden(path: Path, update_goldens: bool) -> None:
    spec = json.loads(path.read_text())
    observation = parse_result(spec["status"], spec["html"])
    check_golden(
        path.with_suffix(".expected.json"), observation.model_dump(mode="json"), update_goldens
    )


@pytest.mark.parametrize(
    ("name", "outcome", "detained"),
    [
        ("found_adelanto", CustodyOutcome.found, True),
        ("found_released", CustodyOutcome.found, False),
        ("zero", CustodyOutcome.zero, None),
        ("internal_error", CustodyOutcome.ambiguous, None),
        ("captcha", CustodyOutcome.blocked, None),
        ("access_denied", CustodyOutcome.blocked, None),
        ("layout_v2", CustodyOutcome.layout_changed, None),
    ],
)
def test_classification(name: str, outcome: CustodyOutcome, detained: bool | None) -> None:
    spec = json.loads((FIXTURES / f"{name}.json").read_text())
    observation = parse_result(spec["status"], spec["html"])
    assert (observation.outcome, observation.detained) == (outcome, detained)


def test_found_fields() -> None:
    spec = json.loads((FIXTURES / "found_adelanto.json").read_text())
    o = parse_result(spec["status"], spec["html"])
    assert (o.facility_name, o.state, o.country_of_birth, o.status_text) == (
        "ADELANTO ICE PROCESSING CENTER",
        "CA",
        "Mexico",
        "In ICE Custody",
    )


def test_facility_page() -> None:
    name, address, phone = parse_facility((FIXTURES / "facility_adelanto.html").read_text())
    assert name == "ADELANTO ICE PROCESSING CENTER"
    assert address == ("10250 Rancho Road", "Adelanto, CA 92301")
    assert phone == "(760) 561-6100"
    assert parse_facility("<html><body>nothing</body></html>") == ("", (), "")
