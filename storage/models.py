"""SQLModel tables.

Times: ``*_on`` columns are dates; ``*_at`` columns are instants, timezone-aware, stored in UTC
(:class:`UTCDateTime` keeps that true on SQLite too). A hearing's wall-clock time is court-local
and stays with the court's zone.

Table models do not validate (SQLModel ``table=True``); only storage code builds them, from values
that :mod:`storage.identifiers` and the callers' Pydantic models have already checked.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.secrets import SealedString, SecretsKeyError, keyring_of


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the column."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_column(nullable: bool = True, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class ClientStatus(enum.StrEnum):
    prospect = "prospect"  # intake, not yet represented
    represented = "represented"
    closed = "closed"


class StaffRole(enum.StrEnum):
    attorney = "attorney"
    coordinator = "coordinator"
    admin = "admin"


class Language(enum.StrEnum):
    en = "en"
    es = "es"


class AssignmentRole(enum.StrEnum):
    primary = "primary"
    backup = "backup"


class Severity(enum.StrEnum):
    urgent = "urgent"
    normal = "normal"
    info = "info"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # gave up after the configured attempts
    held = "held"  # waiting for the recipient's daily digest
    uncertain = "uncertain"  # the process died while sending: maybe sent; admins decide
    void = "void"  # not sent: no longer true or no longer wanted (a client reminder)


class CrawlOutcome(enum.StrEnum):
    running = "running"
    ok = "ok"
    empty = "empty"
    blocked = "blocked"
    layout_changed = "layout_changed"
    failed = "failed"
    timed_out = "timed_out"


def _enum(kind: type[enum.Enum], length: int = 20) -> Any:
    # Stored as plain strings (no native ENUM type), so adding a value needs no DDL.
    return sa.Column(sa.String(length), nullable=False)


class Nationality(SQLModel, table=True):
    """EOIR nationality code list (ACIS's; not ISO 3166)."""

    __tablename__ = "nationality"

    code: str = Field(primary_key=True, max_length=2)
    name: str = Field(max_length=80)
    active: bool = True


class Court(SQLModel, table=True):
    """An immigration court, by EOIR base-city code (``ADL``)."""

    __tablename__ = "court"

    code: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=120)
    address: str = Field(max_length=200)
    city: str = Field(max_length=80)
    state: str = Field(max_length=2)
    zip: str = Field(max_length=10)
    timezone: str = Field(default="America/Los_Angeles", max_length=40)
    detained: bool = Field(default=False, description="hears detained dockets")


class HearingLocation(SQLModel, table=True):
    """An EOIR hearing location (``ADE``, ``ADW``, ``ADV`` ...), belonging to a base city."""

    __tablename__ = "hearing_location"

    code: str = Field(primary_key=True, max_length=3)
    name: str = Field(max_length=120)
    address: str = Field(max_length=200)
    city: str = Field(max_length=80)
    state: str = Field(max_length=2)
    zip: str = Field(max_length=10)
    court_code: str = Field(foreign_key="court.code", max_length=3, index=True)
    detained: bool = False


class Facility(SQLModel, table=True):
    """An ICE detention facility; ``code`` is ICE's DETLOC code (``ADLNTCA``) when known."""

    __tablename__ = "facility"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=12, unique=True)
    name: str = Field(max_length=160)
    address: str = Field(default="", max_length=200)
    city: str = Field(default="", max_length=80)
    state: str = Field(default="", max_length=2)
    zip: str = Field(default="", max_length=10)
    aor: str = Field(default="", max_length=60, description="ICE area of responsibility")
    type: str = Field(default="", max_length=20, description="ICE 'Type Detailed' (CDF, IGSA ...)")


class Organization(SQLModel, table=True):
    """A program the deployment serves: its clients, staff and their alerts are its own; the
    public data (FOIA releases, statistics, court status) is every program's."""

    __tablename__ = "organization"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, description="short name, for --org")
    name: str = Field(max_length=160)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class Client(SQLModel, table=True):
    """A person the organization represents or is doing intake for. Two programs may watch the
    same person: each has its own row (its attorneys, its notes), looked up once for both."""

    __tablename__ = "client"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "a_number", name="uq_client_organization_a_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(default=None, foreign_key="organization.id", index=True)
    a_number: str = Field(max_length=9, index=True)
    name: str = Field(max_length=160)
    nationality_code: str = Field(foreign_key="nationality.code", max_length=2)
    country_of_birth_code: str | None = Field(
        default=None, foreign_key="nationality.code", max_length=2
    )
    born_on: date | None = None
    status: str = Field(default=ClientStatus.represented.value, sa_column=_enum(ClientStatus))
    primary_attorney_id: int | None = Field(default=None, foreign_key="staff.id")
    backup_attorney_id: int | None = Field(
        default=None, foreign_key="staff.id", description="escalation target for urgent alerts"
    )
    active: bool = True
    notes: str = Field(default="", max_length=2000)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
    erased_at: datetime | None = Field(
        default=None,
        sa_column=utc_column(),
        description="when the client's personal data was erased (the anonymous row stays)",
    )
    roster_source: str | None = Field(
        default=None,
        max_length=64,
        description=(
            "the roster sync source that lists the client (its key); none: added by hand or "
            "imported, never deactivated by a sync"
        ),
    )
    roster_missed: int = Field(
        default=0, description="syncs in a row whose source omitted the client"
    )
    case_uuid: str | None = Field(
        default=None,
        max_length=36,
        description="the client's matter in the program's LegalServer (its UUID): case notes",
    )
    federal_cases: str = Field(
        default="",
        max_length=400,
        description=(
            "the federal cases the roster lists for the client (`cacd 5:25-cv-01234; ca9 "
            "25-1234`), linked by the federal_dockets check"
        ),
    )


class Staff(SQLModel, table=True):
    """An attorney, coordinator or admin who receives alerts."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(default=None, foreign_key="organization.id", index=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=200, unique=True)
    role: str = Field(sa_column=_enum(StaffRole))
    language: str = Field(default=Language.en.value, sa_column=_enum(Language, 2))
    quiet_start: time | None = Field(default=None, description="quiet hours start (local time)")
    quiet_end: time | None = Field(default=None, description="quiet hours end (local time)")
    digest: bool = Field(default=False, description="non-urgent alerts as one daily message")
    min_severity: str = Field(default=Severity.info.value, sa_column=_enum(Severity))
    muted_kinds: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    active: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    calendar_token_digest: str | None = Field(
        default=None,
        max_length=64,
        unique=True,
        index=True,
        description="SHA-256 of the secret in the staff member's calendar feed address",
    )
    password_hash: str | None = Field(
        default=None, max_length=200, description="argon2id hash of the web app password"
    )
    password_link_digest: str | None = Field(
        default=None, max_length=64, description="SHA-256 of a one-time password-setting link"
    )
    password_link_expires_at: datetime | None = Field(default=None, sa_column=utc_column())
    oidc_subject: str | None = Field(
        default=None,
        max_length=400,
        unique=True,
        description=(
            "The sign-in provider's stable subject (issuer, then Entra's oid or the sub), linked "
            "at the first sign-in with the organization's account: later sign-ins match it, "
            "not the email"
        ),
    )


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, kept for the throttle's window by a hashed key (the email and the
    address, the address, the email): shared by every web worker process."""

    __tablename__ = "sign_in_failure"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, index=True, description="SHA-256 of the throttle's key")
    at: float = Field(index=True, description="when, in seconds since the epoch")


class StaffChannel(SQLModel, table=True):
    """One Apprise URL of a staff member; per-channel privacy setting."""

    __tablename__ = "staff_channel"
    __table_args__ = (sa.UniqueConstraint("staff_id", "url_digest", name="uq_staff_channel_url"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    # Sealed at rest with the secrets key (storage/secrets.py), read back in the clear.
    url: str = Field(sa_column=sa.Column(SealedString(), nullable=False))
    url_digest: str = Field(default="", max_length=64, description="keyed digest of the URL")
    allow_personal_data: bool = Field(
        default=False, description="full A-number and name may appear in messages"
    )
    active: bool = True
    failing: bool = Field(default=False, description="gave up on a delivery; admins were told")
    consecutive_failures: int = 0
    retry_at: datetime | None = Field(default=None, sa_column=utc_column())


@sa.event.listens_for(StaffChannel, "before_insert")
@sa.event.listens_for(StaffChannel, "before_update")
def _seal_channel(mapper: Any, connection: sa.Connection, target: StaffChannel) -> None:
    """The URL's digest, from the database's key; the key is made for the first channel of a
    database that has none, and a lost key is never silently replaced."""
    target.url_digest = _keyring_for_sealing(connection).digest(target.url)


def _keyring_for_sealing(connection: sa.Connection) -> Any:
    """The database's key, made for the first sealed value of a database that holds none; a
    lost key is never silently replaced while any value (a channel URL, a client's phone
    number) is sealed with it."""
    keyring = keyring_of(connection.dialect)
    if not keyring.exists():
        sealed = ["staff_channel", "reminder_contact"]
        if sa.inspect(connection).has_table("roster_sync"):
            sealed += ["roster_sync WHERE token IS NOT NULL", "case_system"]
        if sa.inspect(connection).has_table("federal_account"):
            sealed += ["federal_account WHERE token IS NOT NULL"]
        stored = sum(
            connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar() or 0
            for name in sealed
        )
        if stored:
            raise SecretsKeyError(
                f"the secrets key {keyring.path} is missing but the database holds {stored} "
                "sealed value(s): restore the key (or set secrets_key_file to where it is)"
            )
        keyring.create()
    return keyring


class Event(SQLModel, table=True):
    """A typed fact the monitor found; ``dedup_key`` makes a second pass a no-op."""

    __tablename__ = "event"
    # the inbox and the home page: the newest alerts first, read in order, never sorted whole
    __table_args__ = (sa.Index("ix_event_created_at_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    severity: str = Field(sa_column=_enum(Severity))
    subject_type: str = Field(max_length=20)  # client, court, source
    subject_key: str = Field(max_length=40)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    organization_id: int | None = Field(
        default=None,
        foreign_key="organization.id",
        index=True,
        description="the program it is about (its client, its staff); none: public data",
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    dedup_key: str = Field(max_length=200, unique=True)
    group_key: str | None = Field(
        default=None, max_length=120, index=True, description="events of one lookup: one message"
    )
    occurred_at: datetime = Field(sa_column=utc_column(nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column())
    acknowledged_by: str = Field(default="", max_length=200)
    escalation_level: int = Field(
        default=0, description="0 none, 1 backup attorney, 2 coordinators"
    )
    escalated_at: datetime | None = Field(default=None, sa_column=utc_column())


#: who a delivery is for: a staff member's channel (an alert), a client (a reminder), or a
#: client's case in the program's case-management system (a case note: the event alone)
DELIVERY_RECIPIENT = (
    "(reminder_id IS NULL AND event_id IS NOT NULL AND staff_id IS NOT NULL"
    " AND channel_id IS NOT NULL) OR (reminder_id IS NOT NULL AND event_id IS NULL"
    " AND staff_id IS NULL AND channel_id IS NULL) OR (kind = 'case_note'"
    " AND reminder_id IS NULL AND event_id IS NOT NULL AND staff_id IS NULL"
    " AND channel_id IS NULL)"
)


class Delivery(SQLModel, table=True):
    """The outbox row: one event for one staff member on one channel, or one reminder to a
    client (``reminder_id``, and then no event, staff member or channel)."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "staff_id", "channel_id", name="uq_delivery"),
        sa.CheckConstraint(DELIVERY_RECIPIENT, name="ck_delivery_recipient"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(
        default="staff_alert",
        max_length=30,
        sa_column_kwargs={"server_default": "staff_alert"},
        description="the delivery kind, whose outbox handler prepares and follows it up",
    )
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    channel_id: int | None = Field(default=None, foreign_key="staff_channel.id")
    reminder_id: int | None = Field(
        default=None, foreign_key="reminder.id", index=True, description="a client reminder"
    )
    status: str = Field(default=DeliveryStatus.pending.value, sa_column=_enum(DeliveryStatus))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(index=True))
    last_error: str = Field(default="", max_length=2000)
    sent_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    escalation_level: int = 0
    digest: bool = Field(default=False, description="held for the recipient's daily digest")
    claimed_by: str = Field(default="", max_length=120, description="host:pid:start of the sender")
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column())


class InboundReply(SQLModel, table=True):
    """A reply the SMS gateway delivered and docketwatch acted on (a STOP), by the gateway's
    message id: the same signed request sent again (a replay) is not acted on twice. Twilio's
    signature carries no time, so this is what keeps an old STOP from withdrawing a consent
    recorded after it."""

    __tablename__ = "inbound_reply"

    message_sid: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=utc_column(nullable=False))


class DeliveryAttempt(SQLModel, table=True):
    """One try at sending a delivery, with Apprise's verdict."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    attempted_at: datetime = Field(sa_column=utc_column(nullable=False))
    ok: bool
    error: str = Field(default="", max_length=2000)


class CrawlRun(SQLModel, table=True):
    """One spider run and how it ended."""

    __tablename__ = "crawl_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=30, index=True)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())
    outcome: str = Field(default=CrawlOutcome.running.value, sa_column=_enum(CrawlOutcome))
    items: int = 0
    errors: int = 0
    message: str = Field(default="", max_length=2000)


class AcisLookup(SQLModel, table=True):
    """One ACIS lookup of one client: the raw answer kept, its outcome and normalized content."""

    __tablename__ = "acis_lookup"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_run.id")
    observed_at: datetime = Field(sa_column=utc_column(nullable=False))
    outcome: str = Field(max_length=24)
    language: str = Field(default="EN", max_length=2)
    nationality_code: str = Field(default="", max_length=2)
    http_status: int = 0
    message: str = Field(default="", max_length=300)
    raw_sha256: str = Field(default="", max_length=64)
    raw: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    hearing: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    status: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    via: str = Field(default="browser", max_length=12, description="browser, assisted, import")


class Hearing(SQLModel, table=True):
    """A client's next hearing as a source last showed it; court-local date and time + zone."""

    __tablename__ = "hearing"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    source: str = Field(default="acis", max_length=30)
    lookup_id: int | None = Field(default=None, foreign_key="acis_lookup.id")
    current: bool = Field(default=True, description="the latest known next hearing")
    verified: bool = Field(default=True, description="false while a court closure is unchecked")
    hearing_on: date
    hearing_time: str = Field(default="", max_length=10)
    timezone: str = Field(default="", max_length=40)
    starts_at: datetime | None = Field(default=None, sa_column=utc_column(index=True))
    court_code: str = Field(default="", max_length=3, index=True)
    location: str = Field(default="", max_length=300)
    judge: str = Field(default="", max_length=120)
    medium: str = Field(default="", max_length=40)
    calendar_type: str = Field(default="", max_length=20)
    schedule_type: str = Field(default="", max_length=40)
    webex: str = Field(default="", max_length=300)
    seen_at: datetime = Field(sa_column=utc_column(nullable=False))


class CustodyLookup(SQLModel, table=True):
    """One ICE locator lookup of one client: outcome, and for a hit the status and facility."""

    __tablename__ = "custody_lookup"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_run.id")
    observed_at: datetime = Field(sa_column=utc_column(nullable=False))
    outcome: str = Field(max_length=20)
    detained: bool | None = None
    status_text: str = Field(default="", max_length=80)
    facility_id: int | None = Field(default=None, foreign_key="facility.id")
    facility_name: str = Field(default="", max_length=160)
    facility_address: str = Field(default="", max_length=300, description="lines joined by |")
    state: str = Field(default="", max_length=2)
    message: str = Field(default="", max_length=300)
    attempts: int = Field(default=1, description="pages tried in this lookup (zeros are retried)")
    raw_sha256: str = Field(default="", max_length=64)
    raw: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))


class Heartbeat(SQLModel, table=True):
    """Last sign of life of a long-running component (the scheduler, each source)."""

    __tablename__ = "heartbeat"

    component: str = Field(primary_key=True, max_length=40)
    beat_at: datetime = Field(sa_column=utc_column(nullable=False))
    detail: str = Field(default="", max_length=500)


class FoiaRelease(SQLModel, table=True):
    """One EOIR FOIA release ("EOIR Case Data.zip"): where it came from and how its load went.

    Only ``loaded`` releases are queried; a release being loaded or one that failed leaves the
    previous one as the current release.
    """

    __tablename__ = "foia_release"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(default="", max_length=500)
    etag: str = Field(default="", max_length=120, description="normalized: no W/, no quotes")
    last_modified: datetime | None = Field(default=None, sa_column=utc_column())
    content_length: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    sha256: str = Field(default="", max_length=64)
    file_path: str = Field(default="", max_length=500)
    as_of: date = Field(description="the date 'next hearing' and 'pending' are counted from")
    status: str = Field(default="loading", max_length=12, index=True)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    loaded_at: datetime | None = Field(default=None, sa_column=utc_column())
    message: str = Field(default="", max_length=2000)
    report: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )


class FoiaProceeding(SQLModel, table=True):
    """A proceeding at one of the watched courts in one release; anonymous (ids and codes only)."""

    __tablename__ = "foia_proceeding"
    __table_args__ = (
        sa.Index("ix_foia_proceeding_court", "release_id", "base_city", "pending", "represented"),
    )

    release_id: int = Field(foreign_key="foia_release.id", primary_key=True)
    idnproceeding: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idncase: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    base_city: str = Field(max_length=3)
    hearing_loc: str = Field(default="", max_length=3)
    ij_code: str = Field(default="", max_length=3)
    custody: str = Field(default="", max_length=1, description="the case's: D, R, N or blank")
    case_type: str = Field(default="", max_length=3)
    nat: str = Field(default="", max_length=2)
    lang: str = Field(default="", max_length=3)
    osc_date: date | None = None
    input_date: date | None = None
    comp_date: date | None = None
    pending: bool
    represented: bool = Field(description="a respondent's attorney at court level (EOIR-28)")
    next_date: date | None = Field(default=None, index=True)
    next_time: str = Field(default="", max_length=4)
    next_cal_type: str = Field(default="", max_length=1)
    next_schedule_type: str = Field(default="", max_length=2)
    next_judge: str = Field(default="", max_length=3)
    next_hearing_loc: str = Field(default="", max_length=3)
    dec_code: str = Field(default="", max_length=1, description="DEC_CODE: the decision")
    other_comp: str = Field(default="", max_length=1, description="OTHER_COMP: other completion")
    absentia: str = Field(default="", max_length=1, description="ABSENTIA: Y or N")
    counsel_date: date | None = Field(
        default=None, description="the case's first EOIR-28 (A_TblCase or tbl_RepsAssigned)"
    )
    first_master_date: date | None = Field(
        default=None, description="HEARING_DATE: the initial (master calendar) hearing"
    )


class FoiaCourtStats(SQLModel, table=True):
    """Per-court national aggregates of one release."""

    __tablename__ = "foia_court_stats"

    release_id: int = Field(foreign_key="foia_release.id", primary_key=True)
    base_city: str = Field(primary_key=True, max_length=3)
    proceedings: int = 0
    pending: int = 0
    pending_detained: int = 0
    unrepresented: int = Field(default=0, description="pending, without a respondent's attorney")
    unrepresented_detained: int = 0


class FoiaQuarantine(SQLModel, table=True):
    """A row of a release that could not be loaded, with where it was and why."""

    __tablename__ = "foia_quarantine"

    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="foia_release.id", index=True)
    file: str = Field(max_length=120)
    line: int
    reason: str = Field(max_length=300)
    raw: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))


class FoiaLookup(SQLModel, table=True):
    """A code of a release's Lookup folder (judges, languages, case types)."""

    __tablename__ = "foia_lookup"

    release_id: int = Field(foreign_key="foia_release.id", primary_key=True)
    table_name: str = Field(primary_key=True, max_length=40)
    code: str = Field(primary_key=True, max_length=10)
    label: str = Field(default="", max_length=200)


class StatsEdition(SQLModel, table=True):
    """One ICE detention statistics workbook as downloaded (by URL and SHA-256) and parsed."""

    __tablename__ = "stats_edition"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(default="", max_length=500)
    file_name: str = Field(max_length=200)
    sha256: str = Field(max_length=64, unique=True)
    sheet: str = Field(default="", max_length=60)
    fiscal_year: int | None = None
    workbook_fiscal_year: int | None = None
    data_as_of: date | None = None
    stale: bool = False
    stale_reason: str = Field(default="", max_length=300)
    facilities: int = 0
    checks_failed: int = 0
    fetched_at: datetime = Field(sa_column=utc_column(nullable=False))


class FacilityPopulation(SQLModel, table=True):
    """One facility's row in one edition: ADP by level, gender x criminality, threat level."""

    __tablename__ = "facility_population"

    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="stats_edition.id", index=True)
    facility_id: int | None = Field(default=None, foreign_key="facility.id", index=True)
    name: str = Field(max_length=160)
    match_key: str = Field(max_length=160, index=True, description="normalized name")
    city: str = Field(default="", max_length=80)
    state: str = Field(default="", max_length=2)
    zip: str = Field(default="", max_length=10)
    aor: str = Field(default="", max_length=60)
    type: str = Field(default="", max_length=20)
    gender: str = Field(default="", max_length=20)
    adp: float = 0.0
    level_a: float = 0.0
    level_b: float = 0.0
    level_c: float = 0.0
    level_d: float = 0.0
    male_crim: float | None = None
    male_noncrim: float | None = None
    female_crim: float | None = None
    female_noncrim: float | None = None
    threat_1: float | None = None
    threat_2: float | None = None
    threat_3: float | None = None
    no_threat: float | None = None
    mandatory: float | None = None
    alos: float | None = None
    guaranteed_minimum: int | None = None
    last_inspection_date: date | None = None
    last_inspection_note: str = Field(default="", max_length=60)
    checks: str = Field(default="", max_length=500, description="failed sanity checks, '; '")


class CourtStatus(SQLModel, table=True):
    """The operational status EOIR lists for one court, as last seen (sources.md §5.1)."""

    __tablename__ = "court_status"

    slug: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=120)
    court_code: str = Field(default="", max_length=3)
    status_text: str = Field(default="", max_length=1000)
    closed: bool = False
    closed_days: str = Field(default="", max_length=300, description="ISO dates, comma-separated")
    address: str = Field(default="", max_length=300)
    seen_at: datetime = Field(sa_column=utc_column(nullable=False))
    changed_at: datetime = Field(sa_column=utc_column(nullable=False))


class CourtJudge(SQLModel, table=True):
    """A judge listed on a court's page; removed ones keep ``removed_at``."""

    __tablename__ = "court_judge"

    id: int | None = Field(default=None, primary_key=True)
    court_code: str = Field(max_length=3, index=True)
    name: str = Field(max_length=120)
    first_seen: datetime = Field(sa_column=utc_column(nullable=False))
    removed_at: datetime | None = Field(default=None, sa_column=utc_column())


class CheckRequest(SQLModel, table=True):
    """A request to check a client on a source early (a court closure, an assisted refresh)."""

    __tablename__ = "check_request"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    source: str = Field(max_length=30)
    reason: str = Field(max_length=200)
    requested_at: datetime = Field(sa_column=utc_column(nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=utc_column())


class ServiceLock(SQLModel, table=True):
    """Who runs the scheduler on this database: one scheduler per database, or jobs duplicate."""

    __tablename__ = "service_lock"

    name: str = Field(primary_key=True, max_length=40)
    host: str = Field(max_length=200)
    pid: int
    token: str = Field(max_length=64)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    beat_at: datetime = Field(sa_column=utc_column(nullable=False))


class WebSession(SQLModel, table=True):
    """A signed-in staff member's web session. The browser holds a random secret (in a signed
    cookie); only its SHA-256 is stored, so the table cannot be replayed as cookies."""

    __tablename__ = "web_session"

    digest: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    csrf: str = Field(max_length=64, description="the token every form of the session carries")
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    seen_at: datetime = Field(sa_column=utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))


class AuditEntry(SQLModel, table=True):
    """Who saw or did what through the web app: a full A-number or name revealed, a sign-in."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    organization_id: int | None = Field(
        default=None,
        foreign_key="organization.id",
        index=True,
        description="the program whose data it was (none: the deployment's own)",
    )
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    action: str = Field(max_length=40)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    detail: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


class ReminderVia(enum.StrEnum):
    sms = "sms"
    whatsapp = "whatsapp"


class ConsentHow(enum.StrEnum):
    in_person = "in_person"
    phone = "phone"


class ReminderStatus(enum.StrEnum):
    waiting = "waiting"  # due: waiting for an ACIS lookup to confirm it, or for quiet hours to end
    queued = "queued"  # confirmed, in the outbox
    sent = "sent"
    failed = "failed"  # the outbox gave up; the attorney was told
    superseded = "superseded"  # the hearing moved or was cancelled before it went: never sent
    attorney = "attorney"  # could not be confirmed in time: the attorney was told instead
    stopped = "stopped"  # consent withdrawn or reminders paused before it went
    expired = "expired"  # the hearing's time came before it could go


class ReminderContact(SQLModel, table=True):
    """How and whether a client gets hearing reminders: the recorded consent, the number, the
    language. No consent row, or a withdrawn one, means no reminder, ever."""

    __tablename__ = "reminder_contact"

    client_id: int = Field(foreign_key="client.id", primary_key=True)
    # Sealed at rest like staff channels; the keyed digest finds the client of an inbound reply.
    phone: str = Field(sa_column=sa.Column(SealedString(), nullable=False))
    phone_digest: str = Field(default="", max_length=64, index=True)
    via: str = Field(default=ReminderVia.sms.value, sa_column=_enum(ReminderVia, 10))
    language: str = Field(max_length=5, description="a language of the reminder registry")
    timezone: str = Field(
        default="", max_length=40, description="the client's zone; blank: the hearing court's"
    )
    consent: bool = False
    consent_by: str = Field(default="", max_length=200, description="who recorded the consent")
    consent_at: datetime | None = Field(default=None, sa_column=utc_column())
    consent_how: str = Field(default="", max_length=12, description="in_person or phone")
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column())
    withdrawn_how: str = Field(default="", max_length=200, description="a STOP reply, staff ...")
    paused: bool = Field(default=False, description="the attorney paused this client's reminders")
    paused_by: str = Field(default="", max_length=200)
    paused_at: datetime | None = Field(default=None, sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))


@sa.event.listens_for(ReminderContact, "before_insert")
@sa.event.listens_for(ReminderContact, "before_update")
def _seal_phone(mapper: Any, connection: sa.Connection, target: ReminderContact) -> None:
    target.phone_digest = _keyring_for_sealing(connection).digest(target.phone)


class ReminderLanguage(SQLModel, table=True):
    """A reminder language switched on: who reviewed its texts, and which texts (SHA-256).
    Texts changed since (an upgrade) switch the language off until reviewed again."""

    __tablename__ = "reminder_language"

    code: str = Field(primary_key=True, max_length=5)
    reviewed_by: str = Field(max_length=200)
    reviewed_at: datetime = Field(sa_column=utc_column(nullable=False))
    texts_sha256: str = Field(max_length=64)


class Reminder(SQLModel, table=True):
    """One reminder of one hearing to one client under one rule (7 days before, 1 day before,
    moved, cancelled), from the moment it is due to its end (sent, or why not)."""

    __tablename__ = "reminder"
    __table_args__ = (sa.UniqueConstraint("client_id", "rule", "hearing_key", name="uq_reminder"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    rule: str = Field(max_length=12, description="7d, 1d ..., moved, cancelled")
    hearing_key: str = Field(max_length=300, description="the hearing (old>new when moved)")
    hearing: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(sa.JSON, nullable=False),
        description="the hearing the reminder tells (the cancelled one, for cancelled)",
    )
    hearing_starts_at: datetime | None = Field(default=None, sa_column=utc_column())
    status: str = Field(default=ReminderStatus.waiting.value, sa_column=_enum(ReminderStatus, 12))
    due_at: datetime = Field(sa_column=utc_column(nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
    lookup_requested_at: datetime | None = Field(default=None, sa_column=utc_column())
    verified_lookup_id: int | None = Field(default=None, foreign_key="acis_lookup.id")
    deferred_until: datetime | None = Field(default=None, sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column())
    language: str = Field(default="", max_length=5)
    body_sha256: str = Field(default="", max_length=64, description="of the text sent")
    event_id: int | None = Field(default=None, foreign_key="event.id", description="attorney told")
    note: str = Field(default="", max_length=300, description="why it ended as it did")


# APScheduler 3.x's SQLAlchemyJobStore table, declared here so that migrations own it.
APSCHEDULER_JOBS = sa.Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)


class RosterSyncKind(enum.StrEnum):
    file = "file"  # a CSV or XLSX at an https:// address, a file, or the newest file of a folder
    legalserver_report = "legalserver-report"  # LegalServer's Reports API
    legalserver = "legalserver"  # LegalServer's Core API: a search of open matters


class RosterSync(SQLModel, table=True):
    """A program's roster source: where its complete list of active clients is read from."""

    __tablename__ = "roster_sync"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    kind: str = Field(max_length=24)
    source: str = Field(max_length=1000, description="address, path, or report id")
    # Sealed at rest like channel URLs (an API key or a Bearer token).
    token: str | None = Field(default=None, sa_column=sa.Column(SealedString(), nullable=True))
    mapping: dict[str, str] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    options: dict[str, str] = Field(
        default_factory=dict,
        sa_column=sa.Column(sa.JSON, nullable=False),
        description="kind-specific settings (LegalServer's custom field names ...)",
    )
    interval_minutes: int = 60
    enabled: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
    consecutive_failures: int = 0
    failing: bool = Field(default=False, description="admins were told it keeps failing")
    refused_since: datetime | None = Field(
        default=None,
        sa_column=utc_column(),
        description="since when syncs are refused (coordinators told once)",
    )
    rejects_digest: str = Field(
        default="", max_length=64, description="SHA-256 of the rejects last reported"
    )


class RosterSyncRun(SQLModel, table=True):
    """One sync of a program's roster and what it did."""

    __tablename__ = "roster_sync_run"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())
    outcome: str = Field(max_length=12, description="ok, partial, refused, failed, dry-run")
    kind: str = Field(default="", max_length=24)
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    reactivated: int = 0
    rejected: int = 0
    message: str = Field(default="", max_length=2000)


@sa.event.listens_for(RosterSync, "before_insert")
@sa.event.listens_for(RosterSync, "before_update")
def _seal_roster_token(mapper: Any, connection: sa.Connection, target: RosterSync) -> None:
    """A roster source's token is sealed with the database's key (made for the first one)."""
    if target.token is not None:
        _keyring_for_sealing(connection)


class CaseSystem(SQLModel, table=True):
    """A program's LegalServer site, to which hearing changes are written as case notes."""

    __tablename__ = "case_system"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    site: str = Field(max_length=300, description="https://SITE.legalserver.org")
    # Sealed at rest: the API user's personal access token (Bearer).
    token: str = Field(sa_column=sa.Column(SealedString(), nullable=False))
    note_type: str = Field(default="docketwatch", max_length=80, description="a Note Type lookup")
    language: str = Field(default=Language.en.value, sa_column=_enum(Language, 2))
    enabled: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class CaseNote(SQLModel, table=True):
    """A case note written on a client's matter: the dedup key its subject carries, and the
    note's id in the case-management system (a retry finds it there instead of writing twice)."""

    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", unique=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    dedup_key: str = Field(max_length=80, unique=True)
    note_uuid: str = Field(default="", max_length=64)
    written_at: datetime = Field(sa_column=utc_column(nullable=False))


@sa.event.listens_for(CaseSystem, "before_insert")
@sa.event.listens_for(CaseSystem, "before_update")
def _seal_case_token(mapper: Any, connection: sa.Connection, target: CaseSystem) -> None:
    _keyring_for_sealing(connection)


class ApiToken(SQLModel, table=True):
    """A program's token for the read-only JSON API: only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=80, description="what uses it (a spreadsheet, a dashboard)")
    digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column())


# ------------------------------------------------------------------ federal dockets (CourtListener)


class FederalAccount(SQLModel, table=True):
    """The deployment's CourtListener account, one row: its API token (sealed at rest, set with
    ``docketwatch federal_dockets token``), the hour's request budget used, and the time before
    which CourtListener asked not to be called again (its 429's ``Retry-After``)."""

    __tablename__ = "federal_account"

    id: int | None = Field(default=None, primary_key=True)
    token: str | None = Field(default=None, sa_column=sa.Column(SealedString(), nullable=True))
    window_start: datetime | None = Field(default=None, sa_column=utc_column())
    used: int = 0
    not_before: datetime | None = Field(default=None, sa_column=utc_column())


@sa.event.listens_for(FederalAccount, "before_insert")
@sa.event.listens_for(FederalAccount, "before_update")
def _seal_federal_token(mapper: Any, connection: sa.Connection, target: FederalAccount) -> None:
    if target.token is not None:
        _keyring_for_sealing(connection)


class FederalDocket(SQLModel, table=True):
    """A federal docket as CourtListener has it (public record, every program's): its id there,
    the docket alert docketwatch keeps on it, and the newest entry seen (the polling cursor)."""

    __tablename__ = "federal_docket"

    id: int | None = Field(default=None, primary_key=True)
    docket_id: int = Field(unique=True, description="CourtListener's docket id")
    court: str = Field(max_length=20, index=True)
    docket_number: str = Field(max_length=60)
    case_name: str = Field(default="", max_length=300)
    alert_id: int | None = Field(default=None, description="CourtListener's docket alert id")
    last_entry_id: int = Field(default=0, description="the newest docket entry id stored")
    polled_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class FederalCase(SQLModel, table=True):
    """A client's federal case (habeas petition, petition for review), as a program linked it:
    the court and docket number given, and CourtListener's docket once resolved. ``baseline``
    is the newest entry id when the link was resolved: entries up to it are shown, not alerted."""

    __tablename__ = "federal_case"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "court", "docket_number", name="uq_federal_case_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    court: str = Field(max_length=20)
    docket_number: str = Field(max_length=60, description="normalized: 5:25-cv-01234, 25-1234")
    docket_id: int | None = Field(default=None, foreign_key="federal_docket.id", index=True)
    state: str = Field(default="unresolved", max_length=20)  # unresolved, linked, not_found
    message: str = Field(default="", max_length=300)
    baseline: int | None = None
    active: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column())


class FederalEntry(SQLModel, table=True):
    """A docket entry of a linked docket, as CourtListener has it (public record)."""

    __tablename__ = "federal_entry"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(unique=True, description="CourtListener's docket entry id")
    docket_id: int = Field(foreign_key="federal_docket.id", index=True)
    entry_number: int | None = None
    date_filed: date | None = None
    description: str = Field(default="", max_length=4000)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(sa.JSON))
    kinds: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON))
    via: str = Field(default="poll", max_length=10)  # poll, webhook, link (the baseline)
    seen_at: datetime = Field(sa_column=utc_column(nullable=False))


class FederalHearing(SQLModel, table=True):
    """A hearing a docket entry set (or reset), for the attorneys' calendar feeds."""

    __tablename__ = "federal_hearing"

    id: int | None = Field(default=None, primary_key=True)
    docket_id: int = Field(foreign_key="federal_docket.id", index=True)
    entry_id: int = Field(foreign_key="federal_entry.id", unique=True)
    hearing_on: date
    starts_at: datetime | None = Field(default=None, sa_column=utc_column())
    what: str = Field(default="", max_length=200)
    seen_at: datetime = Field(sa_column=utc_column(nullable=False))


class FederalWebhook(SQLModel, table=True):
    """A DOCKET_ALERT webhook event received, by its Idempotency-Key: a replay is answered and
    dropped; the body waits here until its entries are confirmed through the API."""

    __tablename__ = "federal_webhook"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    received_at: datetime = Field(sa_column=utc_column(nullable=False))
    body: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    state: str = Field(default="pending", max_length=20)  # pending, done
    note: str = Field(default="", max_length=300)
    done_at: datetime | None = Field(default=None, sa_column=utc_column())
