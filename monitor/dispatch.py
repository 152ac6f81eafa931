"""The dispatcher: sends the outbox through Apprise, and never records a failure as sent.

One pass (:meth:`Dispatcher.run_once`):

1. deliveries left in ``sending`` by a process that died mid-send become ``uncertain`` and the
   admins are told; they are not resent automatically, so nobody gets an alert twice;
2. urgent client events nobody acknowledged in time are escalated (backup attorney, then
   coordinators);
3. each due ``pending`` delivery goes to its kind's handler (:mod:`monitor.outbox`: a staff
   alert, a client reminder), which checks it once more and claims it (committed as
   ``sending``); the message is sent and the attempt recorded with Apprise's verdict;
4. held deliveries go out as one daily digest per staff member and channel.

Failures are retried with exponential back-off; after ``delivery_max_attempts`` the delivery is
given up, its channel marked failing and the admins told. When a failing channel delivers again,
the admins hear that too and the deliveries given up on it are queued again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.messages import Message, render_digest
from monitor.outbox import (
    Context,
    PassReport,
    Sender,
    SendResult,
    attach,
    handler_for,
)
from monitor.route import emit, route
from monitor.timing import backoff, digest_cutoff
from storage.db import session_scope
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
from storage.processes import tag_alive
from storage.settings import Settings, mask_channel
from storage.webhook_channels import is_webhook

log = logging.getLogger(__name__)


class AppriseSender:
    """Sends through Apprise, judging by its result object, not by the absence of exceptions.

    A fresh Apprise object per message: a reused one throttles every plugin to one message per
    5.5 s, which would hold an urgent alert behind a routine one. Pacing and retries are the
    dispatcher's job (back-off per delivery and per channel).
    """

    def __call__(self, url: str, message: Message) -> SendResult:
        import apprise

        if is_webhook(url):  # signed webhooks are docketwatch's own (monitor/webhooks.py)
            from monitor.webhooks import send_webhook

            return send_webhook(url, message)

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


STALE_CLAIM = timedelta(minutes=15)  # far longer than any Apprise plugin's own timeouts


def claimer_alive(claimed_by: str, claimed_at: datetime | None, now: datetime) -> bool:
    """Is the process that claimed a delivery still running (and so maybe still sending)?"""
    if claimed_at is None or now - claimed_at > STALE_CLAIM:
        return False
    alive = tag_alive(claimed_by)
    return True if alive is None else alive  # another machine: only age can tell


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", -1))


class Dispatcher:
    """Sends the outbox: claims, sends, records, backs off; each delivery kind's own rules are
    its handler's (:mod:`monitor.outbox`)."""

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

    def _pass(self, batch: int) -> PassReport:
        report = PassReport()
        while self._unrecorded:  # raises, keeping them, while the database still fails
            delivery_ids, result = self._unrecorded[0]
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
                handler_for(delivery).uncertain(session, delivery, now)
        if stuck:
            log.warning("%d deliveries were interrupted mid-send and marked uncertain", len(stuck))
        return len(stuck)

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
        ctx = Context(self.settings, now, report, self.secret)
        for delivery in due:
            self._send_one(delivery, ctx)
        return len(due)

    def _send_one(self, delivery: Delivery, ctx: Context) -> None:
        """Prepare (its kind's checks and claim, committed before the send, so a crash during
        the send is visible), attach, send, record."""
        with session_scope(self.engine) as session:
            row = session.get(Delivery, delivery.id)
            if row is None or row.status != DeliveryStatus.pending.value:
                return  # sent with its group earlier in this pass, or by another process
            outgoing = handler_for(row).prepare(ctx, session, row)
        if outgoing is None:
            return
        # after the claim's commit: an attachment (a report) may take a second to make
        message = attach(outgoing.message, outgoing.events, self.settings, self.engine, ctx.now)
        # One key per message, the same on every attempt (a webhook receiver drops a repeat).
        message = replace(message, key="dw_" + "_".join(str(i) for i in sorted(outgoing.ids)))
        result = (outgoing.send or self.sender)(outgoing.url, message)
        if not result.ok:  # an error may name the recipient: scrubbed before it is kept
            result = SendResult(False, outgoing.scrub(result.error))
        try:
            self._record(outgoing.ids, result, ctx.report)
        except sa.exc.SQLAlchemyError:
            self._unrecorded.append((outgoing.ids, result))
            raise

    def _record(self, delivery_ids: list[int], result: SendResult, report: PassReport) -> None:
        """The outcome of one send (one message) for each delivery it carried; a staff
        channel's health counts the send once."""
        now = self.clock()
        with session_scope(self.engine) as session:
            deliveries = [session.get(Delivery, i) for i in delivery_ids]
            found = [d for d in deliveries if d is not None and d.id is not None]
            assert found and len(found) == len(deliveries)
            handler = handler_for(found[0])
            given_up = False
            for delivery in found:
                assert delivery.id is not None
                error = result.error[:2000]
                session.add(
                    DeliveryAttempt(
                        delivery_id=delivery.id, attempted_at=now, ok=result.ok, error=error
                    )
                )
                if result.ok:
                    delivery.status, delivery.sent_at, delivery.last_error = "sent", now, ""
                    report.sent += 1
                    handler.sent(session, delivery, now, result)
                elif delivery.attempts >= self.settings.delivery_max_attempts:
                    delivery.status, delivery.last_error = DeliveryStatus.failed.value, error
                    report.given_up += 1
                    given_up = True
                    handler.given_up(session, delivery, result, now)
                else:
                    delivery.status, delivery.last_error = DeliveryStatus.pending.value, error
                    delivery.next_attempt_at = now + backoff(self.settings, delivery.attempts)
                if not result.ok:
                    log.warning(
                        "%s #%s attempt %d failed: %s",
                        handler.noun,
                        delivery.id,
                        delivery.attempts,
                        result.error,
                    )
                session.add(delivery)
            report.failed_attempts += 0 if result.ok else 1
            if found[0].channel_id is not None:
                attempts = max(d.attempts for d in found)
                self._channel_health(session, found[0].channel_id, result, given_up, attempts, now)

    def _channel_health(
        self,
        session: Session,
        channel_id: int,
        result: SendResult,
        given_up: bool,
        attempts: int,
        now: datetime,
    ) -> None:
        """A staff channel after a send: failing once a delivery on it is given up (the admins
        told); when a failing channel delivers again, the admins hear that too and the
        deliveries given up on it are queued again."""
        channel = session.get(StaffChannel, channel_id)
        assert channel is not None
        changed: str | None = None
        if result.ok:
            if channel.failing:
                changed, channel.failing = "channel_recovered", False
                requeued = session.execute(
                    sa.update(Delivery)
                    .where(
                        col(Delivery.channel_id) == channel.id,
                        col(Delivery.status) == DeliveryStatus.failed.value,
                    )
                    .values(status=DeliveryStatus.pending.value, next_attempt_at=now, attempts=0)
                )
                log.info(
                    "channel #%s recovered; %d given-up deliveries queued again",
                    channel.id,
                    _rowcount(requeued),
                )
            channel.consecutive_failures, channel.retry_at = 0, None
        else:
            channel.consecutive_failures += 1
            channel.retry_at = now + backoff(self.settings, channel.consecutive_failures)
            if given_up and not channel.failing:
                changed, channel.failing = "channel_failing", True
        session.add(channel)
        if changed is None:
            return
        where = {"channel": mask_channel(channel.url), "staff": channel.staff_id}
        if changed == "channel_failing":
            where.update(attempts=attempts, error=result.error[:500])
        emit(
            session,
            EventInput(
                kind=changed,
                subject_type="channel",
                subject_key=str(channel.id),
                dedup_key=f"{changed}:{channel.id}:{now.isoformat()}",
                payload={"notes": [note(changed, **where)]},
                occurred_at=now,
            ),
            now,
        )

    # ------------------------------------------------------------------------------- digests

    def digest_cutoff(self, now: datetime) -> datetime:
        """The latest digest time at or before ``now`` (local digest hour), in UTC."""
        return digest_cutoff(now, self.settings.digest_hour, self.settings.timezone)

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
                digest = render_digest(pairs, channel, staff.language)
                key = "dw_digest_" + "_".join(str(d.id) for d in items)
                work.append((items, channel.url, replace(digest, key=key)))
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
