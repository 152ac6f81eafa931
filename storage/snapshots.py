"""Typed observations that spiders produce and the monitor compares: they meet in storage."""

from __future__ import annotations

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
