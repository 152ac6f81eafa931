"""The ORM-free read path of ``clients list`` gives what the ORM path gives, and finds the
database where the settings do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import quick
from storage.db import session_scope
from storage.people import add_client, add_staff, assign, deactivate_client, list_clients
from storage.settings import load_settings


def _orm_rows(engine: sa.Engine, include_inactive: bool, status: str | None) -> list[dict]:
    with session_scope(engine) as s:
        rows = list_clients(s, include_inactive=include_inactive, status=status)
        return [r.as_record() for r in rows]


def test_both_paths_list_the_same_clients(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_engine) as s:
        add_staff(s, name="Ana", email="ana@example.org", role="attorney")
        add_staff(s, name="Bo", email="bo@example.org", role="attorney")
        people = [
            ("ZED, A", "represented"),
            ("ABE, B", "prospect"),
            ("ABE, B", "closed"),
            ("MID, C", "represented"),
        ]
        for i, (name, kind) in enumerate(people):
            c = add_client(
                s,
                a_number=f"91200070{i}",
                name=name,
                nationality="MX",
                status=kind,
                country_of_birth="GT",
            )
            if i == 1:
                c.born_on = date(1990, 2, 3)
                s.add(c)
        assign(s, "912000700", "ana@example.org", "primary")
        assign(s, "912000700", "bo@example.org", "backup")
        deactivate_client(s, "912000703")
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    statuses: list[str | None] = [None, "represented", "prospect", "closed"]
    for include_inactive in (False, True):
        for status in statuses:
            fast = quick.list_clients(include_inactive, status)
            assert fast == _orm_rows(sqlite_engine, include_inactive, status), (
                include_inactive,
                status,
            )
    assert quick.list_clients(True, None) and len(quick.list_clients(True, None) or []) == 4


def test_it_steps_aside_where_it_cannot_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    assert quick.list_clients(False, None) is None
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    assert quick.list_clients(False, None) is None  # the ORM path says how to create it
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    assert quick.list_clients(False, None) is None  # not migrated: the ORM path says so


def test_it_finds_the_database_where_the_settings_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "DOCKETWATCH_DATABASE_URL", "DOCKETWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert quick.database_url() == load_settings().database_url  # the default
    (tmp_path / "docketwatch.toml").write_text('database_url = "sqlite:///from-toml.db"\n')
    assert quick.database_url() == load_settings().database_url == "sqlite:///from-toml.db"
    monkeypatch.setenv("DOCKETWATCH_DATABASE_URL", "sqlite:///from-dw-env.db")
    assert quick.database_url() == load_settings().database_url == "sqlite:///from-dw-env.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    assert quick.database_url() == load_settings().database_url == "sqlite:///from-env.db"
    other = tmp_path / "other.toml"
    other.write_text('database_url = "sqlite:///other.db"\n')
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("DOCKETWATCH_DATABASE_URL")
    monkeypatch.setenv("DOCKETWATCH_CONFIG", str(other))
    assert quick.database_url() == load_settings().database_url == "sqlite:///other.db"
