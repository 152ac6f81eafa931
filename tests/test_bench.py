"""Benchmarks stay runnable: a tiny run of each prints its figures and a JSON last line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_roster_import_bench_smoke() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "roster_import.py"),
            "--rows",
            "300",
            "--repeat",
            "1",
            "--skip-postgres",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "roster_import" and last["rows"] == 300
    assert last["sqlite_import_s"] > 0 and last["sqlite_reference_s"] > 0
    assert set(last) >= {"ratio", "target", "met", "reference"}


def test_dispatch_bench_smoke() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "dispatch.py"),
            "--events",
            "12",
            "--clients",
            "6",
            "--staff",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "dispatch" and last["events"] == 12
    assert last["reference_s"] > 0 and last["pipeline_s"] > 0


def test_acis_cycle_bench_smoke() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "acis_cycle.py"),
            "--clients",
            "50",
            "--browser-lookups",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "acis_cycle" and last["events"] == 5
    assert last["cpu_ms_per_client"] > 0 and last["s_per_browser_lookup"] > 0


def test_custody_cycle_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "custody_cycle.py"), "--lookups", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["bench"] == "custody_cycle" and last["lookups"] == 60
    assert last["cpu_ms_per_lookup"] > 0 and last["reference_ms_per_lookup"] > 0
