"""The outbox's delivery kinds: one handler per kind, registered by name.

The dispatcher (:mod:`monitor.dispatch`) only transports: it claims a due delivery, sends the
message, records the attempt, backs off, keeps channel health, sends digests and escalates. What
differs between kinds is here, in each kind's :class:`DeliveryHandler`:

- :meth:`~DeliveryHandler.prepare`: checks done right before sending, then the claim and the
  message (:class:`Outgoing`), or nothing (the delivery was skipped, deferred or ended);
- :meth:`~DeliveryHandler.sent`, :meth:`~DeliveryHandler.given_up`,
  :meth:`~DeliveryHandler.uncertain`: what follows a send, the last failed attempt, or a send a
  dead process left unfinished.

Kinds: ``staff_alert`` (:mod:`monitor.staff_alerts`), ``client_reminder``
(:mod:`monitor.reminders.outbox`), ``case_note`` (:mod:`monitor.case_notes`);
:data:`HANDLER_MODULES` lists the modules that register them.
Files attached to an alert (the monthly report's PDF) come from a hook on the event's kind
(:func:`attach`), not from the dispatcher.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col

from monitor.messages import Message
from storage.models import Delivery, DeliveryStatus, Event
from storage.processes import this_process
from storage.settings import Settings

CLAIMER = this_process()
HANDLER_MODULES = ("monitor.staff_alerts", "monitor.reminders.outbox", "monitor.case_notes")


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""
    ref: str = ""  # what the receiver calls what it made (a case note's id), when it says


class Sender(Protocol):
    def __call__(self, url: str, message: Message) -> SendResult: ...


@dataclass
class PassReport:
    """What one pass of the dispatcher did."""

    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    deferred: int = 0
    uncertain: int = 0
    escalated: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: bool = False  # another pass of the same dispatcher was running


@dataclass
class Outgoing:
    """A claimed message, ready to go: the deliveries it carries, where, and what."""

    ids: list[int]
    url: str
    message: Message
    events: list[Event] = field(default_factory=list)  # their attachments come after the claim
    channel_id: int | None = None  # a staff channel (its health is kept by the dispatcher)
    scrub: Callable[[str], str] = str  # applied to a failed send's error before it is stored
    # how this kind sends, when it is not to a channel (a case note: the case system's API);
    # None: the dispatcher's sender (Apprise, or docketwatch's signed webhooks)
    send: Callable[[str, Message], SendResult] | None = None


@dataclass
class Context:
    """What a handler may use during one pass of the dispatcher."""

    settings: Settings
    now: datetime
    report: PassReport
    ack_secret: str | None
    probed: set[int] = field(default_factory=set)  # failing channels already tried this pass


class DeliveryHandler:
    """One delivery kind. Subclasses set :attr:`kind` and are registered by :func:`register`."""

    kind: ClassVar[str] = ""
    noun: ClassVar[str] = "delivery"  # how the log names one

    def prepare(self, ctx: Context, session: Session, row: Delivery) -> Outgoing | None:
        raise NotImplementedError

    def routed(self, session: Session, event: Event, recipients: list[Any], now: datetime) -> int:
        """After an event's alerts were queued for ``recipients`` (staff members): this kind's
        own deliveries of it, if any (a case note); how many were queued."""
        return 0

    def sent(self, session: Session, delivery: Delivery, now: datetime, result: SendResult) -> None:
        """After a successful send (the delivery is already marked sent)."""

    def given_up(
        self, session: Session, delivery: Delivery, result: SendResult, now: datetime
    ) -> None:
        """After the last failed attempt (the delivery is already marked failed)."""

    def uncertain(self, session: Session, delivery: Delivery, now: datetime) -> None:
        """A process died while sending it (the delivery is already marked uncertain)."""
        raise NotImplementedError


_HANDLERS: dict[str, DeliveryHandler] = {}


def register(handler: type[DeliveryHandler]) -> type[DeliveryHandler]:
    """Class decorator: the kind's handler. A kind is registered once."""
    if not handler.kind or handler.kind in _HANDLERS:
        raise ValueError(f"delivery kind {handler.kind!r} is empty or registered twice")
    _HANDLERS[handler.kind] = handler()
    return handler


@cache
def _load(modules: tuple[str, ...]) -> None:
    """Import the modules that register handlers or attachments (once per process)."""
    for name in modules:
        importlib.import_module(name)


def handlers() -> dict[str, DeliveryHandler]:
    """Every registered kind (the modules of :data:`HANDLER_MODULES` loaded first)."""
    _load(HANDLER_MODULES)
    return dict(_HANDLERS)


def handler_for(delivery: Delivery) -> DeliveryHandler:
    _load(HANDLER_MODULES)
    found = _HANDLERS.get(delivery.kind)
    if found is None:
        raise ValueError(f"delivery #{delivery.id} has a kind no handler knows: {delivery.kind!r}")
    return found


def claim(session: Session, delivery_id: int, now: datetime) -> bool:
    """Mark a pending delivery ``sending`` (committed before the send, so a crash during the
    send is visible); False when another process took it first."""
    result = session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.id) == delivery_id, col(Delivery.status) == DeliveryStatus.pending.value
        )
        .values(
            status=DeliveryStatus.sending.value,
            attempts=Delivery.attempts + 1,
            claimed_by=CLAIMER,
            claimed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", -1)) == 1


# event kind -> what makes its attachments: (the message, the event, settings, engine, now)
Attacher = Callable[[Message, Event, Settings, sa.Engine, datetime], Message]
_ATTACHERS: dict[str, Attacher] = {}
ATTACHER_MODULES = ("monitor.report_mail",)


def attaches(event_kind: str) -> Callable[[Attacher], Attacher]:
    """Decorator: ``fn`` adds the attachments of an alert of ``event_kind``."""

    def add(fn: Attacher) -> Attacher:
        if event_kind in _ATTACHERS:
            raise ValueError(f"attachments of {event_kind!r} registered twice")
        _ATTACHERS[event_kind] = fn
        return fn

    return add


def attach(
    message: Message, events: list[Event], settings: Settings, engine: sa.Engine, now: datetime
) -> Message:
    """The message with the attachments its events' kinds make."""
    _load(ATTACHER_MODULES)
    for event in events:
        maker = _ATTACHERS.get(event.kind)
        if maker is not None:
            message = maker(message, event, settings, engine, now)
    return message
