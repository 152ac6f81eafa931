from datetime import UTC, datetime

import pytest

from monitor.detect import HearingSnapshot, hearing_changes

NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)
BASE = HearingSnapshot(
    date="2027-01-05",
    time="9:00 AM",
    court="ADL",
    location="ADE",
    judge="SMITH, JOHN",
    medium="In person",
    calendar_type="Master",
    schedule_type="Initial master",
)


def kinds(prev: HearingSnapshot | None, cur: HearingSnapshot | None) -> list[str]:
    return [e.kind for e in hearing_changes(7, prev, cur, NOW, basis="1>2")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"date": "2026-12-01"}, ["hearing_moved_earlier"]),
        ({"date": "2027-02-01"}, ["hearing_moved_later"]),
        ({"time": "1:00 PM"}, ["hearing_time_changed"]),
        ({"time": "9:00 am"}, []),  # same time, other spelling
        ({"judge": "LEE, ANN"}, ["hearing_judge_changed"]),
        ({"medium": "Internet-based"}, ["hearing_medium_changed"]),
        ({"location": "ADW"}, ["hearing_location_changed"]),
        ({"court": "LOS"}, ["hearing_location_changed"]),
        ({"calendar_type": "Individual"}, ["hearing_type_changed"]),
        (
            {"date": "2026-12-01", "judge": "LEE, ANN"},
            ["hearing_moved_earlier", "hearing_judge_changed"],
        ),
    ],
)
def test_each_change_is_one_typed_event(change: dict[str, str], expected: list[str]) -> None:
    assert kinds(BASE, BASE.model_copy(update=change)) == expected


def test_scheduled_and_removed() -> None:
    assert kinds(None, BASE) == ["hearing_scheduled"]
    assert kinds(BASE, None) == ["hearing_removed"]
    assert kinds(None, None) == []


def test_payload_and_dedup_key() -> None:
    (moved,) = hearing_changes(
        7, BASE, BASE.model_copy(update={"date": "2026-12-01"}), NOW, basis="11>12"
    )
    assert moved.severity is None and moved.client_id == 7
    assert moved.payload["changes"] == [{"field": "date", "old": "2027-01-05", "new": "2026-12-01"}]
    assert moved.payload["hearing"]["date"] == "2026-12-01"
    assert moved.dedup_key == "hearing_moved_earlier:7:11>12"
