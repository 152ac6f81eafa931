"""ICE detention statistics in storage: editions, the facility population series, the chart."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from storage.detention_stats import Edition, normalize_name, parse_workbook
from storage.models import Facility, FacilityPopulation, StatsEdition


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def load_file(session: Session, path: Path, url: str = "") -> tuple[StatsEdition, bool]:
    return store_edition(session, parse_workbook(path), url=url, sha256=sha256_of(path))


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


def svg_chart(series: dict[str, list[Point]], title: str) -> str:
    """A small line chart of ADP per edition (stale editions drawn hollow), as SVG text."""
    width, height, left, right, top, bottom = 760, 360, 60, 20, 40, 50
    points = [
        (p.edition.data_as_of, p.row.adp)
        for pts in series.values()
        for p in pts
        if p.edition.data_as_of is not None
    ]
    if not points:
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='80'>"
            f"<text x='10' y='40'>{html.escape(title)}: no dated editions</text></svg>"
        )
    d0 = min(d for d, _ in points).toordinal()
    d1 = max(d for d, _ in points).toordinal()
    vmax = max(v for _, v in points) * 1.1 or 1.0
    span = max(d1 - d0, 1)

    def xy(day: date, value: float) -> tuple[float, float]:
        x = left + (day.toordinal() - d0) / span * (width - left - right)
        y = top + (1 - value / vmax) * (height - top - bottom)
        return x, y

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='sans-serif' font-size='12'>",
        f"<text x='{left}' y='22' font-size='15'>{html.escape(title)}</text>",
        f"<line x1='{left}' y1='{height - bottom}' x2='{width - right}' y2='{height - bottom}' "
        "stroke='#333'/>",
        f"<line x1='{left}' y1='{top}' x2='{left}' y2='{height - bottom}' stroke='#333'/>",
    ]
    for k in range(5):
        value = vmax * k / 4
        _, y = xy(date.fromordinal(d0), value)
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{value:,.0f}</text>")
    for year in range(date.fromordinal(d0).year, date.fromordinal(d1).year + 2):
        day = date(year, 1, 1)
        if d0 <= day.toordinal() <= d1:
            x, _ = xy(day, 0)
            parts.append(
                f"<text x='{x:.1f}' y='{height - bottom + 18}' text-anchor='middle'>{year}</text>"
            )
    for i, (name, pts) in enumerate(sorted(series.items())):
        color = colors[i % len(colors)]
        dated = [p for p in pts if p.edition.data_as_of]
        coords = [xy(p.edition.data_as_of, p.row.adp) for p in dated]  # type: ignore[arg-type]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(
                f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{path}'/>"
            )
        for p, (x, y) in zip(dated, coords, strict=True):
            fill = "white" if p.edition.stale else color
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4' fill='{fill}' stroke='{color}'>"
                f"<title>{html.escape(p.row.name)} {p.edition.data_as_of}: ADP {p.row.adp:.1f}"
                f"{' (stale)' if p.edition.stale else ''}</title></circle>"
            )
        parts.append(
            f"<text x='{width - right - 4}' y='{top + 16 * (i + 1)}' text-anchor='end' "
            f"fill='{color}'>{html.escape(name)}</text>"
        )
    parts.append(
        f"<text x='{left}' y='{height - 10}'>average daily population (Level A-D) per edition; "
        "hollow = stale edition</text></svg>"
    )
    return "\n".join(parts)


def trend_records(series: dict[str, list[Point]]) -> list[dict[str, Any]]:
    return [
        {
            "facility": p.row.name,
            "data_as_of": p.edition.data_as_of.isoformat() if p.edition.data_as_of else "",
            "fiscal_year": p.edition.fiscal_year,
            "file": p.edition.file_name,
            "stale": p.edition.stale,
            "adp": round(p.row.adp, 1),
            "level_a": round(p.row.level_a, 1),
            "level_b": round(p.row.level_b, 1),
            "level_c": round(p.row.level_c, 1),
            "level_d": round(p.row.level_d, 1),
            "alos": round(p.row.alos, 1) if p.row.alos is not None else None,
            "guaranteed_minimum": p.row.guaranteed_minimum,
            "last_inspection": (
                p.row.last_inspection_date.isoformat()
                if p.row.last_inspection_date
                else p.row.last_inspection_note
            ),
            "checks": p.row.checks,
        }
        for pts in series.values()
        for p in pts
    ]


# -- the source check -------------------------------------------------------------------------


@dataclass
class StatsCheck:
    run_id: int
    outcome: str
    message: str
    edition_id: int | None = None
    health: str | None = None


def run_stats_check(engine: Any, settings: Any, now: datetime | None = None) -> StatsCheck:
    """Find the newest workbook on ICE's page; fetch and store it if it is new."""
    import urllib.error

    from monitor.court_watch import fetch
    from monitor.crawl import start_run
    from monitor.source_health import check_source
    from spiders.detention_stats import fetch_to, find_workbooks
    from storage.db import session_scope
    from storage.errors import ValidationError
    from storage.models import CrawlOutcome, CrawlRun

    now = now or datetime.now(UTC)
    run_id = start_run(engine, "detention_stats")
    outcome, message, edition_id = CrawlOutcome.ok.value, "", None
    try:
        links = find_workbooks(fetch(settings.ice_stats_url, settings.user_agent),
                               settings.ice_stats_url)  # fmt: skip
        if not links:
            outcome = CrawlOutcome.layout_changed.value
            message = "no statistics workbook linked from the page: the layout changed"
        else:
            newest = links[0]
            with session_scope(engine) as session:
                known = session.exec(
                    select(StatsEdition).where(StatsEdition.url == newest.url)
                ).first()
            if known is not None and newest.snapshot is not None:
                message = f"unchanged: newest is {newest.url} (stored as edition {known.id})"
            else:
                name = Path(newest.url).name.replace("%20", " ")
                dest = settings.data_dir / "ice_stats" / f"{now:%Y%m%dT%H%M%S}-{name}"
                fetch_to(newest.url, dest, settings.user_agent)
                with session_scope(engine) as session:
                    row, new = load_file(session, dest, url=newest.url)
                    edition_id = row.id
                if not new:
                    dest.unlink(missing_ok=True)
                message = (
                    f"{'new' if new else 'same file as'} edition {row.id}: FY{row.fiscal_year}, "
                    f"data as of {row.data_as_of}, {row.facilities} facilities"
                    + (f", STALE ({row.stale_reason})" if row.stale else "")
                    + (f", {row.checks_failed} failing sanity checks" if row.checks_failed else "")
                )
    except ValidationError as exc:
        outcome, message = CrawlOutcome.layout_changed.value, str(exc)
    except urllib.error.HTTPError as exc:
        outcome = (
            CrawlOutcome.blocked if exc.code in (401, 403, 429) else CrawlOutcome.failed
        ).value
        message = f"HTTP {exc.code} from {exc.url}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        outcome, message = CrawlOutcome.failed.value, str(exc)
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        run.finished_at, run.outcome, run.message = datetime.now(UTC), outcome, message[:2000]
        run.items = 1 if edition_id else 0
        run.errors = 0 if outcome == CrawlOutcome.ok.value else 1
        session.add(run)
        session.flush()
        health = check_source(session, "detention_stats", now, settings.source_failure_threshold)
    return StatsCheck(run_id, outcome, message, edition_id, health)
