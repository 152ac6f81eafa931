"""The representation report: detained people at one immigration court, with and without a
lawyer, month by month, from EOIR's FOIA release as loaded (``foia_proceeding``).

Every figure is defined in its footnote and in docs/representation-report.md; the definitions,
in short (a *detained case* is one whose A_TblCase ``CUSTODY`` is ``D``; a proceeding's *start*
is its ``INPUT_DATE``, else its ``OSC_DATE``; a case's *counsel date* is its first EOIR-28: the
earliest ``E_28_DATE`` on its A_TblCase row and on its tbl_RepsAssigned rows of a respondent's
attorney at the court, ``STRATTYTYPE`` ALIEN and ``STRATTYLEVEL`` COURT; a case with no EOIR-28
date counts as unrepresented):

- **pending detained caseload** at a month's end: detained proceedings at the court started on
  or before that day and not completed by it (``COMP_DATE`` after it, or none and no
  ``OTHER_COMP``); *without an attorney*: no counsel date on or before that day;
- **new detained cases** in a month: detained cases whose first proceeding at the court started
  in it; *counsel within N days*: a counsel date no later than N days after that start (counsel
  from before the start counts), shown for months whose cases all had 90 days by the release
  date; *time to counsel*: the median of the days from that start to the counsel date (0 when
  counsel came first), over the cases with counsel by the release date;
- **counsel at the first master calendar hearing**: of the new detained cases whose first master
  hearing at the court (the initial hearing EOIR records on the proceeding, B_TblProceeding
  ``HEARING_DATE``; the earliest of their proceedings there) was on or before the release date,
  those with counsel on or before it;
- **completed proceedings by outcome**: detained proceedings with ``COMP_DATE`` in the period,
  grouped through EOIR's decision lookup (``storage/reference/court_decisions.csv``: relief or
  termination, removal, voluntary departure, other completion; a removal order with
  ``ABSENTIA`` Y is *in absentia*), for respondents with counsel by the completion date and
  without, side by side;
- **breakdowns** by nationality, language and case type: new detained cases in the period, the
  share with counsel within 90 days, and the pending caseload at the period's end with the
  share without an attorney.

The court's complete history is kept for the alert court only (``eoir_foia_alert_court``); other
courts' pending cases are kept, not their past, so their report is refused with that reason.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from monitor.reports import SMALL, Figure, Report, months_between
from storage.bulk import table
from storage.errors import ValidationError
from storage.models import FoiaLookup, FoiaProceeding, FoiaRelease
from storage.reference_data import OUTCOMES, court_decisions

WINDOWS = (30, 60, 90)
IN_ABSENTIA = "in_absentia"
NOT_CODED = "not_coded"
OUTCOME_ROWS = (
    "relief_or_termination",
    "removal",
    IN_ABSENTIA,
    "voluntary_departure",
    "other",
    NOT_CODED,
)
OUTCOME_LABELS = {
    "relief_or_termination": "Relief granted or case terminated",
    "removal": "Removal ordered (respondent present)",
    IN_ABSENTIA: "Removal ordered in absentia",
    "voluntary_departure": "Voluntary departure",
    "other": "Other completion (venue change, closure, transfer…)",
    NOT_CODED: "Decision code not in EOIR's lookup",
}
WITHOUT_PCT = "without an attorney %"
SOURCE = "Source: EOIR FOIA case data, the release named in the heading (table foia_proceeding)."


@dataclass
class _Case:
    start: date
    counsel: date | None
    first_master: date | None = None
    nat: str = ""
    lang: str = ""
    case_type: str = ""


@dataclass
class _Proc:
    idncase: int
    start: date | None
    comp: date | None
    undated_completion: bool
    outcome: str
    counsel: date | None
    nat: str
    lang: str
    case_type: str


@dataclass
class _Data:
    procs: list[_Proc] = field(default_factory=list)
    cases: dict[int, _Case] = field(default_factory=dict)


def outcome_of(case_type: str, dec_code: str, other_comp: str, absentia: str) -> str:
    """The outcome group of a completed proceeding, through EOIR's decision lookup."""
    table = court_decisions()
    found = None
    if dec_code:
        found = table.get((case_type, dec_code, "C"))
    elif other_comp:
        found = table.get((case_type, other_comp, "O"))
    if found is None:
        return NOT_CODED
    if found.outcome == "removal" and absentia == "Y":
        return IN_ABSENTIA
    return found.outcome


def history_release(session: Session, court: str, release_id: int | None = None) -> FoiaRelease:
    """The loaded release whose complete history of ``court`` the report reads, or a clear
    reason why there is none."""
    from storage.eoir_foia import STATUS_LOADED, current_release

    release = session.get(FoiaRelease, release_id) if release_id else current_release(session)
    if release is None or release.status != STATUS_LOADED:
        raise ValidationError(
            "no EOIR FOIA release is loaded: run `docketwatch eoir-foia check` (or load one "
            "with `docketwatch eoir-foia load ZIP`) first"
        )
    kept = (release.report or {}).get("history_court", "")
    if not kept:
        raise ValidationError(
            f"release {release.id} (as of {release.as_of}) was loaded by an earlier docketwatch, "
            "which did not keep outcomes and EOIR-28 dates: load it again "
            "(`docketwatch eoir-foia load ZIP`)"
        )
    if court != kept:
        raise ValidationError(
            f"court {court}: the release keeps the complete history of {kept} only (the alert "
            f"court, eoir_foia_alert_court); other courts' past cases are not loaded"
        )
    return release


def _load(session: Session, release: FoiaRelease, court: str) -> _Data:
    t = table(FoiaProceeding).c
    stmt = sa.select(
        t.idncase,
        t.input_date,
        t.osc_date,
        t.comp_date,
        t.other_comp,
        t.dec_code,
        t.absentia,
        t.case_type,
        t.counsel_date,
        t.first_master_date,
        t.nat,
        t.lang,
        t.pending,
    ).where(t.release_id == release.id, t.base_city == court, t.custody == "D")
    data = _Data()
    for (
        idncase,
        input_date,
        osc_date,
        comp,
        other,
        dec,
        absentia,
        ctype,
        counsel,
        master,
        nat,
        lang,
        pending,
    ) in session.connection().execute(stmt):
        start = input_date or osc_date  # None: left out of every figure (footnote)
        undated_completion = not pending and comp is None
        outcome = outcome_of(ctype, dec, other, absentia) if comp is not None else ""
        data.procs.append(
            _Proc(idncase, start, comp, undated_completion, outcome, counsel, nat, lang, ctype)
        )
        if start is None:
            continue
        case = data.cases.get(idncase)
        if case is None:
            data.cases[idncase] = _Case(start, counsel, master, nat, lang, ctype)
        else:
            if start < case.start:
                case.start, case.nat, case.lang, case.case_type = start, nat, lang, ctype
            if master is not None and (case.first_master is None or master < case.first_master):
                case.first_master = master
    return data


def _month_end(m: date) -> date:
    from monitor.reports import next_month

    return next_month(m) - timedelta(days=1)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class _Shares:
    """Shares for one figure, noting which would give away a small count in published form:
    under 10 cases in all, or from 1 to 9 of them (or of the rest)."""

    def __init__(self) -> None:
        self.withheld: set[tuple[int, str]] = set()

    def __call__(self, row: int, column: str, part: int, whole: int) -> float | None:
        if whole and (whole < SMALL or 0 < part < SMALL or 0 < whole - part < SMALL):
            self.withheld.add((row, column))
        return _pct(part, whole)


def _pending_at(p: _Proc, day: date) -> bool:
    return (
        p.start is not None
        and p.start <= day
        and not p.undated_completion
        and (p.comp is None or p.comp > day)
    )


def _has_counsel(counsel: date | None, day: date) -> bool:
    return counsel is not None and counsel <= day


def _labels(session: Session, release: FoiaRelease, kind: str) -> dict[str, str]:
    rows = session.exec(
        select(FoiaLookup.code, FoiaLookup.label).where(
            FoiaLookup.release_id == release.id, FoiaLookup.table_name == kind
        )
    )
    return {code.strip(): " ".join(label.split()).title() for code, label in rows}


class _Representation:
    """The representation report's figures, each made by its own method."""

    def __init__(self, session: Session, release: Any, court: str, months: list[date]) -> None:
        self.session, self.release, self.court = session, release, court
        self.as_of = release.as_of
        self.data = _load(session, release, court)
        self.period_start = months[0]
        self.period_end = min(_month_end(months[-1]), self.as_of)
        self.shown = [m for m in months if m <= self.as_of]  # no figure after the release
        self.labels = [f"{m:%Y-%m}" for m in self.shown]

    def caseload(self) -> Figure:
        caseload_rows: list[list[Any]] = []
        caseload_shares = _Shares()
        for label, m in zip(self.labels, self.shown, strict=True):
            end = min(_month_end(m), self.as_of)
            pending = [p for p in self.data.procs if _pending_at(p, end)]
            without = sum(1 for p in pending if not _has_counsel(p.counsel, end))
            share = caseload_shares(len(caseload_rows), WITHOUT_PCT, without, len(pending))
            caseload_rows.append([label, len(pending), without, share])

        return Figure(
            "caseload",
            "Pending detained caseload and the share without an attorney",
            ["month", "pending detained", "without an attorney", "without an attorney %"],
            caseload_rows,
            "Detained proceedings at the court (B_TblProceeding BASE_CITY_CODE; detained: "
            "A_TblCase CUSTODY D) started on or before the month's last day (INPUT_DATE, else "
            "OSC_DATE) and not completed by it (COMP_DATE later or empty, and no OTHER_COMP "
            "without a date). Without an attorney: no EOIR-28 on or before that day (the "
            "earliest E_28_DATE of A_TblCase and of tbl_RepsAssigned rows with STRATTYTYPE ALIEN "
            "and STRATTYLEVEL COURT; a case with no EOIR-28 date counts as unrepresented). The "
            "last month ends on the release date if it is earlier. Proceedings with neither "
            "INPUT_DATE nor OSC_DATE are left out. " + SOURCE,
            chart=WITHOUT_PCT,
            counts={"pending detained", "without an attorney"},
            withheld=caseload_shares.withheld,
        )

    def new_cases(self) -> list[Figure]:
        by_month: dict[date, list[_Case]] = defaultdict(list)
        for case in self.data.cases.values():
            by_month[date(case.start.year, case.start.month, 1)].append(case)
        new_rows: list[list[Any]] = []
        master_rows: list[list[Any]] = []
        new_shares, master_shares = _Shares(), _Shares()
        for label, m in zip(self.labels, self.shown, strict=True):
            cases = by_month.get(m, [])
            closed = _month_end(m) + timedelta(days=max(WINDOWS)) <= self.as_of
            shares = [
                new_shares(
                    len(new_rows),
                    f"counsel within {w} days %",
                    sum(1 for c in cases if _has_counsel(c.counsel, c.start + timedelta(days=w))),
                    len(cases),
                )
                if closed
                else None
                for w in WINDOWS
            ]
            waits = [
                max(0, (c.counsel - c.start).days)
                for c in cases
                if c.counsel is not None and c.counsel <= self.as_of
            ]
            median = statistics.median(waits) if waits else None
            new_rows.append([label, len(cases), *shares, len(waits), median])
            held = [c for c in cases if c.first_master is not None and c.first_master <= self.as_of]
            at = sum(1 for c in held if c.first_master and _has_counsel(c.counsel, c.first_master))
            master_rows.append(
                [
                    label,
                    len(held),
                    at,
                    master_shares(len(master_rows), "represented %", at, len(held)),
                ]
            )

        return [
            Figure(
                "new_cases",
                "New detained cases and how soon they found counsel",
                [
                    "month",
                    "new detained cases",
                    "counsel within 30 days %",
                    "counsel within 60 days %",
                    "counsel within 90 days %",
                    "with counsel by the release",
                    "median days to counsel",
                ],
                new_rows,
                "Detained cases whose first proceeding at the court started in the month "
                "(INPUT_DATE, else OSC_DATE). Counsel within N days: a first EOIR-28 (as in the "
                "caseload figure) no later than N days after that start; an EOIR-28 from before it "
                "counts. The shares are shown for months whose cases all had 90 days by the "
                "release date. Median days to counsel: from that start to the first EOIR-28 (0 "
                "when it came first), over the month's cases with an EOIR-28 by the release date. "
                "" + SOURCE,
                chart="new detained cases",
                counts={"new detained cases", "with counsel by the release"},
                medians={
                    "counsel within 30 days %": "new detained cases",
                    "counsel within 60 days %": "new detained cases",
                    "counsel within 90 days %": "new detained cases",
                    "median days to counsel": "with counsel by the release",
                },
                withheld=new_shares.withheld,
            ),
            Figure(
                "first_master",
                "Counsel at the first master calendar hearing",
                ["month", "first master hearing held", "represented at it", "represented %"],
                master_rows,
                "New detained cases (by the month their first proceeding at the court started) "
                "whose first master calendar hearing at the court (the initial hearing EOIR "
                "records on the proceeding, B_TblProceeding HEARING_DATE; the earliest of the "
                "case's proceedings there) was on or before the release date; represented: a first "
                "EOIR-28 on or before that hearing's date. " + SOURCE,
                chart="represented %",
                counts={"first master hearing held", "represented at it"},
                withheld=master_shares.withheld,
            ),
        ]

    def outcomes(self) -> Figure:
        completed = [
            p
            for p in self.data.procs
            if p.comp is not None and self.period_start <= p.comp <= self.period_end
        ]
        rep = Counter(p.outcome for p in completed if _has_counsel(p.counsel, p.comp))  # type: ignore[arg-type]
        unrep = Counter(p.outcome for p in completed if not _has_counsel(p.counsel, p.comp))  # type: ignore[arg-type]
        n_rep, n_unrep = sum(rep.values()), sum(unrep.values())
        outcome_shares = _Shares()
        outcome_rows = [
            [
                OUTCOME_LABELS[o],
                rep[o],
                outcome_shares(i, "with counsel %", rep[o], n_rep),
                unrep[o],
                outcome_shares(i, "without counsel %", unrep[o], n_unrep),
            ]
            for i, o in enumerate(OUTCOME_ROWS)
        ]

        return Figure(
            "outcomes",
            "Completed proceedings by outcome, with and without counsel",
            ["outcome", "with counsel", "with counsel %", "without counsel", "without counsel %"],
            outcome_rows,
            "Detained proceedings at the court completed in the period (COMP_DATE), grouped "
            "by EOIR's decision code (DEC_CODE, or OTHER_COMP for other "
            "completions) looked up with the case type in tblLookupCourtDecision; the grouping "
            "is in docs/representation-report.md. A removal order with ABSENTIA Y is counted in "
            "absentia. With counsel: a first EOIR-28 on or before the completion date. " + SOURCE,
            counts={"with counsel", "without counsel"},
            withheld=outcome_shares.withheld,
        )

    def breakdown(self, attr: str, names: dict[str, str], shares: _Shares) -> list[list[Any]]:
        new: Counter[str] = Counter()
        within: Counter[str] = Counter()
        window_closed: Counter[str] = Counter()
        for c in self.data.cases.values():
            if self.period_start <= c.start <= self.period_end:
                key = getattr(c, attr)
                new[key] += 1
                if c.start + timedelta(days=90) <= self.as_of:
                    window_closed[key] += 1
                    within[key] += _has_counsel(c.counsel, c.start + timedelta(days=90))
        pend: Counter[str] = Counter()
        pend_without: Counter[str] = Counter()
        for p in self.data.procs:
            if _pending_at(p, self.period_end):
                key = getattr(p, attr)
                pend[key] += 1
                pend_without[key] += not _has_counsel(p.counsel, self.period_end)
        keys = sorted(set(new) | set(pend), key=lambda k: (-new[k] - pend[k], k))
        rows: list[list[Any]] = []
        for k in keys:
            name = f"{k} ({names[k]})" if names.get(k) else (k or "(blank)")
            i = len(rows)
            rows.append(
                [
                    name,
                    new[k],
                    window_closed[k],
                    shares(i, "counsel within 90 days %", within[k], window_closed[k]),
                    pend[k],
                    shares(i, WITHOUT_PCT, pend_without[k], pend[k]),
                ]
            )
        return rows

    def breakdowns(self) -> list[Figure]:
        breakdown_cols = [
            "",
            "new detained cases",
            "of them with 90 days passed",
            "counsel within 90 days %",
            "pending at period end",
            "without an attorney %",
        ]
        breakdown_def = (
            "New detained cases: detained cases whose first proceeding at the court started in the "
            "period (INPUT_DATE, else OSC_DATE). Counsel within 90 days: a first EOIR-28 no later "
            "than 90 days after that start, over the cases whose 90 days had passed by the release "
            "date. Pending at period end and without an attorney: as in the caseload figure, on "
            "the period's last day (or the release date, if earlier). Codes as in the release's "
            "lookup tables. "
        )
        breakdowns = []
        for key, attr, kind, title, column in (
            ("by_nationality", "nat", "nationality", "By nationality", "A_TblCase NAT. "),
            ("by_language", "lang", "language", "By language", "A_TblCase LANG. "),
            (
                "by_case_type",
                "case_type",
                "case_type",
                "By case type",
                "B_TblProceeding CASE_TYPE, else A_TblCase CASE_TYPE. ",
            ),
        ):
            cells = _Shares()
            breakdowns.append(
                Figure(
                    key,
                    title,
                    [title.removeprefix("By "), *breakdown_cols[1:]],
                    self.breakdown(attr, _labels(self.session, self.release, kind), cells),
                    breakdown_def + column + SOURCE,
                    counts={
                        "new detained cases",
                        "of them with 90 days passed",
                        "pending at period end",
                    },
                    withheld=cells.withheld,
                )
            )

        return breakdowns


def representation_report(
    session: Session,
    court: str,
    first: date,
    last: date,
    now: datetime | None = None,
    release_id: int | None = None,
) -> Report:
    """The representation report for ``court`` from month ``first`` to month ``last``."""
    court = court.strip().upper()
    release = history_release(session, court, release_id)
    made = _Representation(session, release, court, months_between(first, last))
    if not made.shown:
        raise ValidationError(
            f"--from {first:%Y-%m} is after the release's date ({release.as_of}): "
            "nothing is known yet"
        )
    figures = [made.caseload(), *made.new_cases(), made.outcomes(), *made.breakdowns()]
    return Report(
        "representation",
        f"Detained and facing a judge: representation at the {court} immigration court",
        f"{made.labels[0]} to {made.labels[-1]} (EOIR release of {made.as_of})",
        now or datetime.now(UTC),
        figures,
    )


__all__ = ["OUTCOMES", "OUTCOME_ROWS", "outcome_of", "representation_report"]
