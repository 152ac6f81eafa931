"""Shared fixtures: databases (SQLite and PostgreSQL, both real), a migrated engine, the CLI."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sandbox import pgserver as pg
from storage.db import make_engine, session_scope
from storage.people import add_staff
from tests.support import db as db_support

# The secrets keys of PostgreSQL test databases (storage/secrets.py) go to this run's own folder,
# never to ~/.config; the commands the tests start inherit it.
_CONFIG_HOME = tempfile.mkdtemp(prefix="dw-test-config-")
os.environ["XDG_CONFIG_HOME"] = _CONFIG_HOME
atexit.register(shutil.rmtree, _CONFIG_HOME, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="Rewrite the *.expected.json goldens from the parsers' current output "
        "(read the diff before committing).",
    )


#: modules whose module-scoped fixture is costly (a database, a release, the web app, lookups in
#: Chromium): each is run by one worker, so the fixture is made once, not once per worker
ONE_WORKER = ("tests/test_web.py", "tests/test_organizations.py")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Load scheduling (a test to whichever worker is free), except that each module of
    :data:`ONE_WORKER` goes to one worker whole. (pytest-xdist's ``loadgroup`` would do this
    with marks, but with this pytest it no longer groups: the group it writes into a test's id
    is not kept.)"""
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ModulesOfOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    return ModulesOfOneWorker(config, log)


def _waits(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("slow")
    return marker is not None and bool(marker.kwargs.get("waits"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first: spread over the workers from the start, they do not
    leave one worker finishing a long test alone at the end. Those that mostly wait on the
    service's intervals (``@pytest.mark.slow(waits=True)``) are spread out instead: the first
    with the slow ones, the others through the first half of the quick ones, which fill the
    cores they leave idle (started together, they left a core idle for half a minute)."""
    slow = [item for item in items if item.get_closest_marker("slow") and not _waits(item)]
    waiting = [item for item in items if _waits(item)]
    quick = [item for item in items if item.get_closest_marker("slow") is None]
    ordered = waiting[:1] + slow
    gap = max(1, len(quick) // (2 * max(1, len(waiting) - 1)))
    for i, item in enumerate(quick):
        if i % gap == 0 and len(waiting) > 1:
            ordered.append(waiting.pop(1))
        ordered.append(item)
    items[:] = ordered + waiting[1:]


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with pg.server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a SQLite file, or a new database on a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'docketwatch.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        with pg.fresh_database(admin) as url:
            yield url


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A SQLite file migrated once per test process; each test gets a copy."""
    return db_support.sqlite_template()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per test session, copied with CREATE DATABASE ...
    TEMPLATE for each test."""
    with pg.fresh_database(pg_admin_url) as url:
        db_support.prepare(url)
        yield url.rpartition("/")[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated database with reference data loaded, on SQLite and on PostgreSQL: a copy of
    the session's template, so the migrations run once per session, not once per test."""
    if request.param == "sqlite":
        path = tmp_path / "docketwatch.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    admin = request.getfixturevalue("pg_admin_url")
    with pg.fresh_database(admin, template=request.getfixturevalue("pg_template")) as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "docketwatch.db"
    shutil.copyfile(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def attorney(engine: sa.Engine) -> str:
    with session_scope(engine) as session:
        add_staff(session, name="Attorney One", email="attorney1@example.org", role="attorney")
    return "attorney1@example.org"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium (its headless shell) through Playwright, one per test module (the web
    app's tests)."""
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options
    from storage.settings import Settings

    with sync_playwright() as p:
        chromium = p.chromium.launch(**launch_options(Settings(), headed=False))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and its tab, in English."""
    context = browser.new_context(locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
