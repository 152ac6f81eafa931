"""FOIA releases for coordinators: the release diff, its digest event, and the caseload queries.

A *new unrepresented case* is a proceeding that, in the new release, is at the alert court
(ADL by default), detained, pending and without a respondent's attorney at court level, and that
was not at that court in the previous loaded release (a brand-new case, or one transferred in).
The first release loaded is a baseline: it announces nothing. One digest event per release lists
them, anonymously (the files carry no names or A-numbers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, emit
from storage.bulk import table
from storage.foia import STATUS_LOADED, LoadReport, previous_loaded
from storage.models import FoiaCourtStats, FoiaLookup, FoiaProceeding, FoiaRelease

ITEMS_IN_MESSAGE = 40
GROUPS = ("nationality", "language", "judge", "week", "case_type")


def labels(session: Session, release_id: int) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in session.exec(select(FoiaLookup).where(FoiaLookup.release_id == release_id)):
        out.setdefault(row.table_name, {})[row.code] = row.label
    return out


def _label(names: dict[str, dict[str, str]], kind: str, code: str) -> str:
    if not code:
        return ""
    label = names.get(kind, {}).get(code, "")
    return f"{label.title()} ({code})" if label else code


def _judge(names: dict[str, dict[str, str]], code: str) -> str:
    if not code:
        return ""
    label = names.get("judge", {}).get(code, "")
    return f"IJ {label}" if label else f"IJ {code}"


def unrepresented_query(release_id: int, court: str, detained: bool) -> Any:
    # Plain rows, not ORM objects: a court's caseload runs to thousands of rows.
    q = sa.select(*table(FoiaProceeding).c).where(
        col(FoiaProceeding.release_id) == release_id,
        col(FoiaProceeding.base_city) == court,
        col(FoiaProceeding.pending).is_(True),
        col(FoiaProceeding.represented).is_(False),
    )
    if detained:
        q = q.where(col(FoiaProceeding.custody) == "D")
    return q


def new_unrepresented(session: Session, release_id: int, previous_id: int, court: str) -> list[Any]:
    prev = (
        select(FoiaProceeding.idnproceeding)
        .where(FoiaProceeding.release_id == previous_id, FoiaProceeding.base_city == court)
        .scalar_subquery()
    )
    q = unrepresented_query(release_id, court, detained=True).where(
        col(FoiaProceeding.idnproceeding).not_in(prev)
    )
    return list(
        session.execute(
            q.order_by(
                col(FoiaProceeding.next_date).asc().nulls_last(), FoiaProceeding.idnproceeding
            )
        ).all()
    )


def release_diff(court: str, now: datetime | None = None) -> Any:
    """The ``after_detail`` hook of a load: emit the release's new_unrepresented_case digest."""

    def hook(session: Session, release: FoiaRelease, report: LoadReport) -> None:
        assert release.id is not None
        previous = previous_loaded(session, before=release.id)
        if previous is None or previous.id is None:
            return  # the first release is a baseline
        rows = new_unrepresented(session, release.id, previous.id, court)
        report.new_unrepresented = len(rows)
        if not rows:
            return
        names = labels(session, release.id)
        by_nat = Counter(_label(names, "nationality", r.nat) or "unknown" for r in rows)
        by_lang = Counter(_label(names, "language", r.lang) or "unknown" for r in rows)
        top = lambda c: ", ".join(f"{k} {v}" for k, v in c.most_common(5))  # noqa: E731
        with_hearing = sum(1 for r in rows if r.next_date)
        detail = (
            f"{len(rows)} new detained case(s) without a respondent's attorney at {court} in the "
            f"EOIR release of {release.as_of:%Y-%m-%d} (previous: {previous.as_of:%Y-%m-%d}); "
            f"{with_hearing} with a hearing scheduled. By nationality: {top(by_nat)}. "
            f"By language: {top(by_lang)}."
        )
        if len(rows) > ITEMS_IN_MESSAGE:
            detail += (
                f" The first {ITEMS_IN_MESSAGE} by hearing date are listed; all of them: "
                f"`docketwatch caseload unrepresented --court {court} --detained --new`."
            )
        items = [
            {
                "case": f"case {r.idncase}",
                "nationality": _label(names, "nationality", r.nat),
                "language": _label(names, "language", r.lang),
                "case_type": _label(names, "case_type", r.case_type),
                "next_hearing": (
                    f"{r.next_date:%Y-%m-%d} {_hhmm(r.next_time)}".strip()
                    if r.next_date
                    else "no hearing scheduled"
                ),
                "judge": _judge(names, r.next_judge or r.ij_code),
            }
            for r in rows[:ITEMS_IN_MESSAGE]
        ]
        event = emit(
            session,
            EventInput(
                kind="new_unrepresented_case",
                subject_type="court",
                subject_key=court,
                dedup_key=f"new_unrepresented_case:{court}:{release.id}",
                payload={
                    "detail": detail,
                    "count": len(rows),
                    "release_id": release.id,
                    "items": items,
                },
                occurred_at=now or datetime.now(UTC),
            ),
            now or datetime.now(UTC),
        )
        report.event_id = event.id if event is not None else None

    return hook


def _hhmm(value: str) -> str:
    v = value.strip()
    return f"{v[:2]}:{v[2:]}" if len(v) == 4 and v.isdigit() else v


# -- coordinator queries ----------------------------------------------------------------------


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    title: str


def _release(session: Session, release_id: int | None) -> FoiaRelease:
    from storage.errors import NotFoundError

    if release_id is not None:
        release = session.get(FoiaRelease, release_id)
        if release is None or release.status != STATUS_LOADED:
            raise NotFoundError(f"release {release_id} is not a loaded release")
        return release
    release = previous_loaded(session)
    if release is None:
        raise NotFoundError(
            "no FOIA release is loaded yet: run `docketwatch foia check` or `docketwatch foia load`"
        )
    return release


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def caseload_unrepresented(
    session: Session,
    court: str,
    *,
    detained: bool = False,
    by: str | None = None,
    new_only: bool = False,
    release_id: int | None = None,
) -> Table:
    release = _release(session, release_id)
    assert release.id is not None
    names = labels(session, release.id)
    if new_only:
        previous = previous_loaded(session, before=release.id)
        if previous is None or previous.id is None:
            rows = []
        else:
            rows = new_unrepresented(session, release.id, previous.id, court)  # detained ones
    else:
        rows = list(
            session.execute(
                unrepresented_query(release.id, court, detained).order_by(
                    col(FoiaProceeding.next_date).asc().nulls_last(), FoiaProceeding.idnproceeding
                )
            ).all()
        )
    scope = f"{'detained ' if detained or new_only else ''}{'new ' if new_only else ''}"
    title = (
        f"{len(rows)} {scope}unrepresented pending proceeding(s) at {court}, "
        f"release {release.id} of {release.as_of:%Y-%m-%d}"
    )
    if by is None:
        return Table(
            [
                "case",
                "proceeding",
                "nationality",
                "language",
                "case_type",
                "custody",
                "next_hearing",
                "time",
                "judge",
            ],
            [
                [
                    r.idncase,
                    r.idnproceeding,
                    _label(names, "nationality", r.nat),
                    _label(names, "language", r.lang),
                    _label(names, "case_type", r.case_type),
                    r.custody,
                    r.next_date.isoformat() if r.next_date else "",
                    _hhmm(r.next_time),
                    _judge(names, r.next_judge or r.ij_code),
                ]
                for r in rows
            ],
            title,
        )
    if by not in GROUPS:
        from storage.errors import ValidationError

        raise ValidationError(f"--by must be one of {', '.join(GROUPS)}, not {by!r}")
    key = {
        "nationality": lambda r: _label(names, "nationality", r.nat) or "unknown",
        "language": lambda r: _label(names, "language", r.lang) or "unknown",
        "judge": lambda r: _judge(names, r.next_judge or r.ij_code) or "unknown",
        "case_type": lambda r: _label(names, "case_type", r.case_type) or "unknown",
        "week": lambda r: (
            f"week of {week_of(r.next_date):%Y-%m-%d}" if r.next_date else "no hearing scheduled"
        ),
    }[by]
    counts = Counter(key(r) for r in rows)
    ordered = sorted(counts.items()) if by == "week" else counts.most_common()
    total = len(rows) or 1
    return Table(
        [by, "unrepresented", "share"],
        [[k, v, f"{100 * v / total:.1f}%"] for k, v in ordered],
        title,
    )


def caseload_trend(session: Session, court: str) -> Table:
    rows = session.exec(
        select(FoiaRelease, FoiaCourtStats)
        .join(FoiaCourtStats, col(FoiaCourtStats.release_id) == col(FoiaRelease.id))
        .where(FoiaRelease.status == STATUS_LOADED, FoiaCourtStats.base_city == court)
        .order_by(col(FoiaRelease.as_of), col(FoiaRelease.id))
    ).all()
    return Table(
        [
            "release",
            "as_of",
            "pending",
            "unrepresented",
            "share",
            "pending_detained",
            "unrepresented_detained",
            "detained_share",
        ],
        [
            [
                rel.id,
                rel.as_of.isoformat(),
                s.pending,
                s.unrepresented,
                f"{100 * s.unrepresented / s.pending:.1f}%" if s.pending else "",
                s.pending_detained,
                s.unrepresented_detained,
                f"{100 * s.unrepresented_detained / s.pending_detained:.1f}%"
                if s.pending_detained
                else "",
            ]
            for rel, s in rows
        ],
        f"{court}: pending and unrepresented proceedings per FOIA release",
    )


def caseload_hearings(
    session: Session, court: str, start: date, end: date, *, release_id: int | None = None
) -> Table:
    release = _release(session, release_id)
    assert release.id is not None
    names = labels(session, release.id)
    rows = session.execute(
        unrepresented_query(release.id, court, detained=False)
        .where(col(FoiaProceeding.next_date) >= start, col(FoiaProceeding.next_date) <= end)
        .order_by(
            col(FoiaProceeding.next_date),
            col(FoiaProceeding.next_time),
            col(FoiaProceeding.next_judge),
        )
    ).all()
    return Table(
        [
            "date",
            "time",
            "judge",
            "location",
            "calendar",
            "nationality",
            "language",
            "case_type",
            "custody",
            "case",
        ],
        [
            [
                r.next_date.isoformat() if r.next_date else "",
                _hhmm(r.next_time),
                _judge(names, r.next_judge or r.ij_code),
                r.next_hearing_loc or r.hearing_loc,
                {"M": "Master", "I": "Individual"}.get(r.next_cal_type, r.next_cal_type),
                _label(names, "nationality", r.nat),
                _label(names, "language", r.lang),
                _label(names, "case_type", r.case_type),
                r.custody,
                r.idncase,
            ]
            for r in rows
        ],
        f"Hearings of unrepresented respondents at {court}, {start:%Y-%m-%d} to {end:%Y-%m-%d} "
        f"(release {release.id} of {release.as_of:%Y-%m-%d}; as EOIR listed them then)",
    )
