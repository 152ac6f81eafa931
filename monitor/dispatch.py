"""The dispatcher: sends the outbox through Apprise, and never records a failure as sent.

One pass (:meth:`Dispatcher.run_once`):

1. deliveries left in ``sending`` by a process that died mid-send become ``uncertain`` and the
   admins are told; they are not resent automatically, so nobody gets an alert twice;
2. urgent client events nobody acknowledged in time are escalated (backup attorney, then
   coordinators);
3. each due ``pending`` delivery is claimed (committed as ``sending``), rendered, sent, and its
   attempt recorded with Apprise's verdict. Normal and info alerts wait out the recipient's quiet
   hours; a channel that is failing is tried once per back-off period, not once per delivery;
4. held deliveries go out as one daily digest per staff member and channel.

Failures are retried with exponential back-off; after ``delivery_max_attempts`` the delivery is
given up, its channel marked failing and the admins told. When a failing channel delivers again,
the admins hear that too and the deliveries given up on it are queued again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.messages import Message, render, render_digest
from monitor.route import emit, route
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import (
    Client,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    Severity,
    Staff,
    StaffChannel,
)
from storage.processes import tag_alive, this_process
from storage.settings import Settings, mask_channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""


class Sender(Protocol):
    def __call__(self, url: str, message: Message) -> SendResult: ...


class AppriseSender:
    """Sends through Apprise, judging by its result object, not by the absence of exceptions.

    A fresh Apprise object per message: a reused one throttles every plugin to one message per
    5.5 s, which would hold an urgent alert behind a routine one. Pacing and retries are the
    dispatcher's job (back-off per delivery and per channel).
    """

    def __call__(self, url: str, message: Message) -> SendResult:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(url):
            return SendResult(False, f"Apprise cannot use the channel {mask_channel(url)}")
        body, body_format = message.body_for(url)
        attach = None
        if message.attachments and url.split("://", 1)[0].lower() in ("mailto", "mailtos"):
            attach = apprise.AppriseAttachment(list(message.attachments))
        try:
            result = notifier.notify(
                title=message.title, body=body, body_format=body_format, attach=attach
            )
        except Exception as exc:  # a plugin bug must not stop the dispatcher
            return SendResult(False, f"{type(exc).__name__}: {exc}")
        status = getattr(result, "status", None)
        ok = bool(result) and (status is None or int(status) == 0)
        if ok:
            return SendResult(True)
        errors = []
        logs = getattr(result, "logs", None)
        if callable(logs):
            errors = [e.message for e in logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        name = getattr(status, "name", "FAILURE")
        return SendResult(False, "; ".join([name, *errors])[:2000])


CLAIMER = this_process()
STALE_CLAIM = timedelta(minutes=15)  # far longer than any Apprise plugin's own timeouts


def claimer_alive(claimed_by: str, claimed_at: datetime | None, now: datetime) -> bool:
    """Is the process that claimed a delivery still running (and so maybe still sending)?"""
    if claimed_at is None or now - claimed_at > STALE_CLAIM:
        return False
    alive = tag_alive(claimed_by)
    return True if alive is None else alive  # another machine: only age can tell


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", -1))


def backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.delivery_backoff_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.delivery_backoff_max_seconds))


def quiet_until(now: datetime, start: time | None, end: time | None, zone: str) -> datetime | None:
    """When the quiet window containing ``now`` ends (aware UTC), or None outside any window."""
    if start is None or end is None:
        return None
    local = now.astimezone(ZoneInfo(zone))
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # wraps midnight, e.g. 21:00-07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    end_local = datetime.combine(end_day, end, tzinfo=ZoneInfo(zone))
    return end_local.astimezone(UTC)


@dataclass
class PassReport:
    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    deferred: int = 0
    uncertain: int = 0
    escalated: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: bool = False  # another pass of the same dispatcher was running


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        sender: Sender | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.sender: Sender = sender or AppriseSender()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.secret = settings.ack_secret.get_secret_value() if settings.ack_secret else None
        # Outcomes of sends whose recording failed (the database locked or full): kept here and
        # written first on the next pass, so a message that went out is never sent again nor
        # left "sending" for ever.
        self._unrecorded: list[tuple[list[int], SendResult]] = []
        # The service calls run_once from several threads (the dispatch job, the heartbeat after
        # telling admins of a fault, a check that just ended): one pass at a time.
        self._passing = threading.Lock()

    # ---------------------------------------------------------------------------- the pass

    def run_once(self, *, batch: int = 500) -> PassReport:
        """One pass: record what earlier passes could not, recover, escalate, send what is
        due, digests. If a pass of this dispatcher is already running in another thread, this
        one returns at once (``skipped``): that pass, or the next, sends whatever is due."""
        if not self._passing.acquire(blocking=False):
            return PassReport(skipped=True)
        try:
            return self._pass(batch)
        finally:
            self._passing.release()

    def _is_reminder(self, delivery_id: int) -> bool:
        with Session(self.engine) as session:
            row = session.get(Delivery, delivery_id)
            return row is not None and row.reminder_id is not None

    def _pass(self, batch: int) -> PassReport:
        report = PassReport()
        while self._unrecorded:  # raises, keeping them, while the database still fails
            delivery_ids, result = self._unrecorded[0]
            if self._is_reminder(delivery_ids[0]):
                self._record_reminder(delivery_ids[0], result, report)
            else:
                self._record(delivery_ids, result, report)
            self._unrecorded.pop(0)
        report.uncertain = self.recover_interrupted()
        report.escalated = self.escalate()
        self._probe_failing_channels()
        # Sending can queue more (a notice to admins): go on until nothing is due, bounded.
        for _ in range(1000):
            if self._send_due(report, batch) == 0:
                break
        report.digests = self.send_digests()
        if report.sent or report.failed_attempts or report.uncertain or report.digests:
            log.info(
                "dispatch: %d sent, %d failed attempts, %d given up, %d deferred, %d uncertain, "
                "%d escalated, %d digests",
                report.sent,
                report.failed_attempts,
                report.given_up,
                report.deferred,
                report.uncertain,
                report.escalated,
                report.digests,
            )
        return report

    # ------------------------------------------------------------------- interrupted sends

    def recover_interrupted(self) -> int:
        """Deliveries a dead process left in ``sending``: mark uncertain, tell the admins.

        A delivery another live process is sending right now (the service and a CLI command
        can both dispatch) is left alone: only a claimer that is gone, or a claim older than
        any send can take, counts as interrupted.
        """
        now = self.clock()
        with session_scope(self.engine) as session:
            sending = session.exec(
                select(Delivery).where(Delivery.status == DeliveryStatus.sending.value)
            )
            stuck = [d for d in sending if not claimer_alive(d.claimed_by, d.claimed_at, now)]
            for delivery in stuck:
                delivery.status = DeliveryStatus.uncertain.value
                delivery.last_error = (
                    "the service stopped while sending; it may have gone out. "
                    f"`docketwatch alerts retry {delivery.id}` sends it again"
                )
                session.add(delivery)
                if delivery.reminder_id is not None:
                    self._reminder_uncertain(session, delivery, now)
                    continue
                emit(
                    session,
                    EventInput(
                        kind="delivery_uncertain",
                        subject_type="delivery",
                        subject_key=str(delivery.id),
                        dedup_key=f"delivery_uncertain:{delivery.id}",
                        payload={
                            "notes": [
                                note(
                                    "delivery_uncertain",
                                    delivery=delivery.id,
                                    alert=delivery.event_id,
                                    staff=delivery.staff_id,
                                )
                            ]
                        },
                        occurred_at=now,
                    ),
                    now,
                )
        if stuck:
            log.warning("%d deliveries were interrupted mid-send and marked uncertain", len(stuck))
        return len(stuck)

    @staticmethod
    def _reminder_uncertain(session: Session, delivery: Delivery, now: datetime) -> None:
        from storage.models import Reminder, ReminderStatus

        reminder = session.get(Reminder, delivery.reminder_id)
        assert reminder is not None
        reminder.status, reminder.updated_at = ReminderStatus.failed.value, now
        reminder.note = "the service stopped while sending it: it may have gone out"
        session.add(reminder)
        emit(
            session,
            EventInput(
                kind="delivery_uncertain",
                subject_type="delivery",
                subject_key=str(delivery.id),
                dedup_key=f"delivery_uncertain:{delivery.id}",
                payload={
                    "notes": [
                        note(
                            "reminder_uncertain",
                            delivery=delivery.id,
                            reminder=reminder.id,
                            client=reminder.client_id,
                        )
                    ]
                },
                occurred_at=now,
            ),
            now,
        )

    def _probe_failing_channels(self) -> None:
        """A failing channel with nothing queued is probed with its oldest given-up delivery,
        once its back-off has passed, so recovery is noticed without new alerts."""
        now = self.clock()
        with session_scope(self.engine) as session:
            channels = session.exec(
                select(StaffChannel).where(
                    StaffChannel.failing == True,  # noqa: E712
                    sa.or_(col(StaffChannel.retry_at).is_(None), col(StaffChannel.retry_at) <= now),
                )
            )
            for channel in channels:
                queued = session.exec(
                    select(Delivery.id).where(
                        Delivery.channel_id == channel.id,
                        Delivery.status == DeliveryStatus.pending.value,
                    )
                ).first()
                if queued is not None:
                    continue
                oldest = session.exec(
                    select(Delivery)
                    .where(
                        Delivery.channel_id == channel.id,
                        Delivery.status == DeliveryStatus.failed.value,
                    )
                    .order_by(col(Delivery.id))
                ).first()
                if oldest is not None:
                    oldest.status = DeliveryStatus.pending.value
                    oldest.next_attempt_at = now
                    session.add(oldest)

    # ---------------------------------------------------------------------------- escalation

    def escalate(self) -> int:
        now = self.clock()
        wait = timedelta(minutes=self.settings.escalation_minutes)
        count = 0
        with session_scope(self.engine) as session:
            events = session.exec(
                select(Event).where(
                    Event.severity == Severity.urgent.value,
                    col(Event.client_id).is_not(None),
                    col(Event.acknowledged_at).is_(None),
                    Event.escalation_level < 2,
                )
            )
            for event in events:
                since = event.escalated_at or event.created_at
                if now - since < wait:
                    continue
                level = event.escalation_level + 1
                event.escalation_level = level
                event.escalated_at = now
                session.add(event)
                created = route(session, event, now, escalation_level=level)
                log.info(
                    "alert #%s not acknowledged: escalated to level %d (%d deliveries)",
                    event.id,
                    level,
                    created,
                )
                count += 1
        return count

    # ------------------------------------------------------------------------------- sending

    def _send_due(self, report: PassReport, batch: int) -> int:
        now = self.clock()
        with Session(self.engine, expire_on_commit=False) as session:
            due = list(
                session.exec(
                    select(Delivery)
                    .where(Delivery.status == DeliveryStatus.pending.value)
                    .where(
                        sa.or_(
                            col(Delivery.next_attempt_at).is_(None),
                            col(Delivery.next_attempt_at) <= now,
                        )
                    )
                    .order_by(col(Delivery.id))
                    .limit(batch)
                )
            )
        handled = 0
        probed: set[int] = set()
        for delivery in due:
            handled += 1
            if delivery.reminder_id is not None:
                self._send_reminder(delivery, report)
            else:
                self._send_one(delivery, report, probed)
        return handled

    def _send_reminder(self, delivery: Delivery, report: PassReport) -> None:
        """Send one client reminder, after checking once more that it is still true, still
        wanted and outside the client's quiet hours (module :mod:`monitor.reminders`)."""
        from monitor import reminders as r
        from storage.models import Reminder, ReminderContact, ReminderStatus

        now = self.clock()
        with session_scope(self.engine) as session:
            row = session.get(Delivery, delivery.id)
            if row is None or row.status != DeliveryStatus.pending.value:
                return
            reminder = session.get(Reminder, row.reminder_id)
            assert reminder is not None
            contact = session.get(ReminderContact, reminder.client_id)
            client = session.get(Client, reminder.client_id)
            if (
                contact is None
                or not contact.consent
                or contact.paused
                or client is None
                or not client.active
            ):
                r._end(session, reminder, ReminderStatus.stopped, "no consent, or paused", now)
                return
            if reminder.hearing_starts_at is not None and reminder.hearing_starts_at <= now:
                r._end(
                    session, reminder, ReminderStatus.expired, "the hearing's time came first", now
                )
                return
            known = r.known_states(session, [reminder.client_id]).get(reminder.client_id, r.Known())
            if r.still_true(reminder, known) is False:
                r._end(
                    session,
                    reminder,
                    ReminderStatus.superseded,
                    "the hearing changed before it went",
                    now,
                )
                return
            verify = timedelta(hours=self.settings.reminder_verify_hours)
            if known.observed_at is None or known.observed_at < now - verify or not known.verified:
                # Aged in the outbox (retries): back to waiting; the next reminder pass asks
                # ACIS again and queues it anew once confirmed.
                row.status, row.last_error = DeliveryStatus.void.value, "to be confirmed again"
                session.add(row)
                reminder.status, reminder.updated_at = ReminderStatus.waiting.value, now
                reminder.lookup_requested_at = None  # the wait for a fresh lookup starts again
                session.add(reminder)
                return
            zone = r.zone_of(contact, reminder.hearing, self.settings)
            quiet = r.quiet_until(now, self.settings, zone)
            if quiet is not None:
                row.next_attempt_at = quiet
                session.add(row)
                report.deferred += 1
                return
            language = r.switched_on(session, self.settings).get(contact.language)
            if language is None:
                r._to_attorney(
                    session, reminder, f"the language {contact.language!r} is switched off", now
                )
                return
            body = r.text_of(session, reminder, language, self.settings)
            url = r.gateway_url(self.settings, contact)
            phone = contact.phone
            claimed = session.execute(
                sa.update(Delivery)
                .where(col(Delivery.id) == row.id, col(Delivery.status) == row.status)
                .values(
                    status=DeliveryStatus.sending.value,
                    attempts=Delivery.attempts + 1,
                    claimed_by=CLAIMER,
                    claimed_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(claimed) != 1:
                return
            reminder.language, reminder.body_sha256 = contact.language, r.body_digest(body)
            session.add(reminder)
        message = Message(title="", text=body, html=body, markdown=body)
        result = self.sender(url, message)
        if not result.ok:  # the gateway's errors may name the number: never stored or logged
            result = SendResult(False, result.error.replace(phone, r.mask_phone(phone)))
        assert delivery.id is not None
        try:
            self._record_reminder(delivery.id, result, report)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.append(([delivery.id], result))
            raise

    def _record_reminder(self, delivery_id: int, result: SendResult, report: PassReport) -> None:
        from monitor import reminders as r
        from storage.models import Reminder, ReminderStatus

        now = self.clock()
        with session_scope(self.engine) as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None and delivery.id is not None
            reminder = session.get(Reminder, delivery.reminder_id)
            assert reminder is not None
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    ok=result.ok,
                    error=result.error[:2000],
                )
            )
            if result.ok:
                delivery.status, delivery.sent_at, delivery.last_error = "sent", now, ""
                reminder.status, reminder.sent_at = ReminderStatus.sent.value, now
                reminder.updated_at = now
                report.sent += 1
            else:
                report.failed_attempts += 1
                delivery.last_error = result.error[:2000]
                if delivery.attempts >= self.settings.delivery_max_attempts:
                    delivery.status = DeliveryStatus.failed.value
                    report.given_up += 1
                    r.failed(session, reminder, delivery.attempts, result.error, now)
                else:
                    delivery.status = DeliveryStatus.pending.value
                    delivery.next_attempt_at = now + backoff(self.settings, delivery.attempts)
                log.warning(
                    "reminder delivery #%s attempt %d failed: %s",
                    delivery.id,
                    delivery.attempts,
                    result.error,
                )
            session.add(delivery)
            session.add(reminder)

    def _send_one(self, delivery: Delivery, report: PassReport, probed: set[int]) -> None:
        """Send ``delivery``, with the pending deliveries to the same channel of the other
        events of its group (one lookup of one client) in the same message."""
        now = self.clock()
        with session_scope(self.engine) as session:
            row = session.get(Delivery, delivery.id)
            if row is None or row.status != DeliveryStatus.pending.value:
                return  # sent with its group earlier in this pass, or by another process
            event = session.get(Event, delivery.event_id)
            staff = session.get(Staff, delivery.staff_id)
            channel = session.get(StaffChannel, delivery.channel_id)
            assert event is not None and staff is not None and channel is not None
            client = session.get(Client, event.client_id) if event.client_id else None
            rows: list[tuple[Delivery, Event]] = [(row, event)]
            if event.group_key:
                rows += list(
                    session.exec(
                        select(Delivery, Event)
                        .join(Event, col(Event.id) == Delivery.event_id)
                        .where(
                            Event.group_key == event.group_key,
                            Delivery.channel_id == row.channel_id,
                            Delivery.escalation_level == row.escalation_level,
                            Delivery.status == DeliveryStatus.pending.value,
                            col(Delivery.id) != row.id,
                        )
                        .order_by(col(Delivery.id))
                    ).all()
                )
            urgent = any(e.severity == Severity.urgent.value for _, e in rows)
            defer_to: datetime | None = None
            if not urgent:
                defer_to = quiet_until(
                    now, staff.quiet_start, staff.quiet_end, self.settings.timezone
                )
            waiting = channel.retry_at is not None and channel.retry_at > now
            if defer_to is None and channel.failing and (channel.id in probed or waiting):
                # A failing channel gets one probe per back-off period, not one per delivery.
                defer_to = (
                    channel.retry_at
                    if channel.retry_at is not None and waiting
                    else now + backoff(self.settings, channel.consecutive_failures)
                )
            if defer_to is not None:
                for held, _ in rows:
                    held.next_attempt_at = defer_to
                    session.add(held)
                report.deferred += len(rows)
                return
            # Claim: committed before sending, so a crash during the send is visible. Each
            # delivery of the group is claimed on its own: one another process took stays its.
            claimed: list[tuple[int, Event]] = []
            for member, member_event in rows:
                assert member.id is not None
                result = session.execute(
                    sa.update(Delivery)
                    .where(
                        col(Delivery.id) == member.id,
                        col(Delivery.status) == DeliveryStatus.pending.value,
                    )
                    .values(
                        status=DeliveryStatus.sending.value,
                        attempts=Delivery.attempts + 1,
                        claimed_by=CLAIMER,
                        claimed_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(result) == 1:
                    claimed.append((member.id, member_event))
            if not claimed:
                return
            message = render(
                [e for _, e in claimed],
                client,
                channel,
                staff.language,
                escalation_level=row.escalation_level,
                base_url=self.settings.web_base_url,
                ack_secret=self.secret,
            )
            monthly = next((e for _, e in claimed if e.kind == "monthly_report"), None)
            url = channel.url
        if monthly is not None:  # after the claim's commit: a report takes a second to make
            message = self._with_report(message, monthly)
        if channel.failing:
            assert channel.id is not None
            probed.add(channel.id)
        ids = [i for i, _ in claimed]
        result_of_send = self.sender(url, message)
        try:
            self._record(ids, result_of_send, report)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.append((ids, result_of_send))
            raise

    def _with_report(self, message: Message, event: Event) -> Message:
        """The monthly report's alert carries the reports themselves (PDF, published form) to
        email channels: the program report of the month and, when a FOIA release with the alert
        court's history is loaded, the representation report of the twelve months up to it.
        Each file is made once per month in ``data_dir/reports``. A report that cannot be made
        is left out (the alert still gives its figures and where to download it)."""
        from dataclasses import replace

        from monitor.reports import parse_month, program_report, year_up_to
        from monitor.representation import history_release, representation_report

        try:
            month = parse_month(event.subject_key, "report month")
        except ValidationError:
            return message
        zone, now, court = self.settings.timezone, self.clock(), self.settings.eoir_foia_alert_court
        attachments = []
        program = self._report_pdf(
            f"program-{month:%Y-%m}.pdf",
            lambda s: program_report(s, month, month, zone, now),
        )
        if program is not None:
            attachments.append(program)

        def representation(s: Session) -> Any:
            release = history_release(s, court)
            last = min(month, date(release.as_of.year, release.as_of.month, 1))
            first = year_up_to(last)
            return representation_report(s, court, first, last, now)

        made = self._report_pdf(f"representation-{court}-{month:%Y-%m}.pdf", representation)
        if made is not None:
            attachments.append(made)
        return replace(message, attachments=tuple(attachments)) if attachments else message

    def _report_pdf(self, name: str, make: Callable[[Session], Any]) -> str | None:
        from monitor.report_files import pdf
        from storage.files import private_file

        folder = self.settings.data_dir / "reports"
        path = folder / name
        try:
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                with session_scope(self.engine) as session:
                    report = make(session)
                staged = path.with_suffix(".pdf.part")
                with private_file(staged, "wb") as out:
                    out.write(pdf(report.published()))
                staged.replace(path)
        except ValidationError as exc:  # nothing to report yet (no release loaded, say)
            log.info("the monthly %s is not attached: %s", name, exc)
            return None
        except Exception:
            log.exception("the monthly report %s could not be made", name)
            return None
        return str(path)

    def _record(self, delivery_ids: list[int], result: SendResult, report: PassReport) -> None:
        """The outcome of one send (one message) for each delivery it carried; the channel's
        health counts the send once."""
        now = self.clock()
        recovered: StaffChannel | None = None
        failing_now: StaffChannel | None = None
        with session_scope(self.engine) as session:
            deliveries = [session.get(Delivery, i) for i in delivery_ids]
            assert deliveries and all(d is not None and d.id is not None for d in deliveries)
            channel = session.get(StaffChannel, deliveries[0].channel_id)  # type: ignore[union-attr]
            assert channel is not None
            for delivery in deliveries:
                assert delivery is not None and delivery.id is not None
                session.add(
                    DeliveryAttempt(
                        delivery_id=delivery.id,
                        attempted_at=now,
                        ok=result.ok,
                        error=result.error[:2000],
                    )
                )
            if result.ok:
                for delivery in deliveries:
                    assert delivery is not None
                    delivery.status = DeliveryStatus.sent.value
                    delivery.sent_at = now
                    delivery.last_error = ""
                    session.add(delivery)
                    report.sent += 1
                if channel.failing:
                    recovered = channel
                    channel.failing = False
                    requeued = session.execute(
                        sa.update(Delivery)
                        .where(
                            col(Delivery.channel_id) == channel.id,
                            col(Delivery.status) == DeliveryStatus.failed.value,
                        )
                        .values(
                            status=DeliveryStatus.pending.value, next_attempt_at=now, attempts=0
                        )
                    )
                    log.info(
                        "channel #%s recovered; %d given-up deliveries queued again",
                        channel.id,
                        _rowcount(requeued),
                    )
                channel.consecutive_failures = 0
                channel.retry_at = None
            else:
                report.failed_attempts += 1
                channel.consecutive_failures += 1
                channel.retry_at = now + backoff(self.settings, channel.consecutive_failures)
                for delivery in deliveries:
                    assert delivery is not None
                    delivery.last_error = result.error
                    if delivery.attempts >= self.settings.delivery_max_attempts:
                        delivery.status = DeliveryStatus.failed.value
                        report.given_up += 1
                        if not channel.failing:
                            channel.failing = True
                            failing_now = channel
                    else:
                        delivery.status = DeliveryStatus.pending.value
                        delivery.next_attempt_at = now + backoff(self.settings, delivery.attempts)
                    session.add(delivery)
                    log.warning(
                        "delivery #%s attempt %d failed: %s",
                        delivery.id,
                        delivery.attempts,
                        result.error,
                    )
            session.add(channel)
            attempts = max(d.attempts for d in deliveries if d is not None)
            for changed, kind_name in (
                (failing_now, "channel_failing"),
                (recovered, "channel_recovered"),
            ):
                if changed is None:
                    continue
                where = {"channel": mask_channel(changed.url), "staff": changed.staff_id}
                line = (
                    note(kind_name, **where, attempts=attempts, error=result.error[:500])
                    if kind_name == "channel_failing"
                    else note(kind_name, **where)
                )
                emit(
                    session,
                    EventInput(
                        kind=kind_name,
                        subject_type="channel",
                        subject_key=str(changed.id),
                        dedup_key=f"{kind_name}:{changed.id}:{now.isoformat()}",
                        payload={"notes": [line]},
                        occurred_at=now,
                    ),
                    now,
                )

    # ------------------------------------------------------------------------------- digests

    def digest_cutoff(self, now: datetime) -> datetime:
        """The latest digest time at or before ``now`` (local digest hour), in UTC."""
        zone = ZoneInfo(self.settings.timezone)
        local = now.astimezone(zone)
        cutoff = datetime.combine(local.date(), time(self.settings.digest_hour), tzinfo=zone)
        if cutoff > local:
            cutoff -= timedelta(days=1)
        return cutoff.astimezone(UTC)

    def send_digests(self) -> int:
        """Send held deliveries created before the last digest time, one message per channel."""
        now = self.clock()
        cutoff = self.digest_cutoff(now)
        with Session(self.engine, expire_on_commit=False) as session:
            held = list(
                session.exec(
                    select(Delivery)
                    .where(Delivery.status == DeliveryStatus.held.value)
                    .where(col(Delivery.created_at) <= cutoff)
                    .order_by(col(Delivery.id))
                )
            )
            groups: dict[tuple[int, int], list[Delivery]] = {}
            for d in held:  # only staff alerts are ever held for a digest
                assert d.staff_id is not None and d.channel_id is not None
                groups.setdefault((d.staff_id, d.channel_id), []).append(d)
            work = []
            for (staff_id, channel_id), items in groups.items():
                staff = session.get(Staff, staff_id)
                channel = session.get(StaffChannel, channel_id)
                assert staff is not None and channel is not None
                pairs = []
                for d in items:
                    event = session.get(Event, d.event_id)
                    assert event is not None
                    client = session.get(Client, event.client_id) if event.client_id else None
                    pairs.append((event, client))
                work.append((items, channel.url, render_digest(pairs, channel, staff.language)))
        sent = 0
        for items, url, message in work:
            result = self.sender(url, message)
            with session_scope(self.engine) as session:
                for d in items:
                    row = session.get(Delivery, d.id)
                    assert row is not None and row.id is not None
                    session.add(
                        DeliveryAttempt(
                            delivery_id=row.id, attempted_at=now, ok=result.ok, error=result.error
                        )
                    )
                    row.attempts += 1
                    if result.ok:
                        row.status = DeliveryStatus.sent.value
                        row.sent_at = now
                    else:
                        row.last_error = result.error
                    session.add(row)
            sent += int(result.ok)
        return sent


def acknowledge(engine: sa.Engine, event_id: int, by: str, now: datetime) -> Event:
    """Mark an alert acknowledged, with the other alerts of its group (they went out in one
    message); stops their escalation. Acknowledging twice keeps the first."""
    with session_scope(engine) as session:
        return acknowledge_in(session, event_id, by, now)


def acknowledge_in(session: Session, event_id: int, by: str, now: datetime) -> Event:
    """:func:`acknowledge` in ``session`` (a program-scoped one acts on its program only)."""
    from storage.errors import NotFoundError

    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no alert #{event_id}")
    group = [event]
    if event.group_key:  # one message carried the group: its acknowledgement covers all
        group += list(
            session.exec(
                select(Event).where(Event.group_key == event.group_key, col(Event.id) != event.id)
            )
        )
    for member in group:
        if member.acknowledged_at is None:
            member.acknowledged_at = now
            member.acknowledged_by = by[:200]
            session.add(member)
    return event
