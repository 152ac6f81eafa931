"""Storage on SQLite and on PostgreSQL: migrations, reference data, people."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from storage.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    require_current,
    session_scope,
    upgrade,
)
from storage.errors import ChannelError, DatabaseError, NotFoundError, ValidationError
from storage.models import Client, Court, CrawlRun, Facility, HearingLocation
from storage.people import (
    add_client,
    add_staff,
    assign,
    client_details,
    deactivate_client,
    list_clients,
    list_staff,
)
from storage.reference_data import load_reference_data


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diffs == []
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    upgrade(engine)
    assert "client" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_unmigrated_database_is_refused_with_advice(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(DatabaseError, match="docketwatch init"):
        require_current(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_reference_data_is_loaded_once(engine: sa.Engine) -> None:
    load_reference_data(engine)  # a second time: updates, never duplicates
    with session_scope(engine) as s:
        adl = s.get(Court, "ADL")
        assert adl is not None and adl.name == "Adelanto Immigration Court"
        assert adl.timezone == "America/Los_Angeles" and adl.detained
        assert "10250 Rancho Road" in adl.address
        snc = s.get(Court, "SNC")
        assert snc is not None and snc.city == "Santa Ana"  # not SNA, San Antonio
        assert {
            h.code
            for h in s.exec(select(HearingLocation).where(HearingLocation.court_code == "ADL"))
        } >= {"ADL", "ADE", "ADW", "ADV"}
        codes = {f.code: f for f in s.exec(select(Facility))}
        assert set(codes) >= {"ADLNTCA", "CADESVI", "CCASDCA", "IRADFCA", "EAZ"}
        assert codes["ADLNTCA"].aor == "Los Angeles"
        n_courts = s.exec(select(sa.func.count()).select_from(Court)).one()
        assert n_courts == 10


def test_instants_come_back_aware_utc(engine: sa.Engine) -> None:
    pacific = timezone(timedelta(hours=-8))
    started = datetime(2026, 11, 27, 9, 30, tzinfo=pacific)
    with session_scope(engine) as s:
        s.add(CrawlRun(source="acis", started_at=started))
    with session_scope(engine) as s:
        run = s.exec(select(CrawlRun)).one()
        assert run.started_at == started
        assert run.started_at.tzinfo is UTC and run.started_at.hour == 17
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session_scope(engine) as s:
        s.add(CrawlRun(source="acis", started_at=datetime(2026, 1, 1)))


def test_clients_and_staff(engine: sa.Engine) -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Ana Ruiz",
            email="Ana@Example.org",
            role="attorney",
            language="es",
            channels=["mailto://localhost:2525?to=ana@example.org"],
            quiet_hours="21:00-07:00",
            now=now,
        )
        add_staff(s, name="Ben Ode", email="ben@example.org", role="attorney", now=now)
        add_staff(s, name="Coord", email="coord@example.org", role="coordinator", now=now)
        add_client(s, a_number="A-012-345-678", name="DOE,  JANE", nationality="honduras", now=now)
    with session_scope(engine) as s:
        assign(s, "012345678", "ana@example.org", "primary")
        assign(s, "012345678", "ben@example.org", "backup")
        assign(s, "012345678", "ben@example.org", "backup")  # idempotent
        with pytest.raises(ValidationError, match="coordinator, not an attorney"):
            assign(s, "012345678", "coord@example.org", "primary")
        with pytest.raises(ValidationError, match="already this client's backup"):
            assign(s, "012345678", "ben@example.org", "primary")
    with session_scope(engine) as s:
        details = client_details(s, "A012345678")
        assert details["nationality"] == "HO" and details["name"] == "DOE, JANE"
        assert details["primary_attorney"] == "ana@example.org"
        assert details["backup_attorney"] == "ben@example.org"
        staff = {st.email: (st, ch) for st, ch in list_staff(s)}
        ana, channels = staff["ana@example.org"]
        assert ana.quiet_start == time(21, 0) and ana.quiet_end == time(7, 0)
        assert [c.url for c in channels] == ["mailto://localhost:2525?to=ana@example.org"]
    with session_scope(engine) as s:
        deactivate_client(s, "012345678", now=now)
    with session_scope(engine) as s:
        assert list_clients(s) == []
        assert len(list_clients(s, include_inactive=True)) == 1


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"email": "not-an-email"}, "not an email"),
        ({"role": "judge"}, "not attorney, coordinator or admin"),
        ({"language": "fr"}, "not en or es"),
        ({"channels": ["no-scheme"]}, "not an Apprise URL"),
        ({"channels": ["bogus://x"]}, "Apprise cannot use"),
        ({"channels": ["slack://"]}, "Apprise cannot use"),
        ({"quiet_hours": "9pm-7am"}, "must look like"),
        ({"quiet_hours": "25:00-07:00"}, "hour must be"),
    ],
)
def test_bad_staff_input_is_refused_and_nothing_stored(
    engine: sa.Engine, kwargs: dict[str, object], reason: str
) -> None:
    args: dict[str, object] = {"name": "X", "email": "x@example.org", "role": "attorney"}
    args.update(kwargs)
    with pytest.raises((ValidationError, ChannelError), match=reason), session_scope(engine) as s:
        add_staff(s, **args)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        assert list_staff(s) == []


def test_duplicate_client_and_missing_client(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        add_client(s, a_number="212345678", name="ROE, JOHN", nationality="MX")
    with pytest.raises(ValidationError, match="exists already"), session_scope(engine) as s:
        add_client(s, a_number="A-212-345-678", name="ROE, J", nationality="MX")
    with pytest.raises(NotFoundError), session_scope(engine) as s:
        client_details(s, "999999999")
    with session_scope(engine) as s:
        assert [c.name for c in s.exec(select(Client))] == ["ROE, JOHN"]


def test_upgrading_keeps_existing_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO nationality (code, name, active) VALUES ('MX', 'MEXICO', true)")
        )
        conn.execute(
            sa.text(
                "INSERT INTO staff (name, email, role, language, active, created_at) "
                "VALUES ('Ana', 'ana@example.org', 'attorney', 'en', true, '2026-11-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO client (a_number, name, nationality_code, status, active, notes, "
                "created_at, updated_at) VALUES ('912345678', 'DOE, JANE', 'MX', 'represented', "
                "true, '', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
            )
        )
    upgrade(engine)
    with session_scope(engine) as s:
        (staff,) = list_staff(s)
        assert staff[0].email == "ana@example.org"
        assert (staff[0].digest, staff[0].min_severity, staff[0].muted_kinds) == (False, "info", [])
        assert client_details(s, "912345678")["name"] == "DOE, JANE"
    engine.dispose()


def test_the_newest_migrations_go_down_and_up_with_rows_that_refer_to_them(db_url: str) -> None:
    """Events with deliveries and staff with channels survive a downgrade to 0009 and back (a
    SQLite table recreated under rows that refer to it would lose them, or fail)."""
    from monitor.events import EventInput
    from monitor.route import emit
    from storage.models import Delivery, Event, StaffChannel

    engine = make_engine(db_url)
    upgrade(engine)
    load_reference_data(engine)
    now = datetime(2026, 11, 27, 18, tzinfo=UTC)
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Ad",
            email="ad@example.org",
            role="admin",
            channels=["json://127.0.0.1:9/ad"],
            now=now,
        )
        emit(
            s,
            EventInput(
                kind="facility_added",
                subject_type="source",
                subject_key="x",
                dedup_key="down-up",
                payload={},
                occurred_at=now,
                group_key="g",
            ),
            now,
        )
    downgrade(engine, "0009")
    upgrade(engine)
    with session_scope(engine) as s:
        assert len(list(s.exec(select(Event)))) == 1
        assert len(list(s.exec(select(Delivery)))) == 1
        (channel,) = s.exec(select(StaffChannel)).all()
        assert channel.url == "json://127.0.0.1:9/ad"
    engine.dispose()
