"""The representation report: on a generated release, every figure checked against the same
numbers computed here in plain Python straight from the release's files (the zip's raw rows,
not what the loader stored); the decision grouping against EOIR's real lookup; small cells
withheld in the published form; the PDF carries every table; the command, the web page (in
Chromium, for each role that can reach it) and the refusals."""

from __future__ import annotations

import csv
import io
import statistics
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.report_files import render
from monitor.reports import SUPPRESSED, WITHHELD, Report
from monitor.representation import representation_report
from sandbox import pgserver as pg
from sandbox.eoir_foia_release import generate
from storage.db import make_engine, session_scope, upgrade
from storage.eoir_foia import load_release
from storage.errors import ValidationError
from storage.reference_data import court_decisions
from tests.support.cli import run_cli

AS_OF = date(2026, 11, 1)
FIRST, LAST = date(2025, 1, 1), date(2026, 10, 1)
COURT = "ADL"
FIXTURES = Path(__file__).parent / "fixtures" / "eoir_foia"

# The grouping of EOIR's decisions, stated again here from docs/representation-report.md (by
# decision type and description, as the real lookup words them), not read from the product.
RELIEF = {
    "relief granted",
    "grant",
    "conditional grant",
    "admit",
    "terminate",
    "terminated",
    "prosecutorial discretion - terminated",
    "vacate - dhs decision and credible fear",
    "vacate - dhs decision and alien's claimed status valid",
    "dhs decision and reasonable fear",
    "dismissed",
}
REMOVAL = {
    "remove",
    "deport",
    "exclude",
    "deny",
    "affirmed - dhs decision",
    "affirmed - dhs decision and no credible fear",
    "dhs decision and no reasonable fear",
    "rescind",
}


# -- the release's raw files, read here ----------------------------------------------------------


def _rows(zf: zipfile.ZipFile, member: str) -> Iterator[dict[str, str]]:
    """Rows of one table as dicts, trimmed and NUL-free; a row whose field count is not the
    header's (a stray tab) is skipped, as the loader quarantines it."""
    text = zf.read(member).decode("latin-1")
    lines = text.split("\n")
    header = lines[0].split("\t")
    header = ["GENDER" if h == "Sex" else h for h in header]
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            continue
        yield {h: f.replace("\x00", "").strip() for h, f in zip(header, fields, strict=True)}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@dataclass
class Raw:
    """What the files say about the court's detained proceedings and cases."""

    procs: list[dict[str, Any]] = field(default_factory=list)
    counsel: dict[int, date | None] = field(default_factory=dict)
    first_master: dict[int, date] = field(default_factory=dict)  # by proceeding
    nat: dict[str, str] = field(default_factory=dict)


def _read(path: Path) -> Raw:
    raw = Raw()
    with zipfile.ZipFile(path) as zf:
        names = {n.rsplit("/", 1)[-1].removesuffix(".csv"): n for n in zf.namelist()}
        custody: dict[int, str] = {}
        case_e28: dict[int, date | None] = {}
        case_info: dict[int, dict[str, str]] = {}
        for r in _rows(zf, names["A_TblCase"]):
            idn = int(r["IDNCASE"])
            custody[idn] = r["CUSTODY"]
            case_e28[idn] = _day(r["E_28_DATE"])
            case_info[idn] = r
        rep_e28: dict[int, list[date]] = defaultdict(list)
        for r in _rows(zf, names["tbl_RepsAssigned"]):
            if r["STRATTYTYPE"].upper() == "ALIEN" and r["STRATTYLEVEL"].upper() == "COURT":
                d = _day(r["E_28_DATE"])
                if d is not None and r["IDNCASE"].isdigit():
                    rep_e28[int(r["IDNCASE"])].append(d)
        for r in _rows(zf, names["B_TblProceeding"]):
            if r["BASE_CITY_CODE"] != COURT or not r["IDNPROCEEDING"].isdigit():
                continue
            idncase = int(r["IDNCASE"])
            if custody.get(idncase) != "D":
                continue
            info = case_info[idncase]
            raw.procs.append(
                {
                    "id": int(r["IDNPROCEEDING"]),
                    "case": idncase,
                    "start": _day(r["INPUT_DATE"]) or _day(r["OSC_DATE"]),
                    "comp": _day(r["COMP_DATE"]),
                    "comp_text": r["COMP_DATE"],
                    "other": r["OTHER_COMP"],
                    "dec": r["DEC_CODE"],
                    "absentia": r["ABSENTIA"],
                    "ctype": r["CASE_TYPE"] or info["CASE_TYPE"],
                    "nat": info["NAT"],
                    "lang": info["LANG"],
                    "initial": _day(r["HEARING_DATE"]),
                }
            )
            dates = [d for d in (case_e28.get(idncase), *rep_e28.get(idncase, [])) if d]
            raw.counsel[idncase] = min(dates) if dates else None
            if raw.procs[-1]["initial"] is not None:
                raw.first_master[raw.procs[-1]["id"]] = raw.procs[-1]["initial"]
        decisions = {}
        for r in _rows(zf, names["tblLookupCourtDecision"]):
            decisions[(r["strCaseType"], r["strDecCode"], r["strDecType"])] = r[
                "strDecDescription"
            ].lower()
        for p in raw.procs:
            p["group"] = _group(p, decisions)
    return raw


def _group(p: dict[str, Any], decisions: dict[tuple[str, str, str], str]) -> str:
    if p["dec"]:
        desc, kind = decisions.get((p["ctype"], p["dec"], "C")), "C"
    else:
        desc, kind = decisions.get((p["ctype"], p["other"], "O")), "O"
    if desc is None:
        return "not_coded"
    if kind == "C" and desc in RELIEF:
        return "relief_or_termination"
    if kind == "C" and desc in REMOVAL:
        return "in_absentia" if p["absentia"] == "Y" else "removal"
    if kind == "C" and desc == "voluntary departure":
        return "voluntary_departure"
    return "other"


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _month_end(m: date) -> date:
    return date(m.year + (m.month == 12), m.month % 12 + 1, 1) - timedelta(days=1)


def _months() -> list[date]:
    out, m = [], FIRST
    while m <= LAST:
        out.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def _expected(raw: Raw) -> dict[str, list[list[Any]]]:
    """Every figure's rows, by the definitions in the report's footnotes."""
    months = _months()

    def counsel_by(case: int, day: date) -> bool:
        c = raw.counsel.get(case)
        return c is not None and c <= day

    def pending_at(p: dict[str, Any], day: date) -> bool:
        if p["start"] is None or p["start"] > day:
            return False
        if p["comp"] is None:  # completed with no readable date: not counted
            return not p["other"] and not p["comp_text"]
        return p["comp"] > day

    out: dict[str, list[list[Any]]] = {"caseload": [], "new_cases": [], "first_master": []}
    for m in months:
        end = min(_month_end(m), AS_OF)
        pend = [p for p in raw.procs if pending_at(p, end)]
        without = len([p for p in pend if not counsel_by(p["case"], end)])
        out["caseload"].append([f"{m:%Y-%m}", len(pend), without, _pct(without, len(pend))])
    starts: dict[int, date] = {}
    masters: dict[int, date] = {}
    for p in raw.procs:
        if p["start"] is None:
            continue
        if p["case"] not in starts or p["start"] < starts[p["case"]]:
            starts[p["case"]] = p["start"]
        fm = raw.first_master.get(p["id"])
        if fm is not None and (p["case"] not in masters or fm < masters[p["case"]]):
            masters[p["case"]] = fm
    for m in months:
        cases = [c for c, s in starts.items() if (s.year, s.month) == (m.year, m.month)]
        closed = _month_end(m) + timedelta(days=90) <= AS_OF
        shares = [
            _pct(
                len([c for c in cases if counsel_by(c, starts[c] + timedelta(days=w))]), len(cases)
            )
            if closed
            else None
            for w in (30, 60, 90)
        ]
        counsel = {c: d for c, d in raw.counsel.items() if d is not None}
        waits = [
            max(0, (counsel[c] - starts[c]).days)
            for c in cases
            if c in counsel and counsel[c] <= AS_OF
        ]
        median = statistics.median(waits) if waits else None
        out["new_cases"].append([f"{m:%Y-%m}", len(cases), *shares, len(waits), median])
        held = [c for c in cases if c in masters and masters[c] <= AS_OF]
        at = len([c for c in held if counsel_by(c, masters[c])])
        out["first_master"].append([f"{m:%Y-%m}", len(held), at, _pct(at, len(held))])
    period_end = min(_month_end(months[-1]), AS_OF)
    done = [p for p in raw.procs if p["comp"] is not None and FIRST <= p["comp"] <= period_end]
    rep = Counter(p["group"] for p in done if counsel_by(p["case"], p["comp"]))
    unrep = Counter(p["group"] for p in done if not counsel_by(p["case"], p["comp"]))
    order = [
        "relief_or_termination",
        "removal",
        "in_absentia",
        "voluntary_departure",
        "other",
        "not_coded",
    ]
    out["outcomes"] = [
        [g, rep[g], _pct(rep[g], sum(rep.values())), unrep[g], _pct(unrep[g], sum(unrep.values()))]
        for g in order
    ]
    for figure, attr in (
        ("by_nationality", "nat"),
        ("by_language", "lang"),
        ("by_case_type", "ctype"),
    ):
        new: Counter[str] = Counter()
        closed_n: Counter[str] = Counter()
        within: Counter[str] = Counter()
        first_of: dict[int, str] = {}
        for p in sorted(raw.procs, key=lambda p: p["start"] or date.max):
            if p["start"] is not None and p["case"] not in first_of:
                first_of[p["case"]] = p[attr]
        for c, s in starts.items():
            if FIRST <= s <= period_end:
                new[first_of[c]] += 1
                if s + timedelta(days=90) <= AS_OF:
                    closed_n[first_of[c]] += 1
                    within[first_of[c]] += counsel_by(c, s + timedelta(days=90))
        pend_n: Counter[str] = Counter()
        pend_without: Counter[str] = Counter()
        for p in raw.procs:
            if pending_at(p, period_end):
                pend_n[p[attr]] += 1
                pend_without[p[attr]] += not counsel_by(p["case"], period_end)
        out[figure] = sorted(
            [
                [
                    k,
                    new[k],
                    closed_n[k],
                    _pct(within[k], closed_n[k]),
                    pend_n[k],
                    _pct(pend_without[k], pend_n[k]),
                ]
                for k in set(new) | set(pend_n)
            ],
            key=lambda r: (-r[1] - r[4], r[0]),
        )
    return out


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("release") / "EOIR Case Data.zip"
    generate(path, 30_000, as_of=AS_OF, deflate64=False)  # zipfile reads it here
    return path


@pytest.fixture(
    scope="module",
    # Every test on SQLite in the fast tier; the figures again on PostgreSQL in the scale tier.
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.scale)],
)
def loaded(
    request: pytest.FixtureRequest, release: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    work = tmp_path_factory.mktemp("db")
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{work / 'dw.db'}")
        upgrade(engine)
        load_release(engine, release, courts=[COURT, "LOS"], as_of=AS_OF, work_dir=work / "w")
        yield engine
        engine.dispose()
        return
    admin = request.getfixturevalue("pg_admin_url")
    with pg.fresh_database(admin) as url:
        engine = make_engine(url)
        upgrade(engine)
        load_release(engine, release, courts=[COURT, "LOS"], as_of=AS_OF, work_dir=work / "w")
        yield engine
        engine.dispose()


def _report(engine: sa.Engine) -> Report:
    with session_scope(engine) as s:
        return representation_report(s, COURT, FIRST, LAST)


def _fig(report: Report, key: str) -> Any:
    (fig,) = [f for f in report.figures if f.key == key]
    return fig


# -- tests ---------------------------------------------------------------------------------------


def test_every_figure_matches_the_release_files(loaded: sa.Engine, release: Path) -> None:
    report = _report(loaded)
    expected = _expected(_read(release))
    for key in ("caseload", "new_cases", "first_master"):
        assert _fig(report, key).rows == expected[key], key
    # The outcome rows are labelled for readers; the groups are in the same order.
    outcomes = _fig(report, "outcomes").rows
    assert [r[1:] for r in outcomes] == [r[1:] for r in expected["outcomes"]]
    for key in ("by_nationality", "by_language", "by_case_type"):  # rows are "CODE (Label)"
        rows = [[r[0].split(" ")[0], *r[1:]] for r in _fig(report, key).rows]
        assert rows == expected[key], key
        assert len(rows) >= 5, key
    # The release is big enough that every figure has substance: no vacuous comparison.
    assert sum(r[1] for r in expected["caseload"]) > 1000
    assert sum(r[1] for r in expected["new_cases"]) > 100
    assert sum(r[1] for r in expected["first_master"]) > 100
    done = {r[0]: r[1] + r[3] for r in expected["outcomes"]}
    assert all(
        done[g] > 0 for g in ("relief_or_termination", "removal", "voluntary_departure", "other")
    )
    # Represented respondents win relief more often: the gap the report exists to show.
    (relief,) = [r for r in outcomes if r[0].startswith("Relief")]
    assert relief[2] > relief[4]


def test_the_grouping_covers_the_real_lookup_row_for_row() -> None:
    """storage/reference/court_decisions.csv is EOIR's lookup as published (tests/fixtures: the
    real file, old-Mac line endings and all), each row with a group."""
    raw = (FIXTURES / "master_decision_on_proceeding.csv").read_bytes().decode("mac_roman")
    rows = [r[:4] for r in csv.reader(io.StringIO(raw.replace("\r", "\n"))) if len(r) >= 4]
    real = {(r[0], r[1], r[2]): r[3].strip() for r in rows[1:] if len(r[0]) == 3}
    ours = court_decisions()
    assert len(real) == 168 and set(ours) == set(real)
    for key, d in ours.items():
        assert d.description == real[key]
        desc = d.description.lower().replace("\u2013", "-")
        if d.type == "C" and desc in RELIEF:
            assert d.outcome == "relief_or_termination", key
        elif d.type == "C" and desc in REMOVAL:
            assert d.outcome == "removal", key
        elif d.type == "C" and desc == "voluntary departure":
            assert d.outcome == "voluntary_departure", key
        else:
            assert d.outcome == "other", key


@pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
def test_published_form_withholds_small_cells(loaded: sa.Engine) -> None:
    report = _report(loaded)
    published = report.published()
    seen_small = 0
    for fig, pub in zip(report.figures, published.figures, strict=True):
        for row, prow in zip(fig.rows, pub.rows, strict=True):
            for col, value, shown in zip(fig.columns, row, prow, strict=True):
                if col in fig.counts and isinstance(value, int) and 0 < value < 10:
                    assert shown == SUPPRESSED
                    seen_small += 1
        # A share never gives a small count away: its cases, or the rest, are 0 or 10+.
        for i, name in fig.withheld:
            assert pub.rows[i][fig.columns.index(name)] in (WITHHELD, None)
    assert seen_small > 0  # the release has small cells (absentia orders with counsel)
    # Where a count is suppressed, the share beside it is withheld too (else count = share x
    # total); and where the rest of the column is small, likewise.
    checked = 0
    for row in _fig(published, "outcomes").rows:
        for count_at in (1, 3):
            if row[count_at] == SUPPRESSED:
                assert row[count_at + 1] == WITHHELD, row
                checked += 1
    for raw_row, row in zip(
        _fig(report, "caseload").rows, _fig(published, "caseload").rows, strict=True
    ):
        pending, without = raw_row[1], raw_row[2]
        if pending and (0 < without < 10 or 0 < pending - without < 10 or pending < 10):
            assert row[3] == WITHHELD, row
            checked += 1
        else:
            assert row[3] == raw_row[3]
    assert checked > 0


@pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
def test_the_pdf_carries_every_table(loaded: sa.Engine) -> None:
    from pypdf import PdfReader

    report = _report(loaded).published()
    pages = PdfReader(io.BytesIO(render(report, "pdf"))).pages
    text = "".join("".join(page.extract_text().split()) for page in pages)
    for fig in report.figures:
        assert "".join(fig.title.split()) in text, fig.title
        for column in fig.columns:
            assert "".join(column.split()) in text, (fig.title, column)
        for row in fig.rows:
            assert "".join(str(row[0]).split()) in text, (fig.title, row[0])
        assert "".join(" ".join(fig.definition.split()[:6]).split()) in text


@pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
def test_refusals_say_why(loaded: sa.Engine, tmp_path: Path) -> None:
    with session_scope(loaded) as s, pytest.raises(ValidationError, match="ADL only"):
        representation_report(s, "LOS", FIRST, LAST)
    with session_scope(loaded) as s, pytest.raises(ValidationError, match="after the release"):
        representation_report(s, COURT, date(2027, 1, 1), date(2027, 2, 1))
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(empty)
    with session_scope(empty) as s, pytest.raises(ValidationError, match="no EOIR FOIA release"):
        representation_report(s, COURT, FIRST, LAST)


@pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
def test_the_command_writes_each_format(loaded: sa.Engine, tmp_path: Path) -> None:
    env = {"DATABASE_URL": str(loaded.url)}
    for fmt in ("html", "pdf", "xlsx", "csv"):
        result = run_cli(
            "report",
            "representation",
            "--court",
            "ADL",
            "--from",
            "2025-01",
            "--to",
            "2026-10",
            "--format",
            fmt,
            cwd=tmp_path,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"representation-ADL-2025-01-2026-10.{fmt}").stat().st_size > 1000
    html = tmp_path / "representation-ADL-2025-01-2026-10.html"
    page = html.read_text()
    assert "<script" not in page and page.count("<table") == 7
    _rendered_in_chromium(html)
    cells = list(
        csv.DictReader(
            io.StringIO((tmp_path / "representation-ADL-2025-01-2026-10.csv").read_text())
        )
    )
    assert {c["figure"] for c in cells} >= {"caseload", "outcomes", "by_language"}
    other = run_cli(
        "report",
        "representation",
        "--court",
        "LOS",
        "--from",
        "2025-01",
        "--to",
        "2026-10",
        cwd=tmp_path,
        env=env,
    )
    assert other.returncode == 2 and "complete history of ADL only" in other.stderr


def _rendered_in_chromium(html: Path) -> None:
    """The HTML file as a funder's browser shows it: every table and chart."""
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options
    from storage.settings import Settings

    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(Settings(), headed=False))
        try:
            page = browser.new_page()
            page.goto(html.as_uri())
            assert page.locator("table").count() == 7
            assert page.locator("svg").count() >= 2  # the charted figures with shown values
            assert page.locator("svg rect").count() >= 22  # a bar per month, at least
            assert page.get_by_role("heading", name="Definitions and sources").is_visible()
        finally:
            browser.close()


@pytest.mark.parametrize("loaded", ["sqlite"], indirect=True)
def test_the_monthly_email_carries_both_reports(loaded: sa.Engine, tmp_path: Path) -> None:
    """On the first of the month, coordinators' email carries the program report and the
    representation report of the twelve months up to the release, both as PDF."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from pypdf import PdfReader

    import scheduler
    from monitor.dispatch import Dispatcher
    from sandbox.mail import SmtpSink
    from storage.settings import Settings
    from tests.support.alerting import make_org

    first_of_november = datetime(2026, 11, 1, 7, tzinfo=ZoneInfo("America/Los_Angeles"))
    now = first_of_november.astimezone(UTC)
    from storage.reference_data import load_reference_data

    load_reference_data(loaded)
    with SmtpSink() as sink:
        org = make_org(loaded, sink, now - timedelta(days=40))
        settings = Settings(timezone="America/Los_Angeles", ack_secret="s", data_dir=tmp_path)
        assert scheduler.monthly_report(loaded, settings, now)
        Dispatcher(loaded, settings, clock=lambda: now).run_once()
        (mail,) = [m for m in sink.to(org.coordinator) if "Monthly program report" in m.subject]
        files = {a.get_filename(): a.get_content() for a in mail.message.iter_attachments()}
        assert set(files) == {"program-2026-10.pdf", "representation-ADL-2026-10.pdf"}
        text = " ".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(files["representation-ADL-2026-10.pdf"])).pages
        )
        assert "Pending detained caseload" in text and "2025-11 to 2026-10" in text
