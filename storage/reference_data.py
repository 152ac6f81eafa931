"""Reference data loaded by ``docketwatch init``: EOIR nationality codes, the Southern
California courts and hearing locations, and the Adelanto and Desert View facilities.

Loading is an upsert by code, so running it again after an edit updates rows and never
duplicates them. Rows that staff or spiders added (a new facility the locator reported) are
left alone.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.identifiers import nationalities
from storage.models import Court, Facility, HearingLocation, Nationality


@dataclass
class ReferenceCounts:
    nationalities: int
    courts: int
    hearing_locations: int
    facilities: int


def _socal() -> dict[str, Any]:
    text = resources.files("storage.reference").joinpath("socal.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _upsert(session: Session, model: type[Any], key: str, rows: list[dict[str, Any]]) -> int:
    existing = {
        getattr(obj, key): obj
        for obj in session.exec(
            select(model).where(getattr(model, key).in_([r[key] for r in rows]))
        )
    }
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            session.add(model(**row))
        else:
            for field, value in row.items():
                setattr(obj, field, value)
    return len(rows)


#: the advisory lock that serializes loads on PostgreSQL (the migrations' key, plus one)
REFERENCE_LOCK = 0x646B7775


def load_reference_data(engine: sa.Engine) -> ReferenceCounts:
    data = _socal()
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            # Services started at once on a new database: one loads, the others then update.
            lock = sa.text("SELECT pg_advisory_xact_lock(:key)")
            session.execute(lock, {"key": REFERENCE_LOCK})
        nats = [
            {"code": n.code, "name": n.name, "active": n.active} for n in nationalities().values()
        ]
        counts = ReferenceCounts(
            nationalities=_upsert(session, Nationality, "code", nats),
            courts=_upsert(session, Court, "code", data["courts"]),
            hearing_locations=0,
            facilities=0,
        )
        session.flush()
        counts.hearing_locations = _upsert(
            session, HearingLocation, "code", data["hearing_locations"]
        )
        counts.facilities = _upsert(session, Facility, "code", data["facilities"])
        session.commit()
    return counts


#: outcome groups of EOIR's court decisions, in report order
OUTCOMES = ("relief_or_termination", "removal", "voluntary_departure", "other")


@dataclass(frozen=True)
class CourtDecision:
    case_type: str
    code: str
    type: str  # C: a decision (DEC_CODE); O: another completion (OTHER_COMP)
    description: str
    outcome: str  # one of OUTCOMES


@cache
def court_decisions() -> dict[tuple[str, str, str], CourtDecision]:
    """EOIR's decision codes (``tblLookupCourtDecision``), keyed by (case type, code, C or O),
    each with the outcome group the reports count it in: ``storage/reference/court_decisions.csv``
    (the real lookup's rows, transcribed; the groups are docketwatch's, documented in
    docs/representation-report.md)."""
    text = resources.files("storage.reference").joinpath("court_decisions.csv").read_text("utf-8")
    out: dict[tuple[str, str, str], CourtDecision] = {}
    for row in csv.DictReader(io.StringIO(text)):
        d = CourtDecision(
            row["case_type"], row["code"], row["type"], row["description"], row["outcome"]
        )
        if d.outcome not in OUTCOMES:
            raise ValueError(f"court_decisions.csv: {d.outcome!r} is not an outcome group")
        out[(d.case_type, d.code, d.type)] = d
    return out
