"""FOIA releases for coordinators: the release diff, its digest event, and the caseload queries.

A *new unrepresented case* is a proceeding that, in the new release, is at the alert court
(ADL by default), detained, pending and without a respondent's attorney at court level, and that
was not at that court in the previous loaded release (a brand-new case, or one transferred in).
The first release loaded is a baseline: it announces nothing. One digest event per release lists
them, anonymously (the files carry no names or A-numbers).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.route import emit
from storage.bulk import table
from storage.eoir_foia import STATUS_LOADED, LoadReport, previous_loaded
from storage.models import FoiaCourtStats, FoiaLookup, FoiaProceeding, FoiaRelease

ITEMS_IN_MESSAGE = 40
GROUPS = ("nationality", "language", "judge", "week", "case_type")


class _Formatted(dict[str, str]):
    """Formatted labels of one kind, each code formatted on first use."""

    def __init__(self, labels: dict[str, str], fmt: Callable[[str, str], str]) -> None:
        super().__init__()
        self.labels, self.fmt = labels, fmt

    def __missing__(self, code: str) -> str:
        out = self[code] = self.fmt(code, self.labels.get(code, "") if code else "")
        return out


class Labels:
    """The lookup labels of one release, each code formatted once (caseloads run to tens of
    thousands of rows with a few hundred distinct codes)."""

    def __init__(self, names: dict[str, dict[str, str]]) -> None:
        self.names = names
        self._kinds: dict[str, _Formatted] = {}
        self.judges = _Formatted(
            names.get("judge", {}),
            lambda code, label: (f"IJ {label}" if label else f"IJ {code}") if code else "",
        )

    def of(self, kind: str) -> _Formatted:
        """``Label (CODE)`` by code, or the code alone when the release has no label for it."""
        if kind not in self._kinds:
            self._kinds[kind] = _Formatted(
                self.names.get(kind, {}),
                lambda code, label: f"{label.title()} ({code})" if label else code,
            )
        return self._kinds[kind]

    def label(self, kind: str, code: str) -> str:
        return self.of(kind)[code]

    def judge(self, code: str) -> str:
        return self.judges[code]


def labels(session: Session, release_id: int) -> Labels:
    names: dict[str, dict[str, str]] = {}
    c = table(FoiaLookup).c
    for kind, code, label in session.execute(
        sa.select(c.table_name, c.code, c.label).where(c.release_id == release_id)
    ):
        names.setdefault(kind, {})[code] = label
    return Labels(names)


@dataclass(frozen=True)
class CaseloadFilter:
    """Narrows a caseload: EOIR codes (nationality ``MX``, language ``SP``, case type ``RMV``,
    judge ``ABC``, matched against the next hearing's judge or the case's) and a window of next
    hearing dates. Empty fields do not filter."""

    nationality: str = ""
    language: str = ""
    case_type: str = ""
    judge: str = ""
    hearing_from: date | None = None
    hearing_to: date | None = None

    def apply(self, q: Any) -> Any:
        p = FoiaProceeding
        if self.nationality:
            q = q.where(col(p.nat) == self.nationality.strip().upper())
        if self.language:
            q = q.where(col(p.lang) == self.language.strip().upper())
        if self.case_type:
            q = q.where(col(p.case_type) == self.case_type.strip().upper())
        if self.judge:
            code = self.judge.strip().upper()
            by_next = col(p.next_judge) == code
            by_case = sa.and_(col(p.next_judge) == "", col(p.ij_code) == code)
            q = q.where(sa.or_(by_next, by_case))
        if self.hearing_from is not None:
            q = q.where(col(p.next_date) >= self.hearing_from)
        if self.hearing_to is not None:
            q = q.where(col(p.next_date) <= self.hearing_to)
        return q

    def describe(self) -> str:
        parts = [
            f"{k.replace('_', ' ')} {v}"
            for k, v in (
                ("nationality", self.nationality),
                ("language", self.language),
                ("case_type", self.case_type),
                ("judge", self.judge),
            )
            if v
        ]
        if self.hearing_from or self.hearing_to:
            parts.append(f"next hearing {self.hearing_from or '…'} to {self.hearing_to or '…'}")
        return "; ".join(parts)


def unrepresented_query(
    release_id: int,
    court: str,
    detained: bool,
    columns: tuple[str, ...] | None = None,
    flt: CaseloadFilter | None = None,
) -> Any:
    # Plain rows, not ORM objects: a court's caseload runs to thousands of rows.
    c = table(FoiaProceeding).c
    q = sa.select(*(c[n] for n in columns) if columns else c).where(
        col(FoiaProceeding.release_id) == release_id,
        col(FoiaProceeding.base_city) == court,
        col(FoiaProceeding.pending).is_(True),
        col(FoiaProceeding.represented).is_(False),
    )
    if detained:
        q = q.where(col(FoiaProceeding.custody) == "D")
    return flt.apply(q) if flt is not None else q


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
        by_nat = Counter(names.label("nationality", r.nat) or "unknown" for r in rows)
        by_lang = Counter(names.label("language", r.lang) or "unknown" for r in rows)
        top = lambda c: ", ".join(f"{k} {v}" for k, v in c.most_common(5))  # noqa: E731
        with_hearing = sum(1 for r in rows if r.next_date)
        notes = [
            note(
                "unrepresented_release",
                count=len(rows),
                court=court,
                as_of=f"{release.as_of:%Y-%m-%d}",
                previous=f"{previous.as_of:%Y-%m-%d}",
                with_hearing=with_hearing,
                by_nationality=top(by_nat),
                by_language=top(by_lang),
            )
        ]
        if len(rows) > ITEMS_IN_MESSAGE:
            notes.append(note("unrepresented_more", listed=ITEMS_IN_MESSAGE, court=court))
        items = [
            {
                "case": str(r.idncase),  # "case N" in the recipient's language
                "nationality": names.label("nationality", r.nat),
                "language": names.label("language", r.lang),
                "case_type": names.label("case_type", r.case_type),
                "next_hearing": (
                    f"{r.next_date:%Y-%m-%d} {_hhmm(r.next_time)}".strip()
                    if r.next_date
                    else None  # written "none" in the recipient's language
                ),
                "judge": names.judge(r.next_judge or r.ij_code),
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
                    "notes": notes,
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


@functools.lru_cache(maxsize=4096)
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


# A listed proceeding's columns, in the order the list reads them.
LISTED = (
    "idncase",
    "idnproceeding",
    "nat",
    "lang",
    "case_type",
    "custody",
    "next_date",
    "next_time",
    "next_judge",
    "ij_code",
)
# The columns each grouping reads: the counting is done by the database, per distinct value.
GROUPED_BY = {
    "nationality": ("nat",),
    "language": ("lang",),
    "judge": ("next_judge", "ij_code"),
    "week": ("next_date",),
    "case_type": ("case_type",),
}


def caseload_unrepresented(
    session: Session,
    court: str,
    *,
    detained: bool = False,
    by: str | None = None,
    new_only: bool = False,
    release_id: int | None = None,
    flt: CaseloadFilter | None = None,
) -> Table:
    if by is not None and by not in GROUPS:
        from storage.errors import ValidationError

        raise ValidationError(f"--by must be one of {', '.join(GROUPS)}, not {by!r}")
    release = _release(session, release_id)
    assert release.id is not None
    names = labels(session, release.id)
    fields = LISTED if by is None else GROUPED_BY[by]
    rows: list[Any]  # (fields..., how many)
    if new_only:
        previous = previous_loaded(session, before=release.id)
        found = (
            new_unrepresented(session, release.id, previous.id, court)  # detained ones
            if previous is not None and previous.id is not None
            else []
        )
        if flt is not None:  # the same filter, on the new cases' ids
            keep = {
                r.idnproceeding
                for r in session.connection().execute(
                    unrepresented_query(release.id, court, True, ("idnproceeding",), flt)
                )
            }
            found = [r for r in found if r.idnproceeding in keep]
        rows = [(*(getattr(r, f) for f in fields), 1) for r in found]
    elif by is None:  # Core, not the ORM: a court's caseload runs to tens of thousands of rows
        q = unrepresented_query(release.id, court, detained, LISTED, flt)
        # The date as the database gives it (ISO text on SQLite), not parsed row by row.
        q = q.with_only_columns(
            *(
                sa.type_coerce(c, sa.String).label(c.name) if c.name == "next_date" else c
                for c in q.selected_columns
            )
        )
        order = (col(FoiaProceeding.next_date).asc().nulls_last(), FoiaProceeding.idnproceeding)
        rows = [(*r, 1) for r in session.connection().execute(q.order_by(*order))]
    else:
        cols = [getattr(FoiaProceeding, f) for f in fields]
        rows = list(
            session.connection()
            .execute(
                unrepresented_query(release.id, court, detained, fields, flt)
                .add_columns(sa.func.count())
                .group_by(*cols)
            )
            .all()
        )
    total = sum(r[-1] for r in rows)
    scope = f"{'detained ' if detained or new_only else ''}{'new ' if new_only else ''}"
    narrowed = flt.describe() if flt is not None else ""
    title = (
        f"{total} {scope}unrepresented pending proceeding(s) at {court}"
        f"{f' ({narrowed})' if narrowed else ''}, "
        f"release {release.id} of {release.as_of:%Y-%m-%d}"
    )
    if by is None:
        nats, langs, types = (names.of(k) for k in ("nationality", "language", "case_type"))
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
                    case,
                    proceeding,
                    nats[nat],
                    langs[lang],
                    types[ctype],
                    custody,
                    str(day) if day else "",  # ISO, from text or from a date
                    _hhmm(at),
                    names.judges[judge or ij],
                ]
                for case, proceeding, nat, lang, ctype, custody, day, at, judge, ij, _ in rows
            ],
            title,
        )
    key: Any = {
        "nationality": lambda nat: names.label("nationality", nat) or "unknown",
        "language": lambda lang: names.label("language", lang) or "unknown",
        "judge": lambda judge, ij: names.judge(judge or ij) or "unknown",
        "case_type": lambda ctype: names.label("case_type", ctype) or "unknown",
        "week": lambda day: f"week of {week_of(day):%Y-%m-%d}" if day else "no hearing scheduled",
    }[by]
    counts: Counter[str] = Counter()
    for r in rows:
        counts[key(*r[:-1])] += r[-1]
    ordered = sorted(counts.items()) if by == "week" else counts.most_common()
    return Table(
        [by, "unrepresented", "share"],
        [[k, v, f"{100 * v / (total or 1):.1f}%"] for k, v in ordered],
        title,
    )


def caseload_choices(
    session: Session, court: str, release_id: int | None = None
) -> dict[str, list[tuple[str, str]]]:
    """The codes a court's unrepresented caseload holds, with their labels, per filter field
    (for the web app's filter menus)."""
    release = _release(session, release_id)
    assert release.id is not None
    names = labels(session, release.id)
    fields = {
        "nationality": "nat",
        "language": "lang",
        "case_type": "case_type",
        "judge": "next_judge",
    }
    out: dict[str, list[tuple[str, str]]] = {}
    for kind, field in fields.items():
        column = getattr(FoiaProceeding, field)
        codes = session.connection().execute(
            unrepresented_query(release.id, court, False, (field,)).distinct().order_by(column)
        )
        label = names.judge if kind == "judge" else lambda code, k=kind: names.label(k, code)
        out[kind] = sorted(((c, label(c)) for (c,) in codes if c), key=lambda x: x[1])
    return out


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
                names.judge(r.next_judge or r.ij_code),
                r.next_hearing_loc or r.hearing_loc,
                {"M": "Master", "I": "Individual"}.get(r.next_cal_type, r.next_cal_type),
                names.label("nationality", r.nat),
                names.label("language", r.lang),
                names.label("case_type", r.case_type),
                r.custody,
                r.idncase,
            ]
            for r in rows
        ],
        f"Hearings of unrepresented respondents at {court}, {start:%Y-%m-%d} to {end:%Y-%m-%d} "
        f"(release {release.id} of {release.as_of:%Y-%m-%d}; as EOIR listed them then)",
    )
