"""Issue 15, items 3 and 10: ACIS answers of another shape, and hand-imported answers.

An answer whose dates are not written as ACIS writes them is a changed layout (reported to
admins), never an urgent ``hearing_removed``; an imported answer must be the named client's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from checks.acis import import_answer
from monitor.acis import detect
from sandbox.acis_data import Case, Hearing, case_body
from spiders.acis import parse_case_info
from storage.acis import record
from storage.db import session_scope
from storage.errors import ImportFileError, ValidationError
from storage.models import AcisLookup, Client
from storage.people import add_client
from storage.settings import Settings
from storage.snapshots import Outcome

NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)
CASE = Case("912345678", "MX", hearing=Hearing(on=date(2027, 1, 15)))


@pytest.fixture
def client_id(engine: sa.Engine) -> int:
    with session_scope(engine) as s:
        c = add_client(s, a_number="912345678", name="DOE, JANE", nationality="MX")
        assert c.id is not None
        return c.id


def _look(engine: sa.Engine, client_id: int, body: dict[str, object], when: datetime) -> list[str]:
    raw = json.dumps(body).encode()
    observation = parse_case_info(200, raw, when.date())
    with session_scope(engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        record(s, client, observation, raw, when, nationality_code="MX")
        return detect(s, client, when, when.date())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("AdjDate", "01/15/2027"),
        ("AdjDate", 20270115),
        ("AdjDate", "next Friday"),
        ("AdjDate", {"date": "2027-01-15"}),
    ],
)
def test_a_date_in_another_format_is_a_changed_layout_never_a_removed_hearing(
    engine: sa.Engine, client_id: int, field: str, value: object
) -> None:
    good = case_body(CASE, "EN")
    assert _look(engine, client_id, good, NOW) == []  # the baseline
    odd = json.loads(json.dumps(good))
    odd["Schedule"][field] = value
    observation = parse_case_info(200, json.dumps(odd).encode(), NOW.date())
    assert observation.outcome is Outcome.layout_changed
    assert "Schedule.AdjDate" in observation.message
    assert _look(engine, client_id, odd, NOW + timedelta(hours=1)) == []
    # the good answer again: nothing changed, so nothing to say
    assert _look(engine, client_id, good, NOW + timedelta(hours=2)) == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested past the JSON reader's recursion
        json.dumps({"Data": {}, "Proceeding": "ADL", "Schedule": {}}).encode(),  # mistyped
        json.dumps({"Data": {}, "Proceeding": {}, "Schedule": [1, 2]}).encode(),
        json.dumps({"Data": {"LatestHearingDate": 5}, "Proceeding": {}, "Schedule": {}}).encode(),
    ],
)
def test_nested_or_mistyped_answers_are_a_changed_layout(body: bytes) -> None:
    observation = parse_case_info(200, body, NOW.date())
    assert observation.outcome is Outcome.layout_changed, observation


def _saved(tmp_path: Path, body: dict[str, object] | bytes) -> Path:
    path = tmp_path / "answer.json"
    path.write_bytes(body if isinstance(body, bytes) else json.dumps(body).encode())
    return path


def test_an_imported_answer_must_be_the_named_clients(
    engine: sa.Engine, client_id: int, tmp_path: Path
) -> None:
    settings = Settings(database_url=str(engine.url))
    body = case_body(CASE, "EN")
    anonymous = {k: v for k, v in body.items() if k != "AlienNumber"}
    with pytest.raises(ValidationError, match="does not say whose it is"):
        import_answer(engine, settings, "912345678", _saved(tmp_path, anonymous))
    other = {**body, "AlienNumber": "987654321"}
    with pytest.raises(ValidationError, match=r"is for A-number \*\*\*4321, not \*\*\*5678"):
        import_answer(engine, settings, "912345678", _saved(tmp_path, other))
    with pytest.raises(ImportFileError, match="at most 1,048,576 accepted"):
        import_answer(engine, settings, "912345678", _saved(tmp_path, b" " * (2 << 20)))
    with pytest.raises(ImportFileError, match="nested too deeply"):
        import_answer(engine, settings, "912345678", _saved(tmp_path, b"[" * 100_000))
    with session_scope(engine) as s:
        assert list(s.exec(select(AcisLookup))) == []  # none of these stored anything
    # The client's own answer, the A-number written with dashes as people write it
    observation, _ = import_answer(engine, settings, "A-912-345-678", _saved(tmp_path, body))
    assert observation.outcome is Outcome.ok
    with session_scope(engine) as s:
        assert [x.client_id for x in s.exec(select(AcisLookup))] == [client_id]
