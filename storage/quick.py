"""Read-only answers without the ORM, for the commands people run most (``clients list``).

Loading SQLModel's models and SQLAlchemy takes far longer than the answer itself (about 1 s of a
1.1 s ``clients list``). On a SQLite database, a listing needs neither: this module finds the
database as the settings do (:func:`database_url`: ``DATABASE_URL``, ``DOCKETWATCH_DATABASE_URL``,
``database_url`` in the settings file, the default), checks the schema is this version's, and
reads with the standard library. Anything else (PostgreSQL, a database not at this schema, an
unusual URL) returns ``None`` and the caller takes the ORM path, which says what is wrong.
Tests check both paths give the same records and that :func:`database_url` agrees with the
settings.
"""

from __future__ import annotations

import os
import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///data/docketwatch.db"
_REVISION = re.compile(r'^(down_revision|revision) = "([^"]+)"', re.M)


@cache
def head_revision() -> str:
    """The newest migration's revision, read from the migration files' text (Alembic itself is
    only loaded when a migration runs). A test checks that this is the head Alembic finds."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (Path(__file__).parent / "migrations" / "versions").iterdir():
        if not path.name.endswith(".py") or path.name.startswith("__"):
            continue
        for key, value in _REVISION.findall(path.read_text("utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    assert len(heads) == 1, f"expected one Alembic head, found {sorted(heads)}"
    return heads.pop()


def database_url() -> str:
    """The database URL as :class:`storage.settings.Settings` resolves it (same sources, same
    order); a settings file that cannot be read gives the default's place to the full path."""
    for name in ("DATABASE_URL", "DOCKETWATCH_DATABASE_URL"):
        value = os.environ.get(name)
        if value is not None:
            return value
    config = Path(os.environ.get("DOCKETWATCH_CONFIG", "docketwatch.toml"))
    if config.is_file():
        import tomllib  # only when there is a settings file (its error is a ValueError)

        data = tomllib.loads(config.read_text("utf-8"))
        value = data.get("database_url")
        if isinstance(value, str):
            return value
    return DEFAULT_DATABASE_URL


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = Path(url[len(prefix) :])
    return path if path.name and path.name != ":memory:" else None


def list_clients(
    include_inactive: bool, status: str | None, org_slug: str | None = None
) -> list[dict[str, Any]] | None:
    """``clients list``'s rows (full A-numbers) of the program ``org_slug`` (or of the only
    program), or None when this path cannot answer (the ORM's path then answers, or says
    which program to name)."""
    try:
        path = _sqlite_path(database_url())
        if path is None or not path.is_file():
            return None
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except (OSError, ValueError, sqlite3.Error):
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None or row[0] != head_revision():
            return None
        where: list[str] = []
        args: list[Any] = []
        if org_slug:
            found = conn.execute(
                "SELECT id FROM organization WHERE slug = ?", (org_slug.strip().lower(),)
            ).fetchone()
            if found is None:
                return None
            where.append("c.organization_id = ?")
            args.append(found[0])
        elif conn.execute("SELECT count(*) FROM organization").fetchone()[0] != 1:
            return None
        if not include_inactive:
            where.append("c.active = 1")
        if status:
            where.append("c.status = ?")
            args.append(status)
        sql = (
            "SELECT c.a_number, c.name, c.nationality_code, c.country_of_birth_code, c.born_on, "
            "c.status, c.active, p.email, b.email FROM client c "
            "LEFT JOIN staff p ON p.id = c.primary_attorney_id "
            "LEFT JOIN staff b ON b.id = c.backup_attorney_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.name, c.a_number"
        )
        return [
            {
                "a_number": r[0],
                "name": r[1],
                "nationality": r[2],
                "country_of_birth": r[3],
                "born_on": r[4],
                "status": r[5],
                "active": bool(r[6]),
                "primary_attorney": r[7],
                "backup_attorney": r[8],
            }
            for r in conn.execute(sql, args)
        ]
    except sqlite3.Error:
        return None
    finally:
        conn.close()
