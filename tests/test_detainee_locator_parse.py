"""ICE locator pages -> observations, against goldens (recorded fixtures, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spiders.detainee_locator import parse_facility, parse_result
from storage.snapshots import CustodyOutcome
from tests.support.golden import check_golden

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


def test_locator_sandbox_is_controlled_over_http() -> None:
    import urllib.request

    from sandbox.detainee_locator import DetaineeLocatorSandbox

    with DetaineeLocatorSandbox() as replica:

        def post(path: str, body: dict[str, object]) -> None:
            request = urllib.request.Request(replica.url + path, data=json.dumps(body).encode())
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200

        def search() -> str:
            with urllib.request.urlopen(
                replica.url + "/odls/api/search?a=950000001&country=Mexico", timeout=10
            ) as answer:
                return str(answer.read().decode())

        post(
            "/_sandbox/person",
            {
                "a_number": "950000001",
                "country": "MX",
                "first": "JANE",
                "last": "DOE",
                "facility": "ADLNTCA",
            },
        )
        assert "ADELANTO ICE PROCESSING CENTER" in search()
        post(
            "/_sandbox/person",
            {
                "a_number": "950000001",
                "country": "MX",
                "first": "JANE",
                "last": "DOE",
                "facility": None,
                "released_on": "2026-11-20",
            },
        )
        assert parse_result(200, search()).status_text == "Released"
        post("/_sandbox/remove", {"a_number": "950000001"})
        assert parse_result(200, search()).outcome is CustodyOutcome.zero
        post("/_sandbox/knobs", {"blocked": True})
        request = urllib.request.Request(replica.url + "/odls/")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("the block page should answer 403")
        except urllib.error.HTTPError as blocked:
            assert blocked.code == 403
