"""``docketwatch demo`` runs end to end, as a newcomer would run it after the README's setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli


@pytest.mark.slow
def test_demo_runs_and_delivers_the_alerts(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", "demo", cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in (
        "1 hearing_moved_earlier",
        "1 client_transferred",
        "1 new_unrepresented_case",
        "1 court_closed",
        "1 court_closed_summary",
        "1 federal_order_to_show_cause",
    ):
        assert line in out, out
    assert "ana.ruiz@demo.example: 2" in out and "cora.lee@demo.example: 2" in out
    # the roster synced from LegalServer added the client taken on today; the moved hearing
    # was written back as a case note on its matter
    assert "roster sync from LegalServer: ok: 4 rows: 1 added" in out
    # the habeas docket's petition is the baseline; the order to show cause is polled and alerts
    assert "federal dockets: ok: 1 linked" in out and "1 new entries" in out
    # one for each client event that alerted an attorney: moved, transferred, court closed, OSC
    assert "case notes written on LegalServer matters: 4" in out
    assert "LegalServer: case note written: docketwatch: Hearing moved EARLIER" in out
    mails = list((tmp_path / "demo" / "mailbox" / "new").iterdir())
    assert len(mails) == 6
    text = "\n".join(m.read_text(errors="replace") for m in mails)
    assert "EARLIER" in text.upper() and "Adelanto" in text
    assert "999000101" not in text  # no full A-number in any message
    db = f"sqlite:///{tmp_path / 'demo' / 'docketwatch.db'}"
    log = run_cli("alerts", "log", "--json", cwd=tmp_path, env={"DATABASE_URL": db})
    assert log.returncode == 0, log.stderr
    logged = json.loads(log.stdout)
    notes = [r for r in logged if r["kind"].startswith("case_note:")]
    alerts = [r for r in logged if not r["kind"].startswith("case_note:")]
    assert sum(1 for r in alerts if r["status"] == "sent") == 6
    assert sorted(r["kind"] for r in notes if r["status"] == "sent") == [
        "case_note:client_transferred",
        "case_note:court_closed",
        "case_note:federal_order_to_show_cause",
        "case_note:hearing_moved_earlier",
    ]
