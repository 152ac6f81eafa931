"""The program report: every figure checked against the same numbers computed here, in plain
Python, from the rows the test wrote (on SQLite and PostgreSQL); small cells suppressed in the
published form; the PDF carries every table; the CLI writes each format."""

from __future__ import annotations

import csv
import io
import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from monitor.events import KINDS
from monitor.report_files import render
from monitor.reports import SUPPRESSED, WITHHELD, Report, program_report, row_label
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.models import AcisLookup, CrawlRun, CustodyLookup, Delivery, Event, StaffChannel
from storage.people import add_client
from storage.sources import SOURCES
from tests.support.alerting import make_org
from tests.support.cli import run_cli

ZONE = ZoneInfo("America/Los_Angeles")
MONTHS = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
KINDS_USED = [
    "hearing_moved_earlier",
    "hearing_moved_later",
    "hearing_judge_changed",
    "client_transferred",
    "client_released",
]


@dataclass
class Truth:
    """What the test wrote, to compute the report's numbers independently."""

    watched: dict[date, set[int]] = field(default_factory=lambda: defaultdict(set))
    kinds: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    to_alert: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))
    to_ack: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))
    runs: dict[tuple[str, date], Counter[bool]] = field(
        default_factory=lambda: defaultdict(Counter)
    )


def _local(m: date, day: int, hour: int) -> datetime:
    return datetime(m.year, m.month, day, hour, tzinfo=ZONE).astimezone(UTC)


def _month(at: datetime) -> date:
    local = at.astimezone(ZONE)
    return date(local.year, local.month, 1)


def _write(engine: sa.Engine, sink: SmtpSink) -> Truth:
    rng = random.Random(17)
    truth = Truth()
    org = make_org(engine, sink, _local(MONTHS[0], 1, 1))
    with session_scope(engine) as s:
        ids = [org.client_id]
        for i in range(29):
            client = add_client(s, a_number=f"91300{i:04d}", name=f"CLIENT, {i}", nationality="MX")
            assert client.id is not None
            ids.append(client.id)
        channels = list(s.exec(select(StaffChannel)))[:2]  # the attorney's and the backup's
        for m in MONTHS:
            # Clients looked up: fewer in July (a small cell), most later.
            for cid in rng.sample(ids, 6 if m == MONTHS[0] else 25):
                day = rng.randint(1, 28)
                table = AcisLookup if rng.random() < 0.6 else CustodyLookup
                at = _local(m, day, rng.randint(0, 23))
                s.add(table(client_id=cid, observed_at=at, outcome="ok", raw=""))
                truth.watched[_month(at)].add(cid)
            # The last evening of the month, local time: UTC is already the next month.
            late = _local(m, 28, 23) + timedelta(days=3 if m.month != 9 else 2)
            s.add(AcisLookup(client_id=ids[0], observed_at=late, outcome="ok", raw=""))
            truth.watched[_month(late)].add(ids[0])
            n_events = 4 if m == MONTHS[0] else 40
            for k in range(n_events):
                kind = rng.choice(KINDS_USED)
                occurred = _local(m, rng.randint(1, 27), rng.randint(0, 23))
                created = occurred + timedelta(seconds=rng.randint(1, 90))
                acked = occurred + timedelta(minutes=rng.randint(5, 600)) if k % 3 else None
                event = Event(
                    kind=kind,
                    severity=KINDS[kind].severity.value,
                    subject_type="client",
                    subject_key=str(ids[k % len(ids)]),
                    client_id=ids[k % len(ids)],
                    payload={},
                    dedup_key=f"t:{m}:{k}",
                    occurred_at=occurred,
                    created_at=created,
                    acknowledged_at=acked,
                    acknowledged_by="x" if acked else "",
                )
                s.add(event)
                s.flush()
                assert event.id is not None
                truth.kinds[(kind, _month(created))] += 1
                sends = [created + timedelta(minutes=rng.randint(0, 30)) for _ in range(2)]
                if k % 7:  # most were sent; some are still pending
                    for sent, channel in zip(sends, channels, strict=True):
                        assert channel.id is not None
                        s.add(
                            Delivery(
                                event_id=event.id,
                                staff_id=channel.staff_id,
                                channel_id=channel.id,
                                status="sent",
                                sent_at=sent,
                                created_at=created,
                            )
                        )
                    truth.to_alert[_month(created)].append(
                        (min(sends) - occurred).total_seconds() / 60
                    )
                if acked is not None:
                    truth.to_ack[_month(created)].append((acked - occurred).total_seconds() / 60)
            for source in SOURCES:
                for _ in range(rng.randint(5, 30)):
                    outcome = rng.choice(["ok", "ok", "ok", "blocked", "failed", "running"])
                    at = _local(m, rng.randint(1, 28), rng.randint(0, 23))
                    s.add(CrawlRun(source=source, started_at=at, finished_at=at, outcome=outcome))
                    if outcome != "running":
                        truth.runs[(source, _month(at))][outcome == "ok"] += 1
    return truth


def _figure(report: Report, key: str) -> dict[str, Any]:
    (fig,) = [f for f in report.figures if f.key == key]
    return {"columns": fig.columns, "rows": fig.rows}


@pytest.fixture
def written(engine: sa.Engine) -> tuple[sa.Engine, Truth]:
    with SmtpSink() as sink:
        return engine, _write(engine, sink)


def test_every_figure_matches_an_independent_count(written: tuple[sa.Engine, Truth]) -> None:
    engine, truth = written
    with session_scope(engine) as s:
        report = program_report(s, MONTHS[0], MONTHS[-1], "America/Los_Angeles")
    labels = [f"{m:%Y-%m}" for m in MONTHS]

    watched = _figure(report, "clients_watched")["rows"]
    assert watched == [[f"{m:%Y-%m}", len(truth.watched[m])] for m in MONTHS]

    for key, kinds in (("hearing_changes", KINDS_USED[:3]), ("custody_changes", KINDS_USED[3:])):
        rows = {r[0]: r[1:] for r in _figure(report, key)["rows"]}
        for kind in kinds:
            expected = [truth.kinds[(kind, m)] for m in MONTHS]
            assert rows[kind] == [*expected, sum(expected)], kind
        others = [v for name, v in rows.items() if name not in kinds]
        assert all(v == [0] * (len(MONTHS) + 1) for v in others)

    speed = _figure(report, "speed")["rows"]
    for row, m in zip(speed, MONTHS, strict=True):
        alert, ack = truth.to_alert[m], truth.to_ack[m]
        assert row[0] == f"{m:%Y-%m}" and row[1] == len(alert) and row[3] == len(ack)
        assert row[2] == pytest.approx(statistics.median(alert), abs=0.051)
        assert row[4] == pytest.approx(statistics.median(ack), abs=0.051)

    availability = {r[0]: r[1:] for r in _figure(report, "availability")["rows"]}
    for source in SOURCES:
        for value, m in zip(availability[source], MONTHS, strict=True):
            c = truth.runs[(source, m)]
            assert value == f"{100 * c[True] / (c[True] + c[False]):.1f}%"
    assert _figure(report, "availability")["columns"] == ["source", *labels]


def test_published_form_suppresses_small_cells(written: tuple[sa.Engine, Truth]) -> None:
    engine, truth = written
    with session_scope(engine) as s:
        report = program_report(s, MONTHS[0], MONTHS[-1], "America/Los_Angeles").published()
    july = _figure(report, "clients_watched")["rows"][0]
    assert len(truth.watched[MONTHS[0]]) < 10 and july[1] == SUPPRESSED
    speed_july = _figure(report, "speed")["rows"][0]
    assert speed_july[1] == SUPPRESSED and speed_july[2] == WITHHELD  # 4 alerts: no median
    speed_aug = _figure(report, "speed")["rows"][1]
    assert isinstance(speed_aug[1], int) and speed_aug[1] >= 10 and isinstance(speed_aug[2], float)
    for fig in report.figures:  # no figure shows a count from 1 to 9
        for row in fig.rows:
            assert not any(isinstance(v, int) and 0 < v < 10 for v in row[1:]), (fig.key, row)
            if SUPPRESSED in row[1:-1] and "total" in fig.columns:  # nor lets one be worked out
                assert not isinstance(row[-1], int), (fig.key, row)
                assert row[-1] == SUPPRESSED or str(row[-1]).endswith("0+")


def test_the_pdf_carries_every_table_and_the_files_agree(
    written: tuple[sa.Engine, Truth],
) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    engine, _ = written
    with session_scope(engine) as s:
        report = program_report(s, MONTHS[0], MONTHS[-1], "America/Los_Angeles").published()
    pages = PdfReader(io.BytesIO(render(report, "pdf"))).pages
    # Compared without whitespace: the PDF's text breaks lines (and kerns) where it likes.
    text = "".join("".join(page.extract_text().split()) for page in pages)

    def there(words: str) -> bool:
        return "".join(words.split()) in text

    for fig in report.figures:
        assert there(fig.title), fig.title
        for column in fig.columns:
            assert there(column), (fig.title, column)
        for row in fig.rows:
            assert there(row_label(row[0])), (fig.title, row[0])
        assert there(" ".join(fig.definition.split()[:6]))  # its footnote
    book = load_workbook(io.BytesIO(render(report, "xlsx")))
    assert [f.title for f in report.figures] + ["Definitions"] == book.sheetnames
    sheet = book["Clients watched"]
    assert [c.value for c in sheet[2]] == ["month", "clients"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=3, max_row=5)] == (
        _figure(report, "clients_watched")["rows"]
    )
    cells = list(csv.DictReader(io.StringIO(render(report, "csv").decode())))
    watched = [(c["row"], c["value"]) for c in cells if c["figure"] == "clients_watched"]
    assert watched == [(str(r[0]), str(r[1])) for r in _figure(report, "clients_watched")["rows"]]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_command_writes_each_format(written: tuple[sa.Engine, Truth], tmp_path: Path) -> None:
    engine, _ = written
    env = {"DATABASE_URL": str(engine.url), "DOCKETWATCH_TIMEZONE": "America/Los_Angeles"}
    for fmt in ("html", "pdf", "xlsx", "csv"):
        result = run_cli(
            "report",
            "program",
            "--from",
            "2026-07",
            "--to",
            "2026-09",
            "--format",
            fmt,
            cwd=tmp_path,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"program-2026-07-2026-09.{fmt}").stat().st_size > 500
    html = tmp_path / "program-2026-07-2026-09.html"
    page = html.read_text()
    assert "<script" not in page and "http" not in page.split("</head>")[0]  # self-contained
    assert "DOE" not in page and "912345678" not in page  # no personal data
    _rendered_in_chromium(html)
    bad = run_cli(
        "report", "program", "--from", "2026-09", "--to", "2026-07", cwd=tmp_path, env=env
    )
    assert bad.returncode == 2 and "before --from" in bad.stderr


def test_the_monthly_report_alert_goes_to_coordinators_once(
    engine: sa.Engine, tmp_path: Path
) -> None:
    import scheduler
    from monitor.dispatch import Dispatcher
    from storage.settings import Settings

    with SmtpSink() as sink:
        truth = _write(engine, sink)
        settings = Settings(
            timezone="America/Los_Angeles",
            web_base_url="https://dw.example.org",
            ack_secret="s",
            data_dir=tmp_path,
        )
        first_of_october = datetime(2026, 10, 1, 7, tzinfo=ZONE).astimezone(UTC)
        assert scheduler.monthly_report(engine, settings, first_of_october)
        assert not scheduler.monthly_report(engine, settings, first_of_october + timedelta(hours=1))
        Dispatcher(engine, settings, clock=lambda: first_of_october).run_once()
        (mail,) = [m for m in sink.to("coord@example.org") if "Monthly program report" in m.subject]
        text = " ".join(mail.text().split())
        september = MONTHS[-1]
        hearing = sum(truth.kinds[(k, september)] for k in KINDS_USED[:3])
        assert f"2026-09: {len(truth.watched[september])} clients watched" in text
        assert f"{hearing} hearing changes" in text
        assert "https://dw.example.org/reports?from=2026-09&to=2026-09" in text
        (attached,) = list(mail.message.iter_attachments())  # the report itself, as a PDF
        assert attached.get_filename() == "program-2026-09.pdf"
        from pypdf import PdfReader

        pdf_text = "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(attached.get_content())).pages
        )
        assert "Clients watched" in pdf_text and "2026-09" in pdf_text
        assert not [
            m
            for m in sink.messages
            if "Monthly" in m.subject and m.recipients != ["coord@example.org"]
        ]
        with session_scope(engine) as s:
            (event,) = s.exec(select(Event).where(Event.kind == "monthly_report")).all()
            assert event.subject_key == "2026-09"


def _rendered_in_chromium(html: Path) -> None:
    """The HTML report as a funder's browser shows it: every chart and table there; a
    screenshot for the README when DOCKETWATCH_SCREENSHOTS is set."""
    import os

    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options
    from storage.settings import Settings

    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(Settings(), headed=False))
        try:
            page = browser.new_page()
            page.goto(html.as_uri())
            assert page.locator("table").count() == 5
            assert page.locator("svg rect").count() >= len(MONTHS)  # the charted figures
            assert page.get_by_role("heading", name="Definitions and sources").is_visible()
            if os.environ.get("DOCKETWATCH_SCREENSHOTS"):
                shots = Path(__file__).parent.parent / "docs" / "screenshots"
                page.screenshot(path=str(shots / "report.png"), full_page=True)
        finally:
            browser.close()
