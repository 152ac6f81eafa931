"""ICE detention statistics: every real workbook parses; editions stored; the trend; the source."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from checks.detention_stats import check as run_stats_check
from monitor.detention_stats import svg_chart
from sandbox.detention_stats import DetentionStatsSandbox, make_workbook
from spiders.detention_stats import find_workbooks, parse_workbook, sanity_checks
from storage.detention_stats import normalize_name, trend
from storage.errors import ValidationError
from storage.models import CrawlRun, FacilityPopulation, StatsEdition
from storage.reference_data import load_reference_data
from storage.settings import Settings
from storage.snapshots import FacilityRow
from tests.support.cli import ROOT, run_cli
from tests.support.golden import check_golden

XLSX = ROOT / "tests/fixtures/detention_stats/ice_xlsx"  # real ICE workbooks (see README)
EDITIONS = sorted(XLSX.glob("FY*.xlsx"))
FIXTURES = Path(__file__).parent / "fixtures" / "detention_stats"


def _find(edition: object, needle: str) -> list[FacilityRow]:
    return [f for f in edition.facilities if needle in f.name.upper()]  # type: ignore[attr-defined]


def test_there_are_real_workbooks_to_test() -> None:
    assert len(EDITIONS) >= 10


@pytest.mark.parametrize("path", EDITIONS, ids=[p.name for p in EDITIONS])
def test_every_real_workbook_parses_with_adelanto(path: Path) -> None:
    edition = parse_workbook(path)
    assert edition.sheet.strip().startswith("Facilities")
    assert edition.fiscal_year == int("20" + path.name[2:4])
    assert edition.data_as_of is not None and not edition.stale
    assert len(edition.facilities) > 100
    (adl,) = _find(edition, "ADELANTO")
    assert (adl.city.upper(), adl.state, adl.zip, adl.aor) == ("ADELANTO", "CA", "92301", "LOS")
    assert adl.adp == pytest.approx(adl.level_a + adl.level_b + adl.level_c + adl.level_d)
    assert adl.adp > 0 and adl.alos is not None and adl.alos > 0
    desert = _find(edition, "DESERT VIEW")
    if edition.fiscal_year and edition.fiscal_year >= 2021:
        assert len(desert) == 1 and desert[0].zip == "92301"
    for fac in edition.facilities:  # no footnote or repeated header row survives
        assert fac.name.lower() != "name" and len(fac.zip) in (0, 5, 9, 10)  # a state can be blank
        assert fac.last_inspection_date is None or fac.last_inspection_note == ""


def test_editions_summary_golden(update_goldens: bool) -> None:
    summary = []
    for path in EDITIONS:
        e = parse_workbook(path)
        (adl,) = _find(e, "ADELANTO")
        desert = _find(e, "DESERT VIEW")
        summary.append(
            {
                "file": e.file,
                "sheet": e.sheet,
                "fiscal_year": e.fiscal_year,
                "data_as_of": e.data_as_of,
                "header_row": e.header_row,
                "facilities": len(e.facilities),
                "dropped_rows": e.dropped_rows,
                "adelanto_adp": round(adl.adp, 3),
                "adelanto_levels": [
                    round(x, 3) for x in (adl.level_a, adl.level_b, adl.level_c, adl.level_d)
                ],
                "adelanto_last_inspection": adl.last_inspection_date or adl.last_inspection_note,
                "desert_view_adp": round(desert[0].adp, 3) if desert else None,
                "checks_failed": sum(1 for f in e.facilities if f.checks),
            }
        )
    check_golden(FIXTURES / "editions.expected.json", summary, update_goldens)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("09foia5638detentionfacilitylist.xls", "not an .xlsx workbook"),
        ("2015IceDetentionFacilityListing.xlsx", "no Facilities sheet"),
        ("Over72HourFacilities.xlsx", "no Facilities sheet"),
    ],
)
def test_files_that_are_not_editions_get_a_clear_error(
    name: str, message: str, tmp_path: Path
) -> None:
    path = XLSX / name
    if name.endswith(".xls"):  # ICE's 2009 list is a legacy OLE2 workbook: its signature suffices
        path = tmp_path / name
        path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(ValidationError, match=message) as info:
        parse_workbook(path)
    assert name in str(info.value)


def test_an_old_sheet_in_a_new_workbook_is_parsed_and_flagged_stale(tmp_path: Path) -> None:
    # ICE shipped FY20 data (as of 02/24/2020) inside an FY22 file: derive such a file.
    src = XLSX / "FY22-detentionStats.xlsx"
    wb = openpyxl.load_workbook(src)
    ws = wb["Facilities FY22"]
    for row in ws.iter_rows(max_row=8):
        for cell in row:
            if isinstance(cell.value, str) and "FACILITIES DATA" in cell.value:
                cell.value = "ICE FACILITIES DATA, FY20 YTD"
            elif isinstance(cell.value, str) and "(IIDS)" in cell.value:
                cell.value = "Source: ICE Integrated Decision Support (IIDS), 02/24/2020"
            elif cell.value == "FY22 ALOS":
                cell.value = "FY20 ALOS"
    dest = tmp_path / "FY22_detentionStats09152022.xlsx"
    wb.save(dest)
    edition = parse_workbook(dest)
    assert edition.stale and edition.fiscal_year == 2020 and edition.workbook_fiscal_year == 2022
    assert "FY20" in edition.stale_reason and edition.data_as_of == "2020-02-24"
    assert _find(edition, "ADELANTO")  # still parsed


def test_sanity_checks_report_breakdowns_that_do_not_add_up() -> None:
    fac = FacilityRow(
        name="X",
        level_a=50,
        level_b=50,
        adp=100.0,
        male_crim=10,
        male_noncrim=10,
        female_crim=0,
        female_noncrim=0,
        threat_1=25,
        threat_2=25,
        threat_3=25,
        no_threat=25,
    )
    (failed,) = sanity_checks(fac)
    assert "gender x criminality" in failed and "20.0" in failed
    fac.male_noncrim = 90
    assert sanity_checks(fac) == []


def test_names_match_across_editions_and_the_locator() -> None:
    assert normalize_name("Adelanto ICE Processing Center") == normalize_name(
        "ADELANTO ICE PROCESSING CENTER"
    )
    assert normalize_name("DESERT VIEW") == normalize_name("DESERT VIEW ANNEX")
    assert normalize_name("NORTHWEST ICE PROCESSSING CENTER") == normalize_name(
        "Northwest ICE Processing Center 2"
    )


def test_trend_command_prints_adelanto_adp_per_edition(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    loaded = run_cli("stats", "load", *map(str, EDITIONS), cwd=tmp_path, env=env, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    again = run_cli("stats", "load", str(EDITIONS[0]), cwd=tmp_path, env=env)
    assert "already stored" in again.stdout
    result = run_cli(
        "facilities", "trend", "ADELANTO", "--json", "--chart", "adl.svg", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == len(EDITIONS)
    expected = {}
    for path in EDITIONS:
        e = parse_workbook(path)
        expected[e.data_as_of] = round(_find(e, "ADELANTO")[0].adp, 1)
    assert {r["data_as_of"]: r["adp"] for r in rows} == expected
    svg = (tmp_path / "adl.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<circle") == len(EDITIONS)
    by_code = run_cli(
        "facilities", "trend", "CADESVI", "--json", "--chart", "dv.svg", cwd=tmp_path, env=env
    )
    assert len(json.loads(by_code.stdout)) == sum(
        1 for p in EDITIONS if _find(parse_workbook(p), "DESERT VIEW")
    )
    missing = run_cli("facilities", "trend", "NOWHERE", cwd=tmp_path, env=env)
    assert missing.returncode == 2 and "no stored edition" in missing.stderr


def test_page_links_newest_is_chosen_whatever_the_order() -> None:
    page = """<html><body>
      <a href="https://www.ice.gov/doclib/detention/FY26_detentionStats_04092026.xlsx">a</a>
      <a href="/doclib/detention/FY25_detentionStats09242025.xlsx">b</a>
      <a href="/doclib/detention/FY26_detentionStats02022026.xlsx">c</a>
      <a href="/doclib/detention/FY23_detentionStats230316.xlsx">d</a>
      <a href="/doclib/detention/FY26_detentionStats_07202026.xlsx">e</a>
      <a href="/doclib/other/guide.pdf">f</a></body></html>"""
    links = find_workbooks(page, "https://www.ice.gov/detain/detention-management")
    assert links[0].url == "https://www.ice.gov/doclib/detention/FY26_detentionStats_07202026.xlsx"
    assert [link.snapshot for link in links][:3] == [
        date(2026, 7, 20),
        date(2026, 4, 9),
        date(2026, 2, 2),
    ]
    assert links[-1].snapshot == date(2023, 3, 16)


def test_source_check_downloads_only_new_workbooks(engine: sa.Engine, tmp_path: Path) -> None:
    load_reference_data(engine)
    made = make_workbook(
        tmp_path / "FY27_detentionStats_11012026.xlsx",
        2027,
        date(2026, 10, 25),
        {"ADELANTO ICE PROCESSING CENTER": 1500.0},
    )
    real = tmp_path / "FY26_detentionStats_04092026.xlsx"
    shutil.copy(XLSX / real.name, real)
    with DetentionStatsSandbox() as site:
        site.serve([made, real])  # the newest is listed first here, an older one after it
        settings = Settings(detention_stats_url=site.page_url, data_dir=tmp_path / "data")
        first = run_stats_check(engine, settings)
        assert first.outcome == "ok" and "new edition" in first.message, first.message
        assert site.state.downloads == [made.name]
        second = run_stats_check(engine, settings)
        assert "unchanged" in second.message and site.state.downloads == [made.name]
        # The same file again under a new name: fetched once, stored once (by SHA-256).
        copy = tmp_path / "FY27_detentionStats_11152026.xlsx"
        shutil.copy(made, copy)
        site.serve([made, real, copy])
        third = run_stats_check(engine, settings)
        assert "same file as" in third.message
        site.state.layout = "redesign"
        broken = run_stats_check(engine, settings)
        assert broken.outcome == "layout_changed"
    with Session(engine) as s:
        editions = s.exec(select(StatsEdition)).all()
        assert len(editions) == 1 and editions[0].fiscal_year == 2027
        rows = s.exec(select(FacilityPopulation)).all()
        adl = next(r for r in rows if "ADELANTO" in r.name)
        assert adl.facility_id is not None and adl.adp == pytest.approx(1500.0)
        assert next(r for r in rows if "DESERT" in r.name).last_inspection_note == "Scheduled FY27"
        assert [r.outcome for r in s.exec(select(CrawlRun))] == ["ok"] * 3 + ["layout_changed"]
        series = trend(s, "ADLNTCA")
        assert "<circle" in svg_chart(series, "t")
