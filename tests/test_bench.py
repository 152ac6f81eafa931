"""Benchmarks stay runnable: a tiny run of each prints its figures and a JSON last line."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.cli import ROOT


def run_bench(name: str, *args: str) -> dict[str, Any]:
    """Run bench/NAME.py small; return its last line, which must be JSON."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == name and set(last) >= {"reference", "ratio", "target", "met"}
    return last


def test_roster_import_bench_smoke() -> None:
    last = run_bench("roster_import", "--rows", "300", "--repeat", "1", "--skip-postgres")
    assert last["rows"] == 300
    assert last["sqlite_import_s"] > 0 and last["sqlite_reference_s"] > 0


def test_dispatch_bench_smoke() -> None:
    last = run_bench("dispatch", "--events", "12", "--clients", "6", "--staff", "20")
    assert last["events"] == 12
    assert last["reference_s"] > 0 and last["pipeline_s"] > 0


def test_acis_cycle_bench_smoke() -> None:
    last = run_bench("acis_cycle", "--clients", "50", "--browser-lookups", "2")
    assert last["events"] == 5
    assert last["cpu_ms_per_client"] > 0 and last["s_per_browser_lookup"] > 0


def test_detainee_locator_cycle_bench_smoke() -> None:
    last = run_bench("detainee_locator_cycle", "--lookups", "60")
    assert last["lookups"] == 60
    assert last["cpu_ms_per_lookup"] > 0 and last["reference_ms_per_lookup"] > 0


def test_eoir_foia_ingest_bench_smoke() -> None:
    last = run_bench("eoir_foia_ingest", "--cases", "2000")
    assert last["cases"] == 2000 and last["rows"] > 2000
    assert last["ingest_s"] > 0 and last["reference_s"] > 0 and last["peak_rss_mb"] > 0


def test_detention_stats_parse_bench_smoke() -> None:
    last = run_bench("detention_stats_parse", "--repeat", "1")
    assert last["workbooks"] >= 10
    assert last["s_per_workbook"] > 0 and last["reference_s_per_workbook"] > 0


def test_polling_budget_bench_smoke() -> None:
    last = run_bench("polling_budget", "--clients", "300", "--days", "10", "--per-day", "120")
    assert last["clients"] == 300 and last["plan"]["lookups"] > 0
    assert last["plan"]["changes"] > 0 and last["round_robin"]["p95_h"] > 0


def test_cli_start_bench_smoke() -> None:
    last = run_bench("cli_start", "--runs", "1")
    assert last["runs"] == 1
    assert last["help_s"] > 0 and last["clients_list_s"] > 0 and last["reference_s"] > 0


def test_web_bench_smoke() -> None:
    last = run_bench(
        "web",
        "--clients",
        "40",
        "--events",
        "200",
        "--cases",
        "800",
        "--users",
        "3",
        "--seconds",
        "3",
    )
    assert last["clients"] == 40 and last["errors"] == 0
    assert last["reference"] > 0 and last["pages"]["home"]["requests"] > 0
    # Whether the heartbeat kept its time is the bench's verdict on a quiet machine (its
    # "met"), not this smoke's: here the figure only has to be reported (a 3 s run may see
    # fewer than two beats, so no gap), and every alert sent.
    assert isinstance(last["heartbeat_longest_gap_s"], float) and last["undelivered"] == 0


def test_report_bench_smoke() -> None:
    """The representation report and the DuckDB query over the raw files agree, number for
    number (the bench fails otherwise)."""
    last = run_bench("report", "--cases", "8000", "--repeat", "1")
    assert last["agree"] is True and last["cases"] == 8000
    assert last["report_s"] > 0 and last["reference_s"] > 0


@pytest.mark.scale
def test_scale_out_bench_smoke() -> None:
    """The pool's benchmark, small: one worker against four, then one minute under a budget
    (a Redis of its own, PostgreSQL, the ACIS replica; about two minutes)."""
    last = run_bench(
        "scale_out",
        "--lookups",
        "24",
        "--browser-seconds",
        "0.3",
        "--budget",
        "20",
        "--minutes",
        "1",
    )
    assert last["budget_never_exceeded"] and last["max_in_any_minute"] <= 20
    assert last["full_minutes"] and last["pool_per_s"] > last["one_worker_per_s"]


def test_federal_dockets_rules_bench_smoke() -> None:
    last = run_bench("federal_dockets_rules", "--repeat", "1")
    assert last["entries"] >= 100 and last["met"] is True
    assert last["per_kind"]["federal_order_to_show_cause"]["labelled"] >= 5
