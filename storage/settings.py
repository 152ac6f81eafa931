"""The one settings module: the only place that reads the environment.

Values come, highest priority first, from keyword arguments, environment variables
(``DOCKETWATCH_*``, plus the conventional ``DATABASE_URL``), a ``docketwatch.toml`` file
(path from ``DOCKETWATCH_CONFIG``, default ``./docketwatch.toml``), then the defaults below.
Everything else in the code receives these values as arguments.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_USER_AGENT = (
    "docketwatch/0.1 (legal-services case monitor; one lookup at a time; "
    "contact: set DOCKETWATCH_USER_AGENT)"
)


#: old setting name -> its name now (a source's settings are prefixed with the source's name)
RENAMED: dict[str, str] = {}


def renamed(old: str, new: str) -> AliasChoices:
    """Where a renamed setting is read from: its own environment variable, and its old name in the
    environment and in the TOML file, so that a working deployment keeps working after an
    upgrade. (Its new name in the TOML file is read through ``populate_by_name``.)"""
    RENAMED[old] = new
    return AliasChoices(f"DOCKETWATCH_{new.upper()}", f"DOCKETWATCH_{old.upper()}", old)


def _source_names() -> tuple[str, ...]:
    from storage.sources import SOURCES

    return tuple(SOURCES)


def config_file_path() -> Path:
    """Where the optional TOML file is looked for."""
    return Path(os.environ.get("DOCKETWATCH_CONFIG", "docketwatch.toml"))


def _words(value: Any) -> Any:
    """A list setting given as text (the environment's ``a,b c``): its words."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return value


class Settings(BaseSettings):
    """Effective configuration of one docketwatch process."""

    model_config = SettingsConfigDict(
        env_prefix="DOCKETWATCH_",
        extra="forbid",
        populate_by_name=True,
    )

    database_url: str = Field(
        default="sqlite:///data/docketwatch.db",
        validation_alias=AliasChoices("DATABASE_URL", "DOCKETWATCH_DATABASE_URL", "database_url"),
        description=(
            "SQLAlchemy URL of the database. Default: a SQLite file under ./data (WAL mode). "
            "For PostgreSQL: postgresql+psycopg://user:password@host/dbname."
        ),
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite file, downloads, captured payloads and mailboxes.",
    )
    browser_executable: Path = Field(
        default=Path("/usr/bin/chromium"),
        description="Chromium binary Playwright launches (Debian's chromium by default).",
    )
    browser_headless_executable: Path = Field(
        default=Path("/usr/bin/chromium-headless-shell"),
        description=(
            "Chromium's headless shell (Debian's chromium-headless-shell), launched whenever the "
            "browser runs headless: the same engine without a browser's windows, for a third of "
            "the CPU a lookup takes. Missing, browser_executable runs headless instead."
        ),
    )
    browser_headed: bool = Field(
        default=False,
        description=(
            "Run the browser headed (the real ACIS rejects headless browsers; run under Xvfb "
            "on a server). Headless is fine against the sandbox."
        ),
    )
    browser_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "How long a browser lookup waits for an element of the page (twice this for the "
            "site's answer, three times for a page load); a page still loading then is recorded "
            "as timed_out, a loaded page without the element as layout_changed."
        ),
    )
    user_agent: str = Field(
        default=DEFAULT_USER_AGENT,
        description="User agent declared on every plain HTTP request to a public source.",
    )
    timezone: str = Field(
        default="America/Los_Angeles",
        description="Zone of the organization: quiet hours, digests and report dates.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Level of the service's log (stderr)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "The log's form: readable text lines, or one JSON object a line (time, level, "
            "logger, message, source, run id, client as ***1234) for journald, Loki or any "
            "collector."
        ),
    )
    heartbeat_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the running service logs and records its heartbeat.",
    )

    acis_base_url: str = Field(
        default="https://acis.eoir.justice.gov",
        description="Address of EOIR's case status site (the sandbox's address in tests/demo).",
    )
    acis_language: Literal["EN", "ES"] = Field(
        default="EN", description="Language of ACIS lookups (EN or ES)."
    )
    acis_pace_seconds: float = Field(
        default=20.0,
        ge=0,
        description="Pause between two ACIS lookups (one at a time, at a person's pace).",
    )
    detainee_locator_base_url: str = Field(
        validation_alias=renamed("locator_base_url", "detainee_locator_base_url"),
        default="https://locator.ice.gov",
        description="Address of ICE's Online Detainee Locator (the replica's in tests/demo).",
    )
    detainee_locator_pace_seconds: float = Field(
        validation_alias=renamed("locator_pace_seconds", "detainee_locator_pace_seconds"),
        default=20.0,
        ge=0,
        description="Pause between two ICE locator lookups.",
    )
    detainee_locator_zero_attempts: int = Field(
        validation_alias=renamed("locator_zero_attempts", "detainee_locator_zero_attempts"),
        default=3,
        ge=1,
        description="Tries, in fresh browser contexts, before one lookup counts as 'zero'.",
    )
    detainee_locator_zero_repeats: int = Field(
        validation_alias=renamed("custody_zero_repeats", "detainee_locator_zero_repeats"),
        default=3,
        ge=1,
        description="Zero-result lookups in a row before a detained client is 'not found'.",
    )
    detainee_locator_zero_spacing_hours: float = Field(
        validation_alias=renamed(
            "custody_zero_spacing_hours", "detainee_locator_zero_spacing_hours"
        ),
        default=6.0,
        ge=0,
        description="Those zero results must span at least (repeats - 1) x this many hours.",
    )
    acis_not_found_repeats: int = Field(
        default=2, ge=1, description="Consecutive 'no case' lookups before case_not_found."
    )
    eoir_foia_url: str = Field(
        validation_alias=renamed("foia_url", "eoir_foia_url"),
        default="https://fileshare.eoir.justice.gov/EOIR%20Case%20Data.zip",
        description="Address of EOIR's bulk FOIA case data (the sandbox's in tests/demo).",
    )
    eoir_foia_courts: Annotated[list[str], NoDecode] = Field(
        validation_alias=renamed("foia_courts", "eoir_foia_courts"),
        default=["ADL", "LOS", "NLA", "WLA", "VNS", "LAD", "SNC", "IMP", "OTM", "SND"],
        description="Base-city codes whose proceedings are kept in detail from each FOIA release.",
    )
    eoir_foia_alert_court: str = Field(
        validation_alias=renamed("foia_alert_court", "eoir_foia_alert_court"),
        default="ADL",
        description="Court whose new unrepresented detained cases coordinators are told of.",
    )
    eoir_foia_memory_mb: int = Field(
        validation_alias=renamed("foia_memory_mb", "eoir_foia_memory_mb"),
        default=600,
        ge=100,
        description="Memory the FOIA loader's query engine may use before spilling to disk.",
    )
    court_status_base_url: str = Field(
        default="https://www.justice.gov",
        description="EOIR's site with the court status and court pages (the sandbox's in tests).",
    )
    court_status_closure_days: int = Field(
        validation_alias=renamed("court_closure_days", "court_status_closure_days"),
        default=2,
        ge=0,
        le=30,
        description=(
            "When a closure notice names no dates: hearings today and this many days ahead are "
            "treated as affected."
        ),
    )
    detention_stats_url: str = Field(
        validation_alias=renamed("ice_stats_url", "detention_stats_url"),
        default="https://www.ice.gov/detain/detention-management",
        description="ICE's detention-management page with the statistics workbooks.",
    )
    federal_dockets_url: str = Field(
        default="https://www.courtlistener.com/api/rest/v4",
        description=(
            "CourtListener's REST API v4 base (the sandbox's in tests); the token is set with "
            "`docketwatch federal_dockets token`, sealed like channel URLs."
        ),
    )
    federal_dockets_interval_minutes: float = Field(
        default=30.0,
        gt=0,
        description=(
            "How often the service polls linked federal dockets for new entries (the fallback "
            "and catch-up behind CourtListener's docket-alert webhooks)."
        ),
    )
    federal_dockets_requests_per_hour: int = Field(
        default=500,
        ge=1,
        le=5000,
        description=(
            "Most CourtListener API requests docketwatch makes in an hour (CourtListener "
            "throttles accounts and says so with 429); polling stops at the budget and resumes."
        ),
    )
    federal_dockets_webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The secret in the webhook address registered at CourtListener "
            "(/hooks/federal_dockets/courtlistener/SECRET): CourtListener does not sign its "
            "webhooks, so a request without it is refused. Unset: webhooks are refused and "
            "polling alone watches the dockets."
        ),
    )
    federal_dockets_courts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["cacd", "ca9"],
        description=(
            "CourtListener court ids `federal_dockets suggest` searches a client's name in "
            "(comma- or space-separated in the environment)."
        ),
    )
    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(_source_names()),
        description="Sources the service polls (comma-separated in the environment).",
    )
    acis_interval_minutes: float = Field(
        default=60.0,
        gt=0,
        description="How often the service runs a budgeted batch of ACIS lookups.",
    )
    detainee_locator_interval_minutes: float = Field(
        validation_alias=renamed("locator_interval_minutes", "detainee_locator_interval_minutes"),
        default=60.0,
        gt=0,
        description="How often the service runs a budgeted batch of locator lookups.",
    )
    eoir_foia_interval_hours: float = Field(
        validation_alias=renamed("foia_interval_hours", "eoir_foia_interval_hours"),
        default=8.0,
        gt=0,
        description="How often the service asks whether a FOIA release is out.",
    )
    detention_stats_interval_hours: float = Field(
        validation_alias=renamed("stats_interval_hours", "detention_stats_interval_hours"),
        default=24.0,
        gt=0,
        description="How often the service looks for a new ICE statistics workbook.",
    )
    court_status_interval_hours: float = Field(
        default=6.0, gt=0, description="How often the service reads EOIR's court status page."
    )
    schedule_jitter_seconds: float = Field(
        default=300.0, ge=0, description="Random delay added to each scheduled run (politeness)."
    )
    watchdog_minutes: float = Field(
        default=15.0, gt=0, description="How often the service checks that every source is fresh."
    )
    browser_lookups_per_hour: int = Field(
        default=20, ge=0, description="Browser lookups per hour per source (ACIS, locator)."
    )
    browser_hours: str = Field(
        default="7-21",
        pattern=r"^\d{1,2}-\d{1,2}$",
        description="Local hours in which browser lookups run, e.g. 7-21 (7:00 to 20:59).",
    )
    source_failure_threshold: int = Field(
        default=3,
        ge=1,
        description="Consecutive failing runs of a source before admins get source_unhealthy.",
    )
    crawl_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="A crawl process running longer than this is stopped."
    )
    dispatch_seconds: float = Field(
        default=30.0, gt=0, description="How often the service sends due alerts."
    )
    delivery_max_attempts: int = Field(
        default=5,
        ge=1,
        le=50,
        description=(
            "Attempts per alert delivery before it is given up, its channel marked failing and "
            "the admins told."
        ),
    )
    delivery_backoff_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wait before the first retry of a failed delivery; doubles on each retry.",
    )
    delivery_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait between two tries of a delivery."
    )
    escalation_minutes: float = Field(
        default=60.0,
        gt=0,
        description=(
            "An urgent client alert not acknowledged within this many minutes goes to the "
            "client's backup attorney, and as long again later to the coordinators."
        ),
    )
    digest_hour: int = Field(
        default=7, ge=0, le=23, description="Local hour at which daily digests are sent."
    )
    web_base_url: str | None = Field(
        default=None,
        description=(
            "Public address of docketwatch's small web endpoint (e.g. https://dw.example.org); "
            "when set, alerts carry an acknowledgement link."
        ),
    )
    web_listen: str | None = Field(
        default=None,
        description=(
            "host:port the web app listens on (e.g. 127.0.0.1:8470); `docketwatch run` serves it "
            "when set, `docketwatch web` serves it alone."
        ),
    )
    ack_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Secret that signs acknowledgement links and the web app's session cookies "
            "(required with web_base_url and web_listen)."
        ),
    )
    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "OpenID Connect issuer for signing in with the organization's account, e.g. "
            "https://login.microsoftonline.com/TENANT-ID/v2.0 or https://accounts.google.com."
        ),
    )
    oidc_client_id: str | None = Field(
        default=None, description="The web app's client id at the sign-in provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="The web app's client secret at the sign-in provider."
    )
    oidc_label: str = Field(
        default="your organization's account",
        description="What the sign-in button names (e.g. Microsoft 365, Google).",
    )
    legalserver_a_number_field: str = Field(
        default="a_number",
        max_length=80,
        description=(
            "Where a LegalServer matter keeps the client's A-number (Core API roster sync): a "
            "matter field (a_number) or a custom field's database name (e.g. a_number_123)."
        ),
    )
    legalserver_nationality_field: str = Field(
        default="citizenship",
        max_length=80,
        description=(
            "Where a LegalServer matter keeps the client's nationality (Core API roster sync): "
            "a matter field (citizenship) or a custom field's database name."
        ),
    )
    roster_sync_max_deactivate_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description=(
            "A roster sync whose source omits more than this share of the active clients it "
            "listed last time is refused whole (nothing stored; coordinators told once): a "
            "truncated export must never stop watching everyone. `clients sync --force` "
            "overrides it."
        ),
    )
    roster_max_rows: int = Field(
        default=50_000,
        ge=1,
        description=(
            "The most rows a roster file may have (a program's roster is a few thousand): a "
            "larger file is refused before anything is stored."
        ),
    )
    web_channels_private: bool = Field(
        default=False,
        description=(
            "Let a program's admin add, on the web, alert channels that reach loopback, private, "
            "link-local or metadata addresses (a deployment for one program whose mail server is "
            "on its own network). Off: such a channel is refused; the CLI (the host's admin) "
            "may always add one."
        ),
    )
    web_workers: int = Field(
        default=2,
        ge=0,
        le=32,
        description=(
            "Worker processes that serve the web app for `docketwatch run` and `docketwatch web`, "
            "so pages never slow the scheduler's heartbeat and alerts (0: a thread of the "
            "service's own process, for a small machine)."
        ),
    )
    web_connections_per_address: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description=(
            "Connections one address may hold open to one web worker; more are answered 503 "
            "and closed, so one client's sockets never refuse everyone else. Behind the HTTPS "
            "proxy every connection comes from the proxy: keep this above its upstream "
            "connections and let the proxy limit each client."
        ),
    )
    web_requests_in_flight: int = Field(
        default=32,
        ge=1,
        le=1000,
        description=(
            "Requests a web worker works on at once; more wait up to 5 s for their turn, then "
            "get 503 with Retry-After. /health is answered outside this limit."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token Prometheus sends to read /metrics on the web app; unset, only "
            "loopback may read it."
        ),
    )
    raw_answer_days: int = Field(
        default=180,
        ge=1,
        le=36500,
        description=(
            "Days an ACIS or locator raw answer is kept (the newest of each client always is); "
            "a daily pass drops older ones."
        ),
    )
    closed_client_days: int = Field(
        default=730,
        ge=1,
        le=36500,
        description=(
            "Days a closed or deactivated client's personal data is kept after their last "
            "change; the daily pass then erases it (the anonymous counts stay)."
        ),
    )
    backup_dir: Path | None = Field(
        default=None,
        description=(
            "Folder for the nightly backups (`docketwatch backup`), each "
            "docketwatch-YYYYMMDD-HHMMSS.tar; unset: no nightly backup."
        ),
    )
    backup_keep: int = Field(
        default=7, ge=1, le=3650, description="How many nightly backups are kept (the newest)."
    )
    backup_hour: int = Field(
        default=2, ge=0, le=23, description="Local hour of the nightly backup."
    )
    web_trusted_proxies: str = Field(
        default="127.0.0.1",
        description=(
            "Addresses (comma-separated, or *) of the HTTPS proxy in front of the web app, whose "
            "X-Forwarded-For and X-Forwarded-Proto headers are believed."
        ),
    )
    sqlite_busy_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long a write to a SQLite database waits for another's lock before it "
        "fails (the failure is told to admins as a service fault).",
    )
    secrets_key_file: Path | None = Field(
        default=None,
        description=(
            "File of the key that seals staff channels' URLs in the database (created owner-only "
            "with the first channel). Default: beside a SQLite database (data/docketwatch.key); "
            "for PostgreSQL, ~/.config/docketwatch/secrets.key. Back it up apart from the database."
        ),
    )

    leader_lease_seconds: float = Field(
        default=120.0,
        ge=5,
        description=(
            "The scheduler's lease on the database: renewed at every heartbeat; a scheduler "
            "silent this long (its machine down) is taken over by one started with --standby."
        ),
    )
    node_name: str = Field(
        default="",
        max_length=200,
        description="This machine's name in the scheduler's lease (default: its host name).",
    )
    organization: str = Field(
        default="",
        max_length=40,
        validation_alias=AliasChoices(
            "DOCKETWATCH_ORG", "DOCKETWATCH_ORGANIZATION", "organization"
        ),
        description=(
            "The program (its slug) the CLI's commands work on when the deployment serves "
            "several; `--org SLUG` does the same for one command."
        ),
    )
    redis_url: str = Field(
        default="",
        max_length=500,
        validation_alias=AliasChoices("REDIS_URL", "DOCKETWATCH_REDIS_URL", "redis_url"),
        description=(
            "Redis of a pool of workers (redis://host:6379/0): when set, the scheduler queues "
            "ACIS lookups and source checks there for `docketwatch worker` processes on any "
            "machine; empty (the default): one process does everything, as for one program."
        ),
    )
    pool_lookups_per_minute: int = Field(
        default=6,
        ge=0,
        description=(
            "The pool's budget of ACIS lookups per minute, shared by every worker on every "
            "machine (a sliding minute, kept in Redis); 0 lifts it (for trying only)."
        ),
    )
    worker_heartbeat_seconds: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description=(
            "A worker silent this long is taken for dead: the lookup it held goes to another."
        ),
    )
    program_phone: str = Field(
        default="",
        max_length=40,
        description="The program's phone number that client reminders give (required for them).",
    )
    reminder_gateway_url: SecretStr | None = Field(
        default=None,
        description=(
            "Apprise URL of the SMS and WhatsApp gateway for client reminders, without the "
            "recipient, e.g. twilio://ACCOUNT_SID:AUTH_TOKEN@+12135550100; the client's number "
            "is added to it (w: before it for WhatsApp). Unset: no reminder is sent."
        ),
    )
    reminder_webhook_token: SecretStr | None = Field(
        default=None,
        description=(
            "The key the gateway signs inbound replies with (Twilio: the auth token); default: "
            "the auth token in reminder_gateway_url."
        ),
    )
    reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [7, 1],
        description="Days before a hearing on which the client is reminded, e.g. 7,1.",
    )
    reminder_send_hour: int = Field(
        default=10,
        ge=0,
        le=23,
        description="Hour of the day (the client's zone) at which a day's reminders come due.",
    )
    reminder_quiet_hours: str = Field(
        default="21-8",
        pattern=r"^\d{1,2}-\d{1,2}$",
        description="Local hours (the client's zone) in which no reminder is sent, e.g. 21-8.",
    )
    reminder_verify_hours: float = Field(
        default=24.0,
        gt=0,
        le=24,
        description="A reminder goes only if an ACIS lookup at most this old confirms the hearing.",
    )
    reminder_recheck_minutes: float = Field(
        default=60.0,
        gt=0,
        description=(
            "When a reminder comes due and the last ACIS lookup is older than this, a fresh "
            "lookup is asked for first, and the reminder waits for it (see the next setting)."
        ),
    )
    reminder_recheck_wait_minutes: float = Field(
        default=180.0,
        gt=0,
        description=(
            "How long a due reminder waits for that fresh lookup before a lookup within "
            "reminder_verify_hours is enough."
        ),
    )
    reminder_deadline_hours: float = Field(
        default=8.0,
        gt=0,
        description=(
            "A reminder not confirmed this long after it came due (or 2 hours before the "
            "hearing, if sooner) is not sent: the attorney is told instead."
        ),
    )
    reminder_pass_minutes: float = Field(
        default=10.0, gt=0, description="How often the service works through due reminders."
    )
    reminder_texts_dir: Path | None = Field(
        default=None,
        description="A folder of extra or replacement reminder languages (TOML files).",
    )

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days_list(cls, value: Any) -> Any:
        value = _words(value)
        if isinstance(value, list):
            try:
                days = sorted({int(v) for v in value}, reverse=True)
            except (TypeError, ValueError):
                raise ValueError(f"{value!r} is not a list of whole days like 7,1") from None
            if not days or days[-1] < 1 or days[0] > 60:
                raise ValueError("reminder_days must be whole days from 1 to 60, e.g. 7,1")
            return days
        return value

    @field_validator("reminder_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        a, b = (int(x) for x in value.split("-"))
        if not (0 <= a <= 23 and 0 <= b <= 23 and a != b):
            raise ValueError(f"{value!r} is not an hour range like 21-8")
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _source_list(cls, value: Any) -> Any:
        from storage.sources import SOURCES

        known = set(SOURCES)
        value = _words(value)
        if isinstance(value, list):
            for v in value:
                if v not in known:
                    raise ValueError(f"unknown source {v!r} (known: {', '.join(sorted(known))})")
        return value

    @field_validator("federal_dockets_courts", mode="before")
    @classmethod
    def _federal_courts(cls, value: Any) -> Any:
        value = _words(value)
        if isinstance(value, list):
            for v in value:
                if not re.fullmatch(r"[a-z0-9]{2,15}", str(v)):
                    raise ValueError(f"{v!r} is not a CourtListener court id (like cacd, ca9)")
        return value

    @field_validator("eoir_foia_courts", mode="before")
    @classmethod
    def _court_list(cls, value: Any) -> Any:
        value = _words(value)
        if isinstance(value, list):
            out = []
            for v in value:
                code = str(v).strip().upper()
                if len(code) != 3 or not code.isalpha():
                    raise ValueError(f"{v!r} is not a three-letter EOIR base-city code")
                out.append(code)
            return out
        return value

    @field_validator("eoir_foia_alert_court")
    @classmethod
    def _court_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"{value!r} is not a three-letter EOIR base-city code")
        return code

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @model_validator(mode="after")
    def _ack_links_need_a_secret(self) -> Settings:
        if self.web_base_url and not self.ack_secret:
            raise ValueError(
                "web_base_url is set but ack_secret is not: acknowledgement links must be signed"
            )
        if self.delivery_backoff_max_seconds < self.delivery_backoff_seconds:
            raise ValueError(
                "delivery_backoff_max_seconds is smaller than delivery_backoff_seconds"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file_path())
        return (init_settings, env_settings, toml)

    def masked(self) -> dict[str, str]:
        """Every setting as text, with passwords and tokens masked, for display."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            text = "(not set)" if value is None else str(value)
            if isinstance(value, SecretStr):
                text = "***"
            if name == "database_url":
                text = mask_url(text)
            out[name] = text
        return out


#: query parameters of an Apprise URL that name people or formats, never secrets
_PLAIN_QUERY = {
    "to",
    "from",
    "cc",
    "bcc",
    "mode",
    "format",
    "name",
    "smtp",
    "port",
    "user",
    "lang",
    "overflow",
    "region",
    "priority",
}
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+(?::\d+)?$|^localhost(?::\d+)?$")


def _split_authority(rest: str) -> tuple[str, str, str]:
    """``user:pass@host/path`` -> (credentials, host, "/path"). Credentials end at the *last*
    ``@`` before the first ``/``, so a password with an ``@`` in it stays whole."""
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    return (credentials + at, host, slash + path)


#: where the pool of workers keeps its tasks in Redis (``redis_url``): Dramatiq's namespace and
#: queue (checks.pool queues there; ``docketwatch doctor`` counts what waits)
POOL_NAMESPACE = "docketwatch"
POOL_QUEUE = "docketwatch"


def mask_url(url: str) -> str:
    """Hide the password part of a URL: ``postgresql://u:***@host/db``."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    rest, question, query = rest.partition("?")
    credentials, host, path = _split_authority(rest)
    if ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***@"
    pairs = []
    for pair in query.split("&") if query else []:
        key, eq, value = pair.partition("=")
        secret = any(word in key.lower() for word in ("pass", "secret", "token", "key"))
        pairs.append(key + eq + ("***" if secret and eq else value))
    return f"{scheme}://{credentials}{host}{path}{question}{'&'.join(pairs)}"


def _hide(text: str) -> str:
    return text[:4] + "***" if text else text


def mask_channel(url: str) -> str:
    """An Apprise URL as it may be shown: its scheme, user, host and recipients; every password,
    token and key hidden (``tgram://1234***/9876***``, ``slack://T1JJ***/A1BR***/TIia***``,
    ``mailto://ana:***@smtp.example.org?to=ana@example.org&pass=***``)."""
    if "://" not in url:
        return _hide(url)
    scheme, rest = url.split("://", 1)
    rest, question, query = rest.partition("?")
    credentials, host, path = _split_authority(rest)
    if credentials:
        user = credentials[:-1].split(":", 1)[0]
        credentials = f"{user}:***@" if ":" in credentials else f"{user}@"
    if host and not _HOST.match(host):  # a token where a host would be (tgram://BOT:TOKEN/..)
        host = _hide(host)
    segments = []
    for segment in path.split("/")[1:]:
        shown = segment if "@" in segment or len(segment) < 6 else segment[:4] + "***"
        segments.append(shown)
    pairs = []
    for pair in query.split("&") if query else []:
        key, eq, value = pair.partition("=")
        pairs.append(key + eq + (value if key.lower() in _PLAIN_QUERY else "***" if eq else ""))
    masked_path = "".join("/" + x for x in segments)
    return f"{scheme}://{credentials}{host}{masked_path}{question}{'&'.join(pairs)}"


def field_help() -> dict[str, str]:
    """Help text per setting (used by ``docketwatch config --help`` and the docs test)."""
    return {name: field.description or "" for name, field in Settings.model_fields.items()}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising :class:`storage.errors.ConfigError` with what and where."""
    from pydantic import ValidationError

    from storage.errors import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings ({problems}); check the environment and {config_file_path()}"
        ) from exc
