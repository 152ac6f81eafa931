"""Typed observations that spiders produce and the monitor compares: they meet in storage."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class HearingSnapshot(BaseModel):
    """The next hearing as a source shows it, court-local (date, 12-hour time, zone)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: str  # YYYY-MM-DD, court-local
    time: str = ""  # "8:30 AM"
    timezone: str = ""  # IANA zone of the court; "" when unknown
    court: str = ""  # EOIR base city, e.g. ADL
    court_name: str = ""
    location: str = ""  # hearing location code or address
    judge: str = ""
    medium: str = ""  # In person / Video / Internet-based
    calendar_type: str = ""  # master / individual
    schedule_type: str = ""
    webex: str = ""  # an https: meeting link, or "" (anything else is dropped)

    @field_validator("webex")
    @classmethod
    def _https_only(cls, value: str) -> str:
        from storage.urls import https_only

        return https_only(value)

    def as_payload(self) -> dict[str, Any]:
        return self.model_dump(exclude_defaults=False)


def clock_of(text: str) -> time | None:
    """ACIS's 12-hour time of day ("8:30 AM") as a time; None when it is not one."""
    try:
        clock, half = text.strip().upper().split()
        hour, minute = (int(x) for x in clock.split(":"))
        return time(hour % 12 + (12 if half == "PM" else 0), minute)
    except ValueError:
        return None


class Outcome(enum.StrEnum):
    ok = "ok"
    not_found = "not_found"
    invalid_nationality = "invalid_nationality"
    unavailable = "unavailable"
    blocked = "blocked"
    upstream_error = "upstream_error"
    layout_changed = "layout_changed"
    timed_out = "timed_out"  # ACIS was too slow to answer: says nothing about the case


#: Outcomes that say something about the case (as opposed to about the source's health).
CASE_OUTCOMES = {Outcome.ok, Outcome.not_found, Outcome.invalid_nationality, Outcome.unavailable}


class CaseStatus(BaseModel):
    """What ACIS says about the case, beyond the next hearing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: int | None = None
    base_city: str = ""
    case_type: str = ""
    decision_code: str = ""
    decision_text: str = ""
    completed_on: date | None = None
    appeal_due_on: date | None = None
    appeal_filed: bool = False
    appeal_filed_on: date | None = None
    pending_at_bia: bool = False


class AcisObservation(BaseModel):
    """One lookup's result, normalized. ``raw_sha256`` identifies the exact body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    language: str = "EN"
    http_status: int
    message: str = ""
    hearing: HearingSnapshot | None = None
    status: CaseStatus | None = None
    raw_sha256: str


class CustodyOutcome(enum.StrEnum):
    found = "found"
    zero = "zero"
    ambiguous = "ambiguous"  # the locator's "Internal Error" page
    blocked = "blocked"  # captcha or "Access Denied"
    error = "error"
    layout_changed = "layout_changed"
    timed_out = "timed_out"  # the locator was too slow to answer: says nothing about custody


class CustodyObservation(BaseModel):
    """One ICE locator lookup, classified; a found result carries status and facility."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: CustodyOutcome
    detained: bool | None = None  # None unless found
    status_text: str = ""
    country_of_birth: str = ""
    state: str = ""
    facility_name: str = ""
    facility_address: tuple[str, ...] = ()
    facility_phone: str = ""
    message: str = ""
    raw_sha256: str = ""


# -- ICE detention statistics: one workbook's Facilities sheet --------------------------------


@dataclass
class FacilityRow:
    name: str
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    aor: str = ""
    type: str = ""
    gender: str = ""
    alos: float | None = None
    level_a: float = 0.0
    level_b: float = 0.0
    level_c: float = 0.0
    level_d: float = 0.0
    adp: float = 0.0
    male_crim: float | None = None
    male_noncrim: float | None = None
    female_crim: float | None = None
    female_noncrim: float | None = None
    threat_1: float | None = None
    threat_2: float | None = None
    threat_3: float | None = None
    no_threat: float | None = None
    mandatory: float | None = None
    guaranteed_minimum: int | None = None
    last_inspection_type: str = ""
    last_inspection_standard: str = ""
    last_inspection_rating: str = ""
    last_inspection_date: str | None = None  # ISO date
    last_inspection_note: str = ""  # text in the date column, e.g. "Scheduled FY26"
    row: int = 0  # 1-based worksheet row
    checks: list[str] = field(default_factory=list)  # failed sanity checks

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Edition:
    file: str
    sheet: str
    fiscal_year: int | None  # of the Facilities sheet
    workbook_fiscal_year: int | None  # from the file name or the other sheets
    data_as_of: str | None  # ISO date of the IIDS data pull
    stale: bool
    stale_reason: str
    header_row: int  # 1-based
    facilities: list[FacilityRow]
    dropped_rows: int  # footnotes, repeated headers, empty rows

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["facilities"] = [f.as_dict() for f in self.facilities]
        return d


# -- EOIR court status: one court as the status page lists it ---------------------------------


@dataclass
class CourtRow:
    slug: str
    name: str
    status: str
    address: str = ""
    code: str = ""
    closed: bool = False
    closed_days: list[date] = field(default_factory=list)
