"""Reports for funders and the public: what the program watched and how fast it reacted.

:func:`program_report` reads docketwatch's own tables for a range of months (in the
organization's time zone) and returns a :class:`Report`: figures (tables, some charted), each
with its definition and source tables in a footnote. No figure holds personal data (counts,
medians and shares only). :meth:`Report.published` suppresses small cells: a count from 1 to 9
is shown as ``<10``, and a median or share computed over fewer than 10 items is withheld, as a
published report must not let a reader single anyone out. A row total beside a suppressed cell
is coarsened to the ten below (``20+``), or the cell could be worked out from it.

Rendering (HTML with SVG charts, PDF, XLSX, CSV) is :mod:`monitor.report_files`.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import KINDS, Audience
from storage.errors import ValidationError
from storage.models import AcisLookup, CrawlRun, CustodyLookup, Delivery, Event
from storage.sources import SOURCES

SMALL = 10  # cells under this are suppressed in published forms
SUPPRESSED = "<10"
WITHHELD = "n<10"
CUSTODY_KINDS = ("client_transferred", "client_detained", "client_released")
HEARING_KINDS = tuple(
    k for k in KINDS if k.startswith("hearing_") or k in ("decision_entered", "case_not_found")
)
FINISHED = ("ok", "empty", "blocked", "layout_changed", "failed", "timed_out")


@dataclass
class Figure:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    definition: str  # what each number is, and the tables it is read from
    chart: str | None = None  # a column charted as bars, one per row
    counts: set[str] = field(default_factory=set)  # count columns: small ones suppressed
    medians: dict[str, str] = field(default_factory=dict)  # median column -> its count column
    # (row, column) of shares that would let a reader work out a small count: withheld
    withheld: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class Report:
    kind: str
    title: str
    period: str
    generated_at: datetime
    figures: list[Figure]
    published_form: bool = False

    def published(self) -> Report:
        """The report with small cells suppressed (every published form)."""
        out = []
        for fig in self.figures:
            idx = {c: i for i, c in enumerate(fig.columns)}
            rows = []
            for row in fig.rows:
                new = list(row)
                hidden = False
                for name in fig.counts:
                    i = idx[name]
                    if isinstance(row[i], int) and 0 < row[i] < SMALL:
                        new[i] = SUPPRESSED
                        hidden = hidden or name != "total"
                total = idx.get("total")
                if hidden and total is not None and isinstance(row[total], int):
                    # A total beside a suppressed cell would give the cell away (total minus
                    # the others): it is shown to the ten below.
                    n = row[total]
                    new[total] = f"{n // SMALL * SMALL}+" if n >= SMALL else SUPPRESSED
                for name, count in fig.medians.items():
                    n = row[idx[count]]
                    if isinstance(n, int) and n < SMALL:
                        new[idx[name]] = WITHHELD
                rows.append(new)
            for i, name in fig.withheld:
                if rows[i][idx[name]] is not None:
                    rows[i][idx[name]] = WITHHELD
            out.append(replace(fig, rows=rows))
        return replace(self, figures=out, published_form=True)


FIRST_YEAR, LAST_YEAR = 1900, 2199  # the months a report may cover


def parse_month(text: str, what: str) -> date:
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise ValidationError(f"{what} {text[:20]!r}: a month is YYYY-MM, e.g. 2026-01") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(f"{what} {text[:20]!r}: out of range ({FIRST_YEAR} to {LAST_YEAR})")
    return first


def next_month(m: date) -> date:
    """The first day of the month after ``m``'s."""
    return date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def year_up_to(last: date) -> date:
    """The first month of the twelve that end with ``last``'s month."""
    return next_month(date(last.year - 1, last.month, 1))


def months_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValidationError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    out, m = [], first
    while m <= last:
        out.append(m)
        m = next_month(m)
    if len(out) > 120:
        raise ValidationError("a report covers at most 120 months")
    return out


def _bounds(months: list[date], zone: ZoneInfo) -> tuple[datetime, datetime]:
    last = months[-1]
    after = next_month(last)
    start = datetime(months[0].year, months[0].month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(after.year, after.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def _month(at: datetime, zone: ZoneInfo) -> date:
    local = at.astimezone(zone)
    return date(local.year, local.month, 1)


def _median_minutes(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def program_report(
    session: Session, first: date, last: date, zone_name: str, now: datetime | None = None
) -> Report:
    """What the program watched and caught, month by month, from ``first`` to ``last``."""
    zone = ZoneInfo(zone_name)
    months = months_between(first, last)
    start, end = _bounds(months, zone)
    labels = [f"{m:%Y-%m}" for m in months]
    watched, by_kind, to_alert, to_ack, runs = _program_counts(session, start, end, zone)

    def kind_rows(kinds: tuple[str, ...]) -> list[list[Any]]:
        rows = []
        for k in kinds:
            counts = [by_kind[k][m] for m in months]
            rows.append([k, *counts, sum(counts)])  # labelled when shown: row_label()
        return rows

    figures = [
        Figure(
            "clients_watched",
            "Clients watched",
            ["month", "clients"],
            [[label, len(watched[m])] for label, m in zip(labels, months, strict=True)],
            "Distinct clients looked up at least once in the month on EOIR's case status "
            "(ACIS) or ICE's detainee locator. Tables: acis_lookup, custody_lookup.",
            chart="clients",
            counts={"clients"},
        ),
        Figure(
            "hearing_changes",
            "Hearing changes caught",
            ["change", *labels, "total"],
            kind_rows(HEARING_KINDS),
            "Changes to a client's hearing or case that docketwatch detected and alerted on, by "
            "kind and by the month the alert was made. Table: event.",
            counts={*labels, "total"},
        ),
        Figure(
            "custody_changes",
            "Custody changes caught",
            ["change", *labels, "total"],
            kind_rows(CUSTODY_KINDS),
            "Transfers between facilities, detentions and releases of clients seen on ICE's "
            "detainee locator, by the month the alert was made. Table: event.",
            counts={*labels, "total"},
        ),
        Figure(
            "speed",
            "How fast attorneys heard",
            [
                "month",
                "alerts sent",
                "median minutes to delivery",
                "acknowledged",
                "median minutes to acknowledgement",
            ],
            [
                [
                    label,
                    len(to_alert[m]),
                    _median_minutes(to_alert[m]),
                    len(to_ack[m]),
                    _median_minutes(to_ack[m]),
                ]
                for label, m in zip(labels, months, strict=True)
            ],
            "For client alerts made in the month: minutes from the moment docketwatch saw the "
            "change at the source (the lookup that found it) to the first delivery sent, and to "
            "the attorney's acknowledgement. A change can appear at the source up to one polling "
            "interval before docketwatch looks. Tables: event, delivery.",
            chart="median minutes to delivery",
            counts={"alerts sent", "acknowledged"},
            medians={
                "median minutes to delivery": "alerts sent",
                "median minutes to acknowledgement": "acknowledged",
            },
        ),
        Figure(
            "availability",
            "Source availability",
            ["source", *labels],
            [[name, *[_share(runs[name][m]) for m in months]] for name in SOURCES],
            "Share of the month's finished runs of each public source that succeeded (ok); "
            "blocked, changed-layout, failed and timed-out runs count against it. Blank: no run. "
            "Table: crawl_run.",
        ),
    ]
    return Report(
        "program",
        "What the program watched",
        f"{labels[0]} to {labels[-1]}",
        now or datetime.now(UTC),
        figures,
    )


def _program_counts(session: Session, start: datetime, end: datetime, zone: ZoneInfo) -> Any:
    """The program report's counts by month: clients watched, events by kind, minutes to
    delivery and to acknowledgement of client alerts, and sources' runs (ok or not)."""
    watched: dict[date, set[int]] = defaultdict(set)
    for table in (AcisLookup, CustodyLookup):
        rows = session.exec(
            select(table.client_id, table.observed_at).where(
                col(table.observed_at) >= start,
                col(table.observed_at) < end,
            )
        )
        for client_id, at in rows:
            watched[_month(at, zone)].add(client_id)

    events = list(
        session.exec(
            select(Event).where(col(Event.created_at) >= start, col(Event.created_at) < end)
        )
    )
    by_kind: dict[str, Counter[date]] = defaultdict(Counter)
    for e in events:
        by_kind[e.kind][_month(e.created_at, zone)] += 1

    client_events = {
        e.id: e
        for e in events
        if e.id is not None and e.kind in KINDS and KINDS[e.kind].audience == Audience.client
    }
    first_sent: dict[int, datetime] = {}
    if client_events:
        for event_id, sent in session.exec(
            select(Delivery.event_id, sa.func.min(Delivery.sent_at))
            .where(
                col(Delivery.event_id).in_(list(client_events)), col(Delivery.sent_at).is_not(None)
            )
            .group_by(col(Delivery.event_id))
        ):
            if sent is not None and event_id is not None:
                first_sent[event_id] = sent
    to_alert: dict[date, list[float]] = defaultdict(list)
    to_ack: dict[date, list[float]] = defaultdict(list)
    for event_id, e in client_events.items():
        m = _month(e.created_at, zone)
        if event_id in first_sent:
            to_alert[m].append((first_sent[event_id] - e.occurred_at).total_seconds() / 60)
        if e.acknowledged_at is not None:
            to_ack[m].append((e.acknowledged_at - e.occurred_at).total_seconds() / 60)

    runs: dict[str, dict[date, Counter[bool]]] = defaultdict(lambda: defaultdict(Counter))
    for source, outcome, at in session.exec(
        select(CrawlRun.source, CrawlRun.outcome, CrawlRun.started_at).where(
            col(CrawlRun.started_at) >= start, col(CrawlRun.started_at) < end
        )
    ):
        if outcome in FINISHED:
            runs[source][_month(at, zone)][outcome == "ok"] += 1

    return watched, by_kind, to_alert, to_ack, runs


def row_label(value: Any, lang: str = "en") -> str:
    """A figure's row label as shown: an event kind's headline in ``lang``, else the value."""
    spec = KINDS.get(value) if isinstance(value, str) else None
    if spec is not None:
        return spec.es if lang == "es" else spec.en
    return "" if value is None else str(value)


def _share(counts: Counter[bool]) -> str:
    total = counts[True] + counts[False]
    return f"{100 * counts[True] / total:.1f}%" if total else ""


def previous_month(today: date) -> date:
    first = date(today.year, today.month, 1) - timedelta(days=1)
    return date(first.year, first.month, 1)


def monthly_report_event(
    session: Session,
    today: date,
    zone_name: str,
    web_base_url: str | None,
    now: datetime,
    organization_id: int,
) -> Event | None:
    """On the first of a month (or later, once): the coordinators' ``monthly_report`` alert
    for the month just ended, with its headline figures (published form) and where to get the
    report. Written once per month and program (its dedup key); ``session`` is scoped to the
    program (``storage.tenancy``), so the figures are its own."""
    from monitor.events import EventInput, note
    from monitor.route import emit

    month = previous_month(today)
    report = program_report(session, month, month, zone_name, now)  # suppressed below
    figures = {f.key: f for f in report.figures}
    clients = _published(figures["clients_watched"].rows[0][1])
    hearing = _published(sum(int(r[-1]) for r in figures["hearing_changes"].rows))
    custody = _published(sum(int(r[-1]) for r in figures["custody_changes"].rows))
    sent, median = figures["speed"].rows[0][1], figures["speed"].rows[0][2]
    median = median if isinstance(sent, int) and sent >= SMALL and median is not None else WITHHELD
    where = (
        f"{web_base_url.rstrip('/')}/reports?from={month:%Y-%m}&to={month:%Y-%m}"
        if web_base_url
        else f"docketwatch report program --from {month:%Y-%m} --to {month:%Y-%m}"
    )
    line = note(
        "monthly_report",
        month=f"{month:%Y-%m}",
        clients=clients,
        hearing_changes=hearing,
        custody_changes=custody,
        median_minutes=median,
        where=where,
    )
    return emit(
        session,
        EventInput(
            kind="monthly_report",
            subject_type="report",
            subject_key=f"{month:%Y-%m}",
            dedup_key=f"monthly_report:{month:%Y-%m}:{organization_id}",  # a month's, a program's
            organization_id=organization_id,
            payload={"notes": [line]},
            occurred_at=now,
        ),
        now,
    )


def _published(count: int) -> int | str:
    return SUPPRESSED if 0 < count < SMALL else count
