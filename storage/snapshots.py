"""Typed observations that spiders produce and the monitor compares: they meet in storage."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict


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
    webex: str = ""

    def as_payload(self) -> dict[str, Any]:
        return self.model_dump(exclude_defaults=False)


class Outcome(enum.StrEnum):
    ok = "ok"
    not_found = "not_found"
    invalid_nationality = "invalid_nationality"
    unavailable = "unavailable"
    blocked = "blocked"
    upstream_error = "upstream_error"
    layout_changed = "layout_changed"


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
