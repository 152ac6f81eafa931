"""The pages' heaviest reads use their indexes once the statistics are fresh (SQLite's planner
otherwise sorts a program's every event to show the newest 50)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import col, select

from storage.db import analyze
from storage.models import Client, Event


def _plan(engine: sa.Engine) -> str:
    query = (
        select(Event, Client)
        .join(Client, col(Event.client_id) == col(Client.id), isouter=True)
        .where(sa.or_(col(Event.organization_id).is_(None), col(Event.organization_id) == 1))
        .order_by(col(Event.created_at).desc(), col(Event.id).desc())
        .limit(50)
    )
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return " / ".join(str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_the_newest_alerts_are_read_in_order_not_sorted(sqlite_engine: sa.Engine) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "kind": "hearing_moved_later",
            "severity": "normal",
            "subject_type": "client",
            "subject_key": str(i),
            "organization_id": 1,
            "payload": "{}",
            "dedup_key": f"k{i}",
            "occurred_at": start + timedelta(minutes=i),
            "created_at": start + timedelta(minutes=i),
        }
        for i in range(3000)
    ]
    with sqlite_engine.begin() as conn:
        conn.execute(sa.insert(Event.__table__), rows)  # type: ignore[attr-defined]
    assert analyze(sqlite_engine) is True
    plan = _plan(sqlite_engine)
    assert "ix_event_created_at_id" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
