"""A migrated SQLite database for a test that needs a file of its own: a copy of one template
per test process, so the migrations run once per process, not once per test (tests of the
migrations themselves still run them)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from storage.db import make_engine, upgrade
from storage.reference_data import load_reference_data

_template: list[Path] = []


def prepare(url: str) -> None:
    """Migrate the database at ``url`` to the newest revision and load the reference data."""
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    engine.dispose()  # no connection may stay open on a template


def sqlite_template() -> Path:
    """This process's migrated SQLite file (reference data loaded); made on first use."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="dw-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "docketwatch.db"
        prepare(f"sqlite:///{path}")
        _template.append(path)
    return _template[0]


def migrated_sqlite(path: Path) -> str:
    """A copy of the template at ``path``: a database at the newest revision with the reference
    data loaded, as ``upgrade`` and ``load_reference_data`` would leave it. Returns its URL."""
    shutil.copyfile(sqlite_template(), path)
    return f"sqlite:///{path}"
