"""Engine, sessions and schema upgrades.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout, so the
scheduler and a CLI command can share the file. PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.errors import DatabaseError
from storage.files import create_private
from storage.quick import head_revision as quick_head_revision
from storage.secrets import attach, default_key_path
from storage.settings import mask_url

if TYPE_CHECKING:
    from alembic.config import Config

    from storage.settings import Settings

log = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(busy_seconds: float) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def engine_for(settings: Settings) -> sa.Engine:
    """The engine the settings describe: database, secrets key, SQLite's wait for a lock."""
    return make_engine(
        settings.database_url, settings.secrets_key_file, settings.sqlite_busy_seconds
    )


def make_engine(
    url: str, secrets_key_file: Path | None = None, busy_seconds: float = 30.0
) -> sa.Engine:
    """An engine for ``url``; creates the folder of a SQLite file when it is missing. The
    engine knows where its secrets key is (``secrets_key_file``, or the default for ``url``:
    see :mod:`storage.secrets`); on SQLite, a write waits ``busy_seconds`` for a lock."""
    url = normalize_url(url)
    engine = _make_engine(url, busy_seconds)
    attach(engine, secrets_key_file or default_key_path(url))
    return engine


def _make_engine(url: str, busy_seconds: float) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Client data: the file is the owner's alone (SQLite gives its -wal and -shm files
            # the same mode).
            create_private(Path(database))
        # hide_parameters: an error's text never carries the row's values (A-numbers, names),
        # wherever it ends up (a traceback on a terminal, a log, a crash report).
        engine = sa.create_engine(url, connect_args={"timeout": busy_seconds}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas(busy_seconds))
        return engine
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


@contextmanager
def session_scope(engine: sa.Engine, organization_id: int | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception; with
    ``organization_id``, one that sees that program's data only (storage.tenancy)."""
    with Session(engine, expire_on_commit=False) as session:
        if organization_id is not None:
            import storage.tenancy  # noqa: F401  (its hooks do the scoping: loaded before use)

            session.info["organization_id"] = organization_id
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: sa.Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage").joinpath("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


# The newest migration's revision, read from the migration files without the ORM.
head_revision = quick_head_revision


def current_revision(engine: sa.Engine) -> str | None:
    """The schema revision the database is at (None for a database never migrated)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision`` (Alembic) and return where it now is."""
    from alembic import command

    before = _checked_revision(engine)
    command.upgrade(_alembic_config(engine), revision)
    after = current_revision(engine)
    if before != after:
        log.info("database %s upgraded from %s to %s", mask_url(str(engine.url)), before, after)
    return after


def analyze(engine: sa.Engine) -> bool:
    """Refresh SQLite's statistics, which its query planner needs to read the newest alerts by
    their index rather than sort a program's every event (sampling 1,000 rows an index: a
    second or so even with a national FOIA release loaded). PostgreSQL's autovacuum keeps its
    own: nothing to do there. True when statistics were refreshed."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
    return True


def downgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def _checked_revision(engine: sa.Engine) -> str | None:
    try:
        return current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(
            f"cannot reach the database at {mask_url(str(engine.url))}: {exc.orig}"
        ) from exc


def require_current(engine: sa.Engine) -> None:
    """Refuse to work on a database that is not migrated to this code's schema."""
    rev = _checked_revision(engine)
    if rev != head_revision():
        raise DatabaseError(
            f"the database at {mask_url(str(engine.url))} is at schema revision {rev or 'none'}, "
            f"this docketwatch needs {head_revision()}: run `docketwatch init`"
        )
