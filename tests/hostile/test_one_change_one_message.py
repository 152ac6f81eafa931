"""Issue 15, item 11: one change, one message, every line in the recipient's language.

A change of venue is three events (moved later, judge, location) and a decision two (no upcoming
hearing, decision entered): each recipient gets one message per client per lookup that lists
every change, with the most urgent severity, and acknowledging it acknowledges all of them.
Every line beyond the labelled facts is a registered note, written in English and in Spanish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.dispatch import Dispatcher, acknowledge
from monitor.events import NOTES, RegistryError, note
from monitor.messages import LABELS, note_line
from sandbox.acis_data import Case, Hearing
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.models import Delivery, Event
from storage.people import add_client, add_staff, assign
from storage.settings import Settings
from tests.support.acis import look

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)  # 10:00 in Los Angeles: no quiet hours
ANA, BETO = "ana@example.org", "beto@example.org"  # English, Spanish
ENGLISH_ONLY = ["What changed", "Hearing moved later", "Judge changed", "Completed", "appeal due"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


def _org(engine: sa.Engine, sink: SmtpSink) -> dict[str, int]:
    ids = {}
    with session_scope(engine) as s:
        add_staff(s, name="Ana Ruiz", email=ANA, role="attorney", channels=[sink.url(ANA)], now=NOW)
        add_staff(
            s,
            name="Beto Paz",
            email=BETO,
            role="attorney",
            language="es",
            channels=[sink.url(BETO)],
            now=NOW,
        )
        for a_number, name, attorney in (
            ("912000001", "DOE, JANE", ANA),
            ("912000002", "ROE, JUAN", BETO),
        ):
            client = add_client(s, a_number=a_number, name=name, nationality="MX", now=NOW)
            assign(s, a_number, attorney, "primary", now=NOW)
            assert client.id is not None
            ids[attorney] = client.id
    return ids


def _dispatch(engine: sa.Engine, when: datetime) -> None:
    Dispatcher(engine, Settings(), clock=lambda: when).run_once()


def test_a_change_of_venue_is_one_message_in_each_language(
    engine: sa.Engine, sink: SmtpSink
) -> None:
    clients = _org(engine, sink)
    cases = {
        who: Case(a, "MX", hearing=Hearing(on=date(2027, 1, 5)))
        for who, a in ((ANA, "912000001"), (BETO, "912000002"))
    }
    for who, case in cases.items():
        assert look(engine, clients[who], case, NOW) == []  # the baseline
    later = NOW + timedelta(days=1)
    for who, case in cases.items():
        case.hearing = Hearing(
            on=date(2027, 2, 10), court="LOS", location="LOS", judge="Lee, Ann", judge_code="ALE"
        )
        kinds = look(engine, clients[who], case, later)
        assert kinds == ["hearing_moved_later", "hearing_judge_changed", "hearing_location_changed"]
    _dispatch(engine, later)

    (english,) = sink.to(ANA)  # one message for three changes
    for words in ("Hearing moved later", "Judge changed", "Hearing location changed"):
        assert words in english.subject, english.subject
    body = english.text()
    assert body.count("What changed") == 3, body  # date, judge, location
    assert "Roe, Alex → Lee, Ann" in body and "Tue, Jan 5, 2027 → Wed, Feb 10, 2027" in body

    (spanish,) = sink.to(BETO)
    for words in ("Audiencia pospuesta", "Cambió el juez", "Cambió el lugar de la audiencia"):
        assert words in spanish.subject, spanish.subject
    text = spanish.text()
    assert text.count("Qué cambió") == 3 and "mar 5 ene 2027 → mié 10 feb 2027" in text, text
    for english_words in ENGLISH_ONLY:
        assert english_words not in text, english_words
    with Session(engine) as s:
        deliveries = list(s.exec(select(Delivery)))
    assert len(deliveries) == 6 and {d.status for d in deliveries} == {"sent"}


def test_a_decision_is_one_urgent_message_and_one_acknowledgement(
    engine: sa.Engine, sink: SmtpSink
) -> None:
    clients = _org(engine, sink)
    case = Case("912000002", "MX", hearing=Hearing(on=date(2027, 1, 5)))
    assert look(engine, clients[BETO], case, NOW) == []
    case.hearing = None
    case.decision_code, case.decision_text = "X", "Removal ordered"
    case.completed_on, case.appeal_due_on = date(2026, 11, 27), date(2026, 12, 28)
    later = NOW + timedelta(hours=1)
    assert look(engine, clients[BETO], case, later) == ["hearing_removed", "decision_entered"]
    _dispatch(engine, later)
    (message,) = sink.to(BETO)
    assert message.subject.startswith("URGENTE · ")
    assert "Ya no hay audiencia próxima" in message.subject
    assert "Se dictó una decisión" in message.subject
    text = message.text()
    assert "Concluido el vie 27 nov 2026; la apelación vence el lun 28 dic 2026." in text, text
    for english_words in ENGLISH_ONLY:
        assert english_words not in text, english_words
    ids = [int(i) for i in re.findall(r"#(\d+)", text.strip().splitlines()[-1])]
    assert len(ids) == 2  # the footer names both alerts

    # One acknowledgement (of the message's one link or command) covers both alerts.
    assert f"docketwatch alerts ack {ids[0]}" in text
    acknowledge(engine, ids[0], BETO, later)
    with Session(engine) as s:
        events = list(s.exec(select(Event).where(col(Event.id).in_(ids))))
    assert len(events) == 2 and all(e.acknowledged_at is not None for e in events)
    Dispatcher(engine, Settings(), clock=lambda: later + timedelta(hours=3)).run_once()
    assert len(sink.to(BETO)) == 1  # nothing escalated
    assert sink.to(ANA) == []


def test_every_note_is_written_in_both_languages_and_used() -> None:
    sources = "".join(
        p.read_text("utf-8")
        for folder in ("monitor", "checks", "storage")
        for p in (ROOT / folder).glob("*.py")
    )
    for name, template in NOTES.items():
        params = {
            f: "2027-01-05" if f in ("due", "filed", "completed") else f"<{f}>"
            for f in template.fields
        }
        item = note(name, **params)
        english, spanish = note_line(item, "en"), note_line(item, "es")
        assert all(
            f"<{f}>" in english and f"<{f}>" in spanish
            for f in template.fields
            if f not in ("due", "filed", "completed")
        )
        if name != "source_run":  # a run's own time, outcome and message: data only
            assert english != spanish, name
        assert f'"{name}"' in sources, f"note {name!r} is registered but never used"
    with pytest.raises(RegistryError):
        note("no_such_note")
    with pytest.raises(RegistryError):
        note("appeal_filed")  # its parameter missing
    for lang in ("en", "es"):
        assert set(LABELS[lang]) == set(LABELS["en"])


def test_a_stored_event_from_before_notes_still_reads() -> None:
    assert note_line({"note": "gone", "a": "1", "b": "x"}, "es") == "1 · x"


def test_items_are_written_in_the_recipients_language() -> None:
    from monitor.messages import render

    event = Event(
        id=7,
        kind="new_unrepresented_case",
        severity="normal",
        subject_type="court",
        subject_key="ADL",
        dedup_key="x",
        payload={
            "notes": [note("unrepresented_more", listed=50, court="ADL")],
            "items": [{"case": "1234567", "nationality": "MEXICO", "next_hearing": None}],
        },
        occurred_at=NOW,
        created_at=NOW,
    )
    spanish = render(event, None, None, "es").text
    assert "caso 1234567 · MEXICO · sin audiencia programada" in spanish, spanish
    assert "Se listan los primeros 50" in spanish
    english = render(event, None, None, "en").text
    assert "case 1234567 · MEXICO · no hearing scheduled" in english, english
