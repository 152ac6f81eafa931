"""Alembic environment: the engine comes from the caller (storage.db) or from the settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _engine():  # type: ignore[no-untyped-def]
    engine = config.attributes.get("engine")
    if engine is None:
        from storage.db import engine_for
        from storage.settings import load_settings

        settings = load_settings()
        engine = engine_for(settings)
    return engine


def _render_item(type_: str, obj: object, autogen_context: object) -> Any:
    """Render SQLModel's AutoString as plain sa.String in new migrations."""
    from sqlmodel.sql.sqltypes import AutoString

    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


#: the advisory lock key of docketwatch's migrations (any constant; "dkwt" in ASCII)
MIGRATION_LOCK = 0x646B7774


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's way for schema changes: foreign keys off (switchable only outside a
            # transaction), so that a table others refer to can be rebuilt; every reference is
            # checked before the migrations commit, and the keys are switched on again.
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Two services (or `init`s) started at once on a new database: the second
                    # waits for the first's migrations, then finds the schema current.
                    # Released at commit.
                    connection.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,
                    compare_type=True,
                    render_item=_render_item,
                )
                context.run_migrations()
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise RuntimeError(f"migrations left references dangling: {dangling[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `docketwatch init`")
run_migrations_online()
