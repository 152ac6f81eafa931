"""Backups that restore: a consistent copy of a running database, with a manifest.

A backup is one tar file holding the data and ``manifest.json`` (the format, when, the dialect,
the schema revision, the row count of every table, the data file's SHA-256):

- SQLite: SQLite's online backup API copies the database page by page while the service keeps
  writing (each step sees one consistent state; the copy is of the state when it finished);
  the counts are read from the copy itself.
- PostgreSQL: ``pg_dump`` in its custom format, run on a snapshot exported from a repeatable-
  read transaction in which the counts are read too: the counts are exactly those of the dump.

The secrets key (which opens the stored channel URLs) is **not** in a backup: a stolen backup
holds no working webhook or mail password. Keep the key apart (see the README, "Operating it").
:func:`restore` fills an *empty* database, checks the data's checksum and every table's count
against the manifest, brings the schema to this code's revision, and says how many sealed values
the key at hand cannot open.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storage.errors import DatabaseError, ValidationError
from storage.files import sha256_of

FORMAT = 1
MANIFEST = "manifest.json"
DATA = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


@dataclass
class Manifest:
    format: int
    created_at: str
    dialect: str
    schema_revision: str | None
    counts: dict[str, int]
    data_file: str
    sha256: str


@dataclass
class Restored:
    manifest: Manifest
    revision: str | None
    sealed: int = 0  # sealed values (channel URLs, phone numbers) in the restored data
    unopened: int = 0  # ... that the key at hand cannot open
    notes: list[str] = field(default_factory=list)


def _tables() -> list[str]:
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (the tables)

    return sorted(t.name for t in SQLModel.metadata.sorted_tables)


def _counts(conn: Any, tables: list[str]) -> dict[str, int]:
    present = set(sa.inspect(conn).get_table_names())
    return {
        name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
        for name in tables
        if name in present
    }


def _revision(conn: Any) -> str | None:
    try:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DatabaseError:
        return None


def _libpq_url(engine: sa.Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_file(engine: sa.Engine) -> Path:
    if not engine.url.database or engine.url.database == ":memory:":
        raise ValidationError("an in-memory SQLite database cannot be backed up or restored")
    return Path(engine.url.database)


def _copy_sqlite(engine: sa.Engine, target: Path) -> tuple[dict[str, int], str | None]:
    source = sqlite3.connect(_sqlite_file(engine), timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=4096)  # in steps: writers are never held for the whole copy
    finally:
        source.close()
        copy.close()
    reader = sa.create_engine(f"sqlite:///{target}")
    try:
        with reader.connect() as conn:
            return _counts(conn, _tables()), _revision(conn)
    finally:
        reader.dispose()


def _dump_postgresql(engine: sa.Engine, target: Path) -> tuple[dict[str, int], str | None]:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise DatabaseError("pg_dump is missing: install Debian's postgresql-client")
    with engine.connect() as conn:
        conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
        counts, revision = _counts(conn, _tables()), _revision(conn)
        done = subprocess.run(  # while the snapshot's transaction is open
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={_libpq_url(engine)}",
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        conn.rollback()
    if done.returncode != 0:
        raise DatabaseError(f"pg_dump failed: {done.stderr.strip()[-500:]}")
    return counts, revision


def backup(engine: sa.Engine, path: Path, now: datetime | None = None) -> Manifest:
    """Write a backup of ``engine``'s database to ``path`` (replaced whole, never half)."""
    dialect = engine.dialect.name
    if dialect not in DATA:
        raise ValidationError(f"cannot back up a {dialect} database")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as work:
        data = Path(work) / DATA[dialect]
        if dialect == "sqlite":
            counts, revision = _copy_sqlite(engine, data)
        else:
            counts, revision = _dump_postgresql(engine, data)
        manifest = Manifest(
            format=FORMAT,
            created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
            dialect=dialect,
            schema_revision=revision,
            counts=counts,
            data_file=data.name,
            sha256=sha256_of(data),
        )
        (Path(work) / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        partial = Path(work) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(work) / MANIFEST, arcname=MANIFEST)
            tar.add(data, arcname=data.name)
        partial.chmod(0o600)  # client data
        partial.replace(path)
    return manifest


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            data = json.loads(member.read())
        return Manifest(**data)
    except (OSError, tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise ValidationError(f"{path} is not a docketwatch backup: {exc}") from None


def _empty(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        return not present or (present == {"alembic_version"} and not _revision(conn))


def _check_keys(engine: sa.Engine, restored: Restored) -> None:
    from sqlmodel import SQLModel

    from storage.secrets import SealedString, SecretsKeyError, keyring_of

    ring = keyring_of(engine.dialect)
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, SealedString):
                    continue
                raw = sa.text(f'SELECT "{column.name}" FROM "{table.name}"')
                for (value,) in conn.execute(raw):
                    if value is None:
                        continue
                    restored.sealed += 1
                    try:
                        ring.open(value)
                    except SecretsKeyError:
                        restored.unopened += 1


def restore(engine: sa.Engine, path: Path) -> Restored:
    """Fill ``engine``'s empty database from the backup at ``path``; check it against its
    manifest; bring its schema to this code's; count the sealed values the key cannot open."""
    from storage.db import upgrade

    manifest = read_manifest(path)
    dialect = engine.dialect.name
    if manifest.dialect != dialect:
        raise ValidationError(
            f"{path} is a backup of a {manifest.dialect} database: restore it into one"
        )
    if not _empty(engine):
        raise ValidationError(
            "the database to restore into is not empty: restore into a new, empty database "
            "(nothing stored is replaced)"
        )
    with tempfile.TemporaryDirectory(prefix="docketwatch-restore-") as work:
        with tarfile.open(path, "r") as tar:
            tar.extract(manifest.data_file, work, filter="data")
        data = Path(work) / manifest.data_file
        if sha256_of(data) != manifest.sha256:
            raise ValidationError(f"{path} is damaged: its data does not match its checksum")
        if dialect == "sqlite":
            target = _sqlite_file(engine)
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)  # an empty file, nothing else
            shutil.copyfile(data, target)
            target.chmod(0o600)
        else:
            pg_restore = shutil.which("pg_restore")
            if pg_restore is None:
                raise DatabaseError("pg_restore is missing: install Debian's postgresql-client")
            done = subprocess.run(
                [
                    pg_restore,
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={_libpq_url(engine)}",
                    str(data),
                ],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
            )
            if done.returncode != 0:
                raise DatabaseError(f"pg_restore failed: {done.stderr.strip()[-500:]}")
    with engine.connect() as conn:
        counts = _counts(conn, list(manifest.counts))
    wrong = {t: (counts.get(t), n) for t, n in manifest.counts.items() if counts.get(t) != n}
    if wrong:
        raise DatabaseError(f"the restored database does not match its manifest: {wrong}")
    restored = Restored(manifest, revision=upgrade(engine))
    if restored.revision != manifest.schema_revision:
        restored.notes.append(
            f"schema upgraded from {manifest.schema_revision} to {restored.revision}"
        )
    _check_keys(engine, restored)
    return restored


def keep_newest(folder: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest nightly backups in ``folder``; return those deleted."""
    backups = sorted(folder.glob("docketwatch-*.tar"))
    gone = backups[: max(0, len(backups) - keep)]
    for old in gone:
        old.unlink()
    return gone
