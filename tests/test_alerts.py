"""Alerts against real parts: SMTP on loopback, a local JSON webhook, Slack intercepted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
import sqlalchemy as sa
from sqlmodel import col, select

from monitor.dispatch import Dispatcher, PassReport, SendResult, acknowledge
from monitor.events import KINDS, Audience, EventInput, RegistryError, register
from monitor.messages import Message, ack_link
from monitor.timing import quiet_until
from sandbox.mail import SmtpSink
from sandbox.webhook import WebhookSink
from storage.db import make_engine, session_scope
from storage.models import Delivery, DeliveryAttempt, Event, Severity, StaffChannel
from storage.people import add_staff, update_staff
from storage.settings import Settings
from tests.support.alerting import (
    START,
    Clock,
    dispatcher,
    emit_one,
    events_of,
    hearing_moved,
    make_org,
    web_server,
)
from tests.support.cli import run_cli
from tests.support.db import migrated_sqlite

ISSUE_KINDS = [
    "hearing_scheduled",
    "hearing_moved_earlier",
    "hearing_moved_later",
    "hearing_time_changed",
    "hearing_judge_changed",
    "hearing_medium_changed",
    "hearing_location_changed",
    "hearing_type_changed",
    "hearing_removed",
    "decision_entered",
    "appeal_due_soon",
    "appeal_filed",
    "case_not_found",
    "client_detained",
    "client_transferred",
    "client_released",
    "client_not_found",
    "custody_court_mismatch",
    "court_closed",
    "court_reopened",
    "court_judges_changed",
    "new_unrepresented_case",
    "source_unhealthy",
    "source_recovered",
]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


def _deliveries(engine: sa.Engine) -> list[Delivery]:
    with session_scope(engine) as s:
        return list(s.exec(select(Delivery).order_by(col(Delivery.id))))


# ------------------------------------------------------------------------------ registry


def test_every_kind_of_the_release_is_registered_and_documented() -> None:
    assert set(ISSUE_KINDS) <= set(KINDS)
    for spec in KINDS.values():
        assert len(spec.doc) > 20 and spec.en and spec.es
    assert KINDS["source_unhealthy"].audience is Audience.admins
    assert KINDS["new_unrepresented_case"].audience is Audience.coordinators
    assert KINDS["hearing_moved_earlier"].severity is Severity.urgent
    with pytest.raises(RegistryError, match="registered already"):
        register("hearing_scheduled", Severity.info, Audience.client, "x" * 30, "a", "b")
    with pytest.raises(ValueError, match="unknown event kind"):
        EventInput(
            kind="nope", subject_type="client", subject_key="1", dedup_key="k", occurred_at=START
        )


def test_events_kinds_command_prints_all(tmp_path: Path) -> None:
    result = run_cli("events", "kinds", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = {k["kind"]: k for k in json.loads(result.stdout)}
    assert set(printed) == set(KINDS)
    assert printed["source_unhealthy"]["audience"] == "admins"


# ------------------------------------------------------------------------------- routing


def test_outbox_is_written_once_and_routed_right(engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(engine, sink, START)
    first = emit_one(engine, hearing_moved(org, START), START)
    again = emit_one(engine, hearing_moved(org, START), START)
    assert first is not None and again is None
    with session_scope(engine) as s:
        assert s.exec(select(sa.func.count()).select_from(Event)).one() == 1
    (_only,) = _deliveries(engine)  # the primary attorney, on her one channel
    source = EventInput(
        kind="source_unhealthy",
        subject_type="source",
        subject_key="acis",
        client_id=org.client_id,
        dedup_key="src:1",
        payload={"detail": "3 runs blocked"},
        occurred_at=START,
    )
    emit_one(engine, source, START)
    lead = EventInput(
        kind="new_unrepresented_case",
        subject_type="court",
        subject_key="ADL",
        dedup_key="lead:1",
        occurred_at=START,
    )
    emit_one(engine, lead, START)
    with session_scope(engine) as s:
        by_kind: dict[str, list[str]] = {}
        for _d, e, ch in s.exec(
            select(Delivery, Event, StaffChannel)
            .join(Event, col(Event.id) == Delivery.event_id)
            .join(StaffChannel, col(StaffChannel.id) == Delivery.channel_id)
        ):
            by_kind.setdefault(e.kind, []).append(ch.url)
    assert by_kind["hearing_moved_earlier"] == [sink.url(org.attorney)]
    # Source trouble goes to admins only, never to the attorney, even with a client attached.
    assert by_kind["source_unhealthy"] == [sink.url(org.admin)]
    assert by_kind["new_unrepresented_case"] == [sink.url(org.coordinator)]


def test_filters_and_fallbacks(engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(engine, sink, START, min_severity="urgent", muted_kinds=["hearing_scheduled"])
    scheduled = EventInput(
        kind="hearing_scheduled",
        subject_type="client",
        subject_key=str(org.client_id),
        client_id=org.client_id,
        dedup_key="s1",
        occurred_at=START,
    )
    emit_one(engine, scheduled, START)
    assert _deliveries(engine) == []  # muted (and below her minimum severity)
    with session_scope(engine) as s:
        update_staff(s, org.attorney, active=False)
    emit_one(engine, hearing_moved(org, START), START)
    (to_backup,) = _deliveries(engine)  # the primary is inactive: the backup gets it
    with session_scope(engine) as s:
        channel = s.get(StaffChannel, to_backup.channel_id)
        assert channel is not None and channel.url == sink.url(org.backup)


# ------------------------------------------------------------------------------ delivery


def test_mail_arrives_in_the_recipients_language(engine: sa.Engine, sink: SmtpSink) -> None:
    clock = Clock(START)
    org = make_org(engine, sink, START)
    emit_one(engine, hearing_moved(org, START), START)
    assert dispatcher(engine, clock).run_once().sent == 1
    with session_scope(engine) as s:
        update_staff(s, org.attorney, language="es")
    emit_one(engine, hearing_moved(org, START, key="2"), START)
    assert dispatcher(engine, clock).run_once().sent == 1
    english, spanish = sink.to(org.attorney)
    assert english.subject == "URGENT · Hearing moved EARLIER · J.D. ***5678"
    text = english.text()
    assert "What changed: Date: Tue, Jan 5, 2027 → Tue, Dec 1, 2026" in text
    assert "When: Tue, Dec 1, 2026 at 8:30 AM (PST)" in text
    assert "Court: Adelanto Immigration Court (ADL)" in text
    assert "https://eoir.webex.com/meet/adl.example" in text
    assert "docketwatch alerts ack" in text
    assert "<b>Judge:</b> SMITH, JOHN" in english.html()
    assert spanish.subject == "URGENTE · Audiencia ADELANTADA · J.D. ***5678"
    assert "Qué cambió: Fecha: mar 5 ene 2027 → mar 1 dic 2026" in spanish.text()
    for mail in (english, spanish):  # no full A-number or name by default
        body = mail.subject + mail.text() + mail.html()
        assert "912345678" not in body and "DOE" not in body
    assert all(d.status == "sent" for d in _deliveries(engine))


def test_personal_data_only_where_the_channel_allows(engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(engine, sink, START)
    with session_scope(engine) as s:
        for channel in s.exec(select(StaffChannel)):
            channel.allow_personal_data = True
            s.add(channel)
    emit_one(engine, hearing_moved(org, START), START)
    dispatcher(engine, Clock(START)).run_once()
    (mail,) = sink.to(org.attorney)
    assert "DOE, JANE (A-912-345-678)" in mail.text()


def test_refusing_server_retries_gives_up_tells_admins_and_recovers(
    engine: sa.Engine, sink: SmtpSink
) -> None:
    clock = Clock(START)
    org = make_org(engine, sink, START)
    with WebhookSink() as hook:
        with session_scope(engine) as s:
            # The admin also has a webhook channel, which works while mail is down.
            update_staff(s, org.admin, add_channels=[hook.url()])
        sink.refuse = "554 5.7.1 Relay refused"
        emit_one(engine, hearing_moved(org, START), START)
        d = dispatcher(engine, clock)
        d.run_once()
        (delivery,) = _deliveries(engine)
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "554" in delivery.last_error or "FAILURE" in delivery.last_error
        d.run_once()  # not due yet: the back-off holds it
        assert _deliveries(engine)[0].attempts == 1
        clock.advance(seconds=61)
        d.run_once()
        clock.advance(seconds=121)
        d.run_once()
        given_up = _deliveries(engine)[0]
        assert (given_up.status, given_up.attempts) == ("failed", 3)
        assert sink.to(org.attorney) == []
        with session_scope(engine) as s:
            attempts = s.exec(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == given_up.id)
            ).all()
            assert [a.ok for a in attempts] == [False, False, False]
            channel = s.get(StaffChannel, given_up.channel_id)
            assert channel is not None and channel.failing
        # The admins were told, on the channel that works.
        notices = [body for _, _, body in hook.posts]
        assert any("Alert channel failing" in json.dumps(b) for b in notices)

        # Mail works again: a later pass probes the channel, then the queue goes out.
        emit_one(engine, hearing_moved(org, START, key="2"), clock.now)
        sink.refuse = None
        clock.advance(hours=2)
        d.run_once()
        d.run_once()
        assert len(sink.to(org.attorney)) == 2
        assert all(x.status == "sent" for x in _deliveries(engine) if x.staff_id == 1)
        assert any("Alert channel recovered" in json.dumps(b) for _, _, b in hook.posts)


def test_quiet_failure_is_never_recorded_as_sent(engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(engine, sink, START)
    with WebhookSink() as hook:
        hook.status = 500  # the plugin reports no exception, only a failed result
        with session_scope(engine) as s:
            update_staff(s, org.attorney, add_channels=[hook.url()])
        emit_one(engine, hearing_moved(org, START), START)
        dispatcher(engine, Clock(START)).run_once()
        assert len(hook.posts) == 1
    statuses = {d.channel_id: d.status for d in _deliveries(engine)}
    assert sorted(statuses.values()) == ["pending", "sent"]


def test_one_pass_at_a_time(engine: sa.Engine, sink: SmtpSink) -> None:
    """The service calls run_once from several threads; a second pass while one runs returns
    at once instead of sharing the first one's state (it once popped from an empty list)."""
    org = make_org(engine, sink, START)
    emit_one(engine, hearing_moved(org, START), START)
    inside, go_on = threading.Event(), threading.Event()
    sent: list[str] = []

    def slow_sender(url: str, message: Message) -> SendResult:
        sent.append(url)
        inside.set()
        assert go_on.wait(30), "the test never let the first pass go on"
        return SendResult(ok=True)

    first = Dispatcher(engine, Settings(), sender=slow_sender, clock=Clock(START))
    reports: list[PassReport] = []
    worker = threading.Thread(target=lambda: reports.append(first.run_once()))
    worker.start()
    assert inside.wait(30), "the first pass never reached its first send"
    second = first.run_once()  # while the first pass is mid-send
    go_on.set()
    worker.join(30)
    assert second.skipped and second.sent == 0
    assert len(sent) == 1 and not reports[0].skipped and reports[0].sent == 1
    assert {d.status for d in _deliveries(engine)} == {"sent"}
    assert not first.run_once().skipped  # the lock is released after a pass


def test_json_webhook_payload(engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(engine, sink, START)
    with WebhookSink() as hook:
        with session_scope(engine) as s:
            update_staff(s, org.attorney, add_channels=[hook.url()])
        emit_one(engine, hearing_moved(org, START), START)
        dispatcher(engine, Clock(START)).run_once()
        ((path, headers, body),) = hook.posts
    assert path == "/hook" and headers["Content-Type"].startswith("application/json")
    assert body["title"] == "URGENT · Hearing moved EARLIER · J.D. ***5678"
    assert "Tue, Dec 1, 2026 at 8:30 AM" in body["message"]
    assert "912345678" not in json.dumps(body)


@responses.activate
def test_slack_payload(engine: sa.Engine, sink: SmtpSink) -> None:
    responses.add(
        responses.POST,
        "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        body="ok",
        status=200,
    )
    responses.add_passthru("http://127.0.0.1")
    org = make_org(engine, sink, START)
    with session_scope(engine) as s:
        update_staff(
            s,
            org.attorney,
            add_channels=["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#legal"],
        )
    emit_one(engine, hearing_moved(org, START), START)
    report = dispatcher(engine, Clock(START)).run_once()
    assert report.sent == 2
    (call,) = [c for c in responses.calls if "slack.com" in (c.request.url or "")]
    body = call.request.body
    assert isinstance(body, (str, bytes))
    payload = json.loads(body)
    assert payload["channel"] == "#legal"
    text = json.dumps(payload)
    assert "Hearing moved EARLIER" in text and "J.D. ***5678" in text
    assert "912345678" not in text and "DOE" not in text


# ----------------------------------------------------------------- quiet hours, digest


def test_quiet_hours_hold_normal_alerts_but_not_urgent(engine: sa.Engine, sink: SmtpSink) -> None:
    night = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    clock = Clock(night)
    org = make_org(engine, sink, night, quiet_hours="21:00-07:00")
    later = EventInput(
        kind="hearing_moved_later",
        subject_type="client",
        subject_key=str(org.client_id),
        client_id=org.client_id,
        dedup_key="later",
        occurred_at=night,
    )
    emit_one(engine, later, night)
    emit_one(engine, hearing_moved(org, night), night)
    d = dispatcher(engine, clock)
    d.run_once()
    assert [m.subject for m in sink.to(org.attorney)] == [
        "URGENT · Hearing moved EARLIER · J.D. ***5678"
    ]
    held = [x for x in _deliveries(engine) if x.status == "pending"]
    assert held[0].next_attempt_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 07:00 local
    clock.advance(hours=8, minutes=59)
    d.run_once()
    assert len(sink.to(org.attorney)) == 1
    clock.advance(minutes=2)
    d.run_once()
    assert len(sink.to(org.attorney)) == 2


def test_quiet_until() -> None:
    zone = "America/Los_Angeles"
    from datetime import time

    assert quiet_until(START, time(21), time(7), zone) is None  # 10:00 local
    assert quiet_until(START, time(9), time(17), zone) == datetime(2026, 11, 28, 1, tzinfo=UTC)
    early = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # 05:00 local
    assert quiet_until(early, time(21), time(7), zone) == datetime(2026, 11, 28, 15, tzinfo=UTC)


def test_daily_digest_is_one_message(engine: sa.Engine, sink: SmtpSink) -> None:
    clock = Clock(START)  # 10:00 local; the digest goes at 07:00 local the next day
    org = make_org(engine, sink, START, digest=True)
    for i, kind_name in enumerate(["hearing_moved_later", "hearing_judge_changed", "appeal_filed"]):
        emit_one(
            engine,
            EventInput(
                kind=kind_name,
                subject_type="client",
                subject_key=str(org.client_id),
                client_id=org.client_id,
                dedup_key=f"d{i}",
                occurred_at=START,
            ),
            START,
        )
    emit_one(engine, hearing_moved(org, START), START)  # urgent: not held
    d = dispatcher(engine, clock)
    d.run_once()
    assert [m.subject for m in sink.to(org.attorney)] == [
        "URGENT · Hearing moved EARLIER · J.D. ***5678"
    ]
    clock.advance(hours=20, minutes=59)  # 06:59 local
    d.run_once()
    assert len(sink.to(org.attorney)) == 1
    clock.advance(minutes=2)
    d.run_once()
    d.run_once()
    mails = sink.to(org.attorney)
    assert len(mails) == 2
    digest = mails[1]
    assert digest.subject == "docketwatch daily digest · 3 alerts since the last digest"
    for headline in ("Hearing moved later", "Judge changed", "Appeal filed"):
        assert headline in digest.text()
    assert all(x.status == "sent" for x in _deliveries(engine))


# ------------------------------------------------------------- escalation, acknowledgement


def test_unacknowledged_urgent_alert_escalates(engine: sa.Engine, sink: SmtpSink) -> None:
    clock = Clock(START)
    org = make_org(engine, sink, START)
    emit_one(engine, hearing_moved(org, START), START)
    d = dispatcher(engine, clock, escalation_minutes=60)
    d.run_once()
    clock.advance(minutes=59)
    d.run_once()
    assert sink.to(org.backup) == []
    clock.advance(minutes=2)
    d.run_once()
    (to_backup,) = sink.to(org.backup)
    assert "ESCALADA" in to_backup.text() and to_backup.subject.startswith("URGENTE")
    clock.advance(minutes=61)
    d.run_once()
    (to_coordinator,) = sink.to(org.coordinator)
    assert "ESCALATED" in to_coordinator.text()
    # An acknowledged alert does not escalate.
    emit_one(engine, hearing_moved(org, clock.now, key="2"), clock.now)
    d.run_once()
    event_id = max(e.id for e in events_of(engine) if e.id is not None)
    acknowledge(engine, event_id, "ana", clock.now)
    clock.advance(hours=3)
    d.run_once()
    assert len(sink.to(org.backup)) == 1 and len(sink.to(org.coordinator)) == 1


def test_acknowledgement_link_over_real_http(engine: sa.Engine, sink: SmtpSink) -> None:
    """The link opens a page that asks; its button acknowledges (a GET alone never does)."""
    org = make_org(engine, sink, START)
    from sandbox.mail import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emit_one(engine, hearing_moved(org, START), START)
    dispatcher(engine, Clock(START), web_base_url=base, ack_secret="s3cret").run_once()
    (mail,) = sink.to(org.attorney)
    event = events_of(engine)[0]
    assert event.id is not None
    link = ack_link(base, "s3cret", event.id, event.created_at)
    assert link is not None and link in mail.html()
    server = web_server(engine, "s3cret", port, clock=lambda: START)
    try:
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(f"{base}/ack/{event.id}?t=forged", timeout=10)
        assert bad.value.code == 403
        with urllib.request.urlopen(link, timeout=10) as page:  # what a mail scanner does
            text = page.read().decode()
        assert f"Acknowledge alert #{event.id}?" in text and 'method="post"' in text
        assert events_of(engine)[0].acknowledged_at is None
        token = link.split("?t=", 1)[1]
        form = f"t={token}".encode()
        with urllib.request.urlopen(f"{base}/ack/{event.id}", data=form, timeout=10) as page:
            assert f"Alert #{event.id} acknowledged" in page.read().decode()
    finally:
        server.stop()
    assert events_of(engine)[0].acknowledged_by == "web link"


# ------------------------------------------------------------------ a crash mid-send


def test_killed_between_send_and_record_does_not_send_twice(tmp_path: Path, sink: SmtpSink) -> None:
    url = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(url)
    now = datetime.now(UTC)  # the child processes dispatch on the real clock
    org = make_org(engine, sink, now)
    emit_one(engine, hearing_moved(org, now), now)
    engine.dispose()

    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env["DATABASE_URL"] = url
    exe = str(Path(sys.executable).with_name("docketwatch"))
    sink.hold.set()  # the server keeps the sender waiting after taking the message
    child = subprocess.Popen(
        [exe, "alerts", "dispatch"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert sink.arrived.wait(60), "the message never reached the SMTP server"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        sink.hold.clear()
        if child.poll() is None:
            child.kill()
    assert len(sink.to(org.attorney)) == 1
    engine = make_engine(url)
    assert [d.status for d in _deliveries(engine)] == ["sending"]

    again = subprocess.run(
        [exe, "alerts", "dispatch"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "1 uncertain" in again.stdout
    assert len(sink.to(org.attorney)) == 1  # not sent twice
    statuses = {d.staff_id: d.status for d in _deliveries(engine)}
    assert statuses[1] == "uncertain"
    (notice,) = sink.to(org.admin)
    assert "Alert may not have been sent" in notice.subject
    assert "alerts retry" in notice.text()
    engine.dispose()


# ------------------------------------------------------------------------------ the CLI


def test_alert_commands(tmp_path: Path, sink: SmtpSink) -> None:
    url = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(url)
    now = datetime.now(UTC)  # the commands run on the real clock
    org = make_org(engine, sink, now)
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Broken",
            email="broken@example.org",
            role="attorney",
            channels=["mailto://127.0.0.1:1?from=a@example.org&to=b@example.org&mode=insecure"],
        )
    emit_one(engine, hearing_moved(org, now), now)
    engine.dispose()
    env = {"DATABASE_URL": url}

    ok = run_cli("alerts", "test", org.backup, cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "sent" in ok.stdout
    (test_mail,) = sink.to(org.backup)
    assert test_mail.subject == "Mensaje de prueba de docketwatch"
    failed = run_cli("alerts", "test", "broken@example.org", cwd=tmp_path, env=env)
    assert failed.returncode == 1 and "FAILED" in failed.stdout

    pending = run_cli("alerts", "pending", "--json", cwd=tmp_path, env=env)
    (row,) = json.loads(pending.stdout)
    assert row["kind"] == "hearing_moved_earlier" and row["client"] == "***5678"
    sent = run_cli("alerts", "dispatch", cwd=tmp_path, env=env)
    assert "1 sent" in sent.stdout, sent.stdout + sent.stderr
    log = run_cli(
        "alerts",
        "log",
        "--client",
        "A-912-345-678",
        "--status",
        "sent",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    (entry,) = json.loads(log.stdout)
    assert entry["staff"] == org.attorney and entry["attempts"] == 1
    assert (
        run_cli(
            "alerts", "log", "--kind", "appeal_filed", "--json", cwd=tmp_path, env=env
        ).stdout.strip()
        == "[]"
    )
    bad = run_cli("alerts", "log", "--status", "lost", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "status 'lost'" in bad.stderr
    ack = run_cli("alerts", "ack", str(entry["alert"]), "--by", "ana", cwd=tmp_path, env=env)
    assert ack.returncode == 0 and "acknowledged by ana" in ack.stdout
    none = run_cli("alerts", "retry", cwd=tmp_path, env=env)
    assert none.returncode == 2 and "--all-failed" in none.stderr
    missing = run_cli("alerts", "retry", "999", cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "no delivery #999" in missing.stderr
    assert not any("912345678" in r.stdout + r.stderr for r in (ok, pending, sent, log, ack))
