"""The polling budget: tiers, order, requests first, browser hours, and the plan command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.planner import (
    DAILY,
    EVERY_3_DAYS,
    WEEKLY,
    ClientState,
    choose,
    in_browser_hours,
    parse_hours,
    rank,
    tier,
)
from tests.support.cli import run_cli

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def test_tiers() -> None:
    def t(**kw: object) -> timedelta:
        return tier(ClientState(client_id=1, **kw), NOW, TODAY)[0]  # type: ignore[arg-type]

    assert t(next_hearing=TODAY + timedelta(days=3)) == DAILY
    assert t(next_hearing=TODAY - timedelta(days=2)) == DAILY  # just held
    assert t(appeal_open_until=TODAY + timedelta(days=20)) == DAILY
    assert t(transferred_at=NOW - timedelta(days=2)) == DAILY
    assert t(next_hearing=TODAY + timedelta(days=20)) == EVERY_3_DAYS
    assert t(next_hearing=TODAY + timedelta(days=90)) == WEEKLY
    assert t(transferred_at=NOW - timedelta(days=30)) == WEEKLY
    assert t() == WEEKLY


def test_order_requests_then_due_by_urgency_then_spare_budget() -> None:
    states = [
        ClientState(1, last_checked=NOW - timedelta(days=8)),  # weekly, overdue
        ClientState(
            2, last_checked=NOW - timedelta(hours=25), next_hearing=TODAY + timedelta(days=2)
        ),
        ClientState(
            3, last_checked=NOW - timedelta(hours=1), requested_at=NOW - timedelta(minutes=5)
        ),
        ClientState(
            4, last_checked=NOW - timedelta(hours=8), next_hearing=TODAY + timedelta(days=1)
        ),
        ClientState(5, last_checked=NOW - timedelta(hours=2)),  # weekly, just checked
        ClientState(6),  # never checked
    ]
    order = [p.state.client_id for p in rank(states, NOW, TODAY)]
    assert order[:4] == [3, 6, 2, 1] and order[4] == 4
    assert [p.state.client_id for p in choose(states, NOW, TODAY, 3)] == [3, 6, 2]
    assert 5 not in [p.state.client_id for p in choose(states, NOW, TODAY, 10)]
    assert choose(states, NOW, TODAY, 0) == []


def test_browser_hours() -> None:
    assert in_browser_hours("7-21", datetime(2026, 11, 27, 18, tzinfo=UTC), "America/Los_Angeles")
    assert not in_browser_hours(
        "7-21", datetime(2026, 11, 27, 6, tzinfo=UTC), "America/Los_Angeles"
    )  # 22:00 in LA
    assert in_browser_hours("22-6", datetime(2026, 11, 27, 6, tzinfo=UTC), "America/Los_Angeles")
    with pytest.raises(ValueError, match="hour range"):
        parse_hours("9-9")


def test_schedule_plan_command(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}", "DOCKETWATCH_SOURCES": ""}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    for n in ("912000021", "912000022"):
        r = run_cli(
            "clients",
            "add",
            n,
            "--name",
            "TEST, PLAN",
            "--nationality",
            "MX",
            cwd=tmp_path,
            env=env,
        )
        assert r.returncode == 0, r.stderr
    plan = run_cli("schedule", "plan", "--json", cwd=tmp_path, env=env)
    assert plan.returncode == 0, plan.stderr
    import json

    rows = json.loads(plan.stdout)
    assert [r["order"] for r in rows] == [1, 2]
    assert all(r["due"] == "now" and r["batch"] == 1 for r in rows)
    assert all("912000021" not in r["client"] and "***" in r["client"] for r in rows)
    queued = run_cli("acis", "refresh", "912000022", "--queue", cwd=tmp_path, env=env)
    assert queued.returncode == 0 and "***0022" in queued.stdout, queued.stderr
    rows = json.loads(run_cli("schedule", "plan", "--json", cwd=tmp_path, env=env).stdout)
    assert rows[0]["client"].endswith("(***0022)") and "requested" in rows[0]["reason"]
    bad = run_cli("schedule", "plan", "--source", "ftp", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "acis or detainee_locator" in bad.stderr


@pytest.mark.slow
def test_planned_acis_check_spends_only_the_budget(tmp_path: Path) -> None:
    from sandbox.acis import AcisSandbox
    from sandbox.acis_data import Case, Hearing

    with AcisSandbox() as replica:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}",
            "DOCKETWATCH_SOURCES": "",
            "DOCKETWATCH_ACIS_BASE_URL": replica.url,
            "DOCKETWATCH_ACIS_PACE_SECONDS": "0",
            "DOCKETWATCH_BROWSER_LOOKUPS_PER_HOUR": "2",
            "DOCKETWATCH_BROWSER_HOURS": "0-24",
        }
        assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
        numbers = ["912000031", "912000032", "912000033"]
        for n in numbers:
            assert (
                run_cli(
                    "clients",
                    "add",
                    n,
                    "--name",
                    "TEST, BUDGET",
                    "--nationality",
                    "MX",
                    cwd=tmp_path,
                    env=env,
                ).returncode
                == 0
            )
            replica.set_case(Case(n, "MX", hearing=Hearing(on=TODAY + timedelta(days=40))))
        queued = run_cli("acis", "refresh", numbers[2], "--queue", cwd=tmp_path, env=env)
        assert queued.returncode == 0, queued.stderr
        first = run_cli(
            "acis", "check", "--planned", "--no-dispatch", cwd=tmp_path, env=env, timeout=300
        )
        assert first.returncode == 0, first.stdout + first.stderr
        assert "2 due within the budget of 2/hour" in first.stdout
        from storage.db import make_engine
        from storage.models import AcisLookup, CheckRequest

        engine = make_engine(env["DATABASE_URL"])
        with Session(engine) as s:
            looked = {row.client_id for row in s.exec(select(AcisLookup))}
            assert len(looked) == 2 and 3 in looked  # the requested client went first
            assert all(r.done_at is not None for r in s.exec(select(CheckRequest)))
        second = run_cli(
            "acis", "check", "--planned", "--no-dispatch", cwd=tmp_path, env=env, timeout=300
        )
        assert "1 due within the budget" in second.stdout  # the one left; the others are fresh
        third = run_cli("acis", "check", "--planned", cwd=tmp_path, env=env)
        assert "nobody is due" in third.stdout
        night = run_cli(
            "acis",
            "check",
            "--planned",
            cwd=tmp_path,
            env={**env, "DOCKETWATCH_BROWSER_HOURS": "3-4"},
        )
        assert night.returncode == 0
        assert "outside browser hours" in night.stdout or "nobody is due" in night.stdout
        engine.dispose()
