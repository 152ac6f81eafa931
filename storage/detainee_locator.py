"""Storing ICE locator lookups, and matching the locator's facility names to Facility rows.

The locator writes one place many ways ("ADELANTO ICE PROCESSING CENTER", "Adelanto ICE
Processing Center", "ADELANTO CORRECTIONAL FACILITY"): names are compared by a key that keeps
the distinctive words. A facility no row matches is created once, from its detail page.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.bulk import table
from storage.models import Client, CustodyLookup, Facility
from storage.snapshots import CustodyObservation

_GENERIC = {
    "ICE",
    "PROCESSING",
    "CENTER",
    "CENTRE",
    "CTR",
    "FACILITY",
    "FAC",
    "DETENTION",
    "DET",
    "CORRECTIONAL",
    "CONTRACT",
    "FEDERAL",
    "FED",
    "COUNTY",
    "JAIL",
    "THE",
    "OF",
    "AND",
    "REGIONAL",
    "REG",
    "ADULT",
    "SERVICE",
    "SERVICES",
    "INC",
    "CORE",
    "CIVIC",
    "GEO",
}


def facility_key(name: str) -> str:
    """``"Adelanto ICE Processing Center"`` -> ``"ADELANTO"``; ``"DESERT VIEW ANNEX"`` ->
    ``"DESERT VIEW ANNEX"``."""
    text = re.sub(r"\(.*?\)", " ", name.upper())
    words = re.findall(r"[A-Z0-9]+", text)
    kept = [w for w in words if w not in _GENERIC]
    return " ".join(kept) or " ".join(words)


def match_facility(session: Session, name: str) -> Facility | None:
    key = facility_key(name)
    for facility in session.exec(select(Facility)):
        if facility_key(facility.name) == key:
            return facility
    return None


def create_facility(session: Session, name: str, address: tuple[str, ...], state: str) -> Facility:
    """A facility the locator named and no row matches, from its detail page."""
    street = address[0] if address else ""
    city, zip_code = "", ""
    if len(address) >= 2:
        match = re.match(r"^(.*?),\s*([A-Z]{2})\s+(\d{5})", address[-1])
        if match:
            city, state, zip_code = match.group(1), match.group(2), match.group(3)
    facility = Facility(
        name=" ".join(name.split()).upper(),
        address=street,
        city=city,
        state=state[:2],
        zip=zip_code,
        aor="",
        type="",
    )
    session.add(facility)
    session.flush()
    return facility


def record(
    session: Session,
    client: Client,
    observation: CustodyObservation,
    raw: str,
    now: datetime,
    *,
    facility_id: int | None = None,
    attempts: int = 1,
    crawl_run_id: int | None = None,
) -> int:
    """Store one lookup (Core insert, once per client per cycle); return its id."""
    inserted = session.connection().execute(
        sa.insert(table(CustodyLookup)).values(
            client_id=client.id,
            crawl_run_id=crawl_run_id,
            observed_at=now,
            outcome=observation.outcome.value,
            detained=observation.detained,
            status_text=observation.status_text[:80],
            facility_id=facility_id,
            facility_name=observation.facility_name[:160],
            facility_address="|".join(observation.facility_address)[:300],
            state=observation.state[:2],
            message=observation.message,
            attempts=attempts,
            raw_sha256=observation.raw_sha256,
            raw=raw,
        )
    )
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])
