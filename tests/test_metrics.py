"""Issue 29, point 1: Prometheus metrics from the database, read with Prometheus' own text parser,
the alerting rules checked by the real ``promtool``, and ``/metrics`` guarded (a token, or
loopback only)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from monitor.metrics import DatabaseCollector, exposition
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.models import AcisLookup, CrawlRun, FoiaRelease, Heartbeat, StaffChannel
from storage.settings import Settings
from tests.support.alerting import START, Clock, dispatcher, emit_one, hearing_moved, make_org

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "docketwatch-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "docketwatch-dashboard.json"
NOW = START + timedelta(hours=2)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _seed(engine: sa.Engine) -> str:
    with SmtpSink() as sink:
        org = make_org(engine, sink, START)
        emit_one(engine, hearing_moved(org, START), START)
        dispatcher(engine, Clock(START + timedelta(seconds=20))).run_once()
    with session_scope(engine) as s:
        for outcome, at in (("ok", 1), ("ok", 2), ("failed", 3)):
            started = START + timedelta(minutes=at)
            s.add(
                CrawlRun(
                    source="acis",
                    started_at=started,
                    finished_at=started + timedelta(seconds=30),
                    outcome=outcome,
                )
            )
        for outcome, minutes in (("ok", 10), ("blocked", 100), ("ok", 110)):
            s.add(
                AcisLookup(
                    client_id=org.client_id,
                    observed_at=START + timedelta(minutes=minutes),
                    outcome=outcome,
                )
            )
        s.add(Heartbeat(component="scheduler", beat_at=NOW - timedelta(seconds=42)))
        s.add(
            FoiaRelease(
                as_of=START.date(),
                status="loaded",
                started_at=START - timedelta(days=1),
                loaded_at=NOW - timedelta(days=1),
            )
        )
    return org.a_number


def test_the_metrics_count_what_the_database_holds(engine: sa.Engine) -> None:
    a_number = _seed(engine)
    collector = DatabaseCollector(engine, Settings(browser_lookups_per_hour=60), clock=lambda: NOW)
    text = exposition(collector).decode()
    got = _samples(text)
    assert got[("docketwatch_source_runs_total", (("outcome", "ok"), ("source", "acis")))] == 2
    assert got[("docketwatch_source_runs_total", (("outcome", "failed"), ("source", "acis")))] == 1
    last_ok = got[("docketwatch_source_last_success_timestamp_seconds", (("source", "acis"),))]
    assert last_ok == (START + timedelta(minutes=2, seconds=30)).timestamp()
    lookups = ("docketwatch_browser_lookups_total", (("outcome", "ok"), ("source", "acis")))
    assert got[lookups] == 2
    hour = got[("docketwatch_browser_lookups_this_hour", (("source", "acis"),))]
    assert hour == 2  # the two of the last hour (minutes 100 and 110), not the one at 10
    assert got[("docketwatch_browser_budget_per_hour", ())] == 60
    staff_alerts = [k for k in got if k[0] == "docketwatch_outbox_deliveries"]
    assert sum(got[k] for k in staff_alerts) == 1  # the urgent alert, to Ana (her backup later)
    assert got[("docketwatch_outbox_deliveries", (("kind", "staff_alert"), ("status", "sent")))]
    assert got[("docketwatch_delivery_latency_seconds_count", ())] == 1
    assert got[("docketwatch_delivery_latency_seconds_bucket", (("le", "15.0"),))] == 0
    assert got[("docketwatch_delivery_latency_seconds_bucket", (("le", "30.0"),))] == 1
    assert got[("docketwatch_delivery_latency_seconds_sum", ())] == pytest.approx(20.0)
    assert got[("docketwatch_scheduler_heartbeat_age_seconds", ())] == pytest.approx(42.0)
    assert got[("docketwatch_clients_watched", (("program", "default"),))] == 1
    assert got[("docketwatch_foia_release_age_seconds", ())] == pytest.approx(86400.0)
    assert got[("docketwatch_channels_failing", ())] == 0
    interval = got[("docketwatch_source_interval_seconds", (("source", "acis"),))]
    assert interval > 0
    # No label carries a client's A-number or name.
    assert a_number not in text and a_number[-4:] not in text and "DOE" not in text


def _names(expressions: list[str]) -> set[str]:
    return {m for e in expressions for m in re.findall(r"docketwatch_[a-z_]+", e)}


def test_every_metric_the_rules_and_the_dashboard_name_is_exported(
    sqlite_engine: sa.Engine,
) -> None:
    text = exposition(DatabaseCollector(sqlite_engine, Settings())).decode()
    exported = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    for family in text_string_to_metric_families(text):
        exported |= {family.name, f"{family.name}_total" if family.type == "counter" else ""}
    rules = RULES.read_text()
    panels = json.loads(DASHBOARD.read_text())["panels"]
    dashboard = [t["expr"] for p in panels for t in p["targets"]]
    named = _names([rules, *dashboard])
    assert named and named <= exported, sorted(named - exported)


def test_promtool_accepts_the_alerting_rules() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: ./setup.sh installs Debian's prometheus package"
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def _client(app: Any, host: str) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", client=(host, 50000))


def test_metrics_need_the_token_or_loopback(sqlite_engine: sa.Engine) -> None:
    from web.app import create_app

    open_app = create_app(sqlite_engine, Settings(ack_secret="s"))
    assert _client(open_app, "127.0.0.1").get("/metrics").status_code == 200
    assert _client(open_app, "::1").get("/metrics").status_code == 200
    outside = _client(open_app, "198.51.100.7").get("/metrics")
    assert outside.status_code == 403 and "docketwatch_" not in outside.text

    guarded = create_app(sqlite_engine, Settings(ack_secret="s", metrics_token="t0ken-xyz"))
    for host in ("127.0.0.1", "198.51.100.7"):
        client = _client(guarded, host)
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        answer = client.get("/metrics", headers={"Authorization": "Bearer t0ken-xyz"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=")
        assert re.search(r"# TYPE docketwatch_source_runs(_total)? counter", answer.text)


def test_a_failing_channel_is_counted(sqlite_engine: sa.Engine) -> None:
    with SmtpSink() as sink:
        make_org(sqlite_engine, sink, START)
    with session_scope(sqlite_engine) as s:
        channel = s.exec(select(StaffChannel)).first()
        assert channel is not None
        channel.failing = True
        s.add(channel)
    got = _samples(exposition(DatabaseCollector(sqlite_engine, Settings())).decode())
    assert got[("docketwatch_channels_failing", ())] == 1
