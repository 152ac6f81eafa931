"""ICE detention statistics in storage: editions, their facility rows, the population series.

Parsing a workbook is the spider's (:mod:`spiders.detention_stats`); this module stores a parsed
:class:`~storage.snapshots.Edition` once per file (by SHA-256) and answers the trend query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from storage.models import Facility, FacilityPopulation, StatsEdition
from storage.snapshots import Edition

# -- names across editions and sources ---------------------------------------------------------


def normalize_name(name: str) -> str:
    """A facility name for matching: upper case, footnote marks and punctuation gone, ICE's
    typos and the usual words folded ("PROCESSSING", "CTR", "ANNEX")."""
    text = name.upper()
    text = re.sub(r"[\d*]+$", "", text.strip())  # footnote digits or stars at the end
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"[^A-Z0-9 ]+", " ", text)
    text = text.replace("PROCESSSING", "PROCESSING")
    words = {
        "CTR": "CENTER",
        "CNTR": "CENTER",
        "DET": "DETENTION",
        "FAC": "FACILITY",
        "CO": "COUNTY",
        "PROC": "PROCESSING",
    }
    out = [words.get(w, w) for w in text.split()]
    drop = {"THE", "ANNEX", "ICE", "IPC"}
    return " ".join(w for w in out if w not in drop)


def facility_index(session: Session) -> dict[tuple[str, str], int]:
    """(normalized name, state) -> facility id, for the facilities docketwatch knows."""
    out: dict[tuple[str, str], int] = {}
    for f in session.exec(select(Facility)):
        assert f.id is not None
        out[(normalize_name(f.name), f.state.upper())] = f.id
    return out


def store_edition(
    session: Session, edition: Edition, *, url: str, sha256: str, now: datetime | None = None
) -> tuple[StatsEdition, bool]:
    """Store a parsed edition; (row, False) when this exact file (SHA-256) is stored already."""
    existing = session.exec(select(StatsEdition).where(StatsEdition.sha256 == sha256)).first()
    if existing is not None:
        return existing, False
    now = now or datetime.now(UTC)
    row = StatsEdition(
        url=url,
        file_name=edition.file[:200],
        sha256=sha256,
        sheet=edition.sheet.strip()[:60],
        fiscal_year=edition.fiscal_year,
        workbook_fiscal_year=edition.workbook_fiscal_year,
        data_as_of=date.fromisoformat(edition.data_as_of) if edition.data_as_of else None,
        stale=edition.stale,
        stale_reason=edition.stale_reason[:300],
        facilities=len(edition.facilities),
        checks_failed=sum(1 for f in edition.facilities if f.checks),
        fetched_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    index = facility_index(session)
    for f in edition.facilities:
        key = normalize_name(f.name)
        session.add(
            FacilityPopulation(
                edition_id=row.id,
                facility_id=index.get((key, f.state.upper())),
                name=f.name[:160],
                match_key=key[:160],
                city=f.city[:80],
                state=f.state[:2],
                zip=f.zip[:10],
                aor=f.aor[:60],
                type=f.type[:20],
                gender=f.gender[:20],
                adp=f.adp,
                level_a=f.level_a,
                level_b=f.level_b,
                level_c=f.level_c,
                level_d=f.level_d,
                male_crim=f.male_crim,
                male_noncrim=f.male_noncrim,
                female_crim=f.female_crim,
                female_noncrim=f.female_noncrim,
                threat_1=f.threat_1,
                threat_2=f.threat_2,
                threat_3=f.threat_3,
                no_threat=f.no_threat,
                mandatory=f.mandatory,
                alos=f.alos,
                guaranteed_minimum=f.guaranteed_minimum,
                last_inspection_date=(
                    date.fromisoformat(f.last_inspection_date) if f.last_inspection_date else None
                ),
                last_inspection_note=f.last_inspection_note[:60],
                checks="; ".join(f.checks)[:500],
            )
        )
    return row, True


@dataclass
class Point:
    edition: StatsEdition
    row: FacilityPopulation


def trend(session: Session, query: str) -> dict[str, list[Point]]:
    """The population series of the facilities whose name (or DETLOC code) matches ``query``."""
    q = query.strip()
    key = normalize_name(q)
    facility = session.exec(select(Facility).where(Facility.code == q.upper())).first()
    stmt = select(FacilityPopulation, StatsEdition).join(
        StatsEdition, col(StatsEdition.id) == col(FacilityPopulation.edition_id)
    )
    if facility is not None:
        stmt = stmt.where(FacilityPopulation.facility_id == facility.id)
    else:
        stmt = stmt.where(col(FacilityPopulation.match_key).contains(key))
    rows = session.exec(stmt.order_by(col(StatsEdition.data_as_of), col(StatsEdition.id))).all()
    series: dict[str, list[Point]] = {}
    for pop, edition in rows:
        series.setdefault(pop.match_key, []).append(Point(edition, pop))
    return series
