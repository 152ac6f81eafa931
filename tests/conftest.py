"""Shared fixtures: databases (SQLite and PostgreSQL, both real), a migrated engine, the CLI."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sandbox import pgserver as pg
from storage.db import make_engine, session_scope, upgrade
from storage.people import add_staff
from storage.reference_data import load_reference_data

ROOT = Path(__file__).resolve().parent.parent

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first: spread over the workers from the start, they do not
    leave one worker finishing a long test alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


def _prepare(url: str) -> None:
    eng = make_engine(url)
    upgrade(eng)
    load_reference_data(eng)
    eng.dispose()  # no connection may stay open on a template


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "docketwatch.db"
    _prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated once per test session, copied with CREATE DATABASE ...
    TEMPLATE for each test."""
    with pg.fresh_database(pg_admin_url) as url:
        _prepare(url)
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


#: commands that start long-lived services or a whole demo: always a real child process
_CHILD_ONLY = {"run", "web", "demo", "sandbox"}


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    child: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``docketwatch ARGS`` in ``cwd`` with only ``env`` (and none of this process's
    ``DOCKETWATCH_*`` settings) as its environment.

    Commands run in this process through Click's runner, on the same application object the
    installed command runs (a child process costs a second of CPU, most of it imports); the
    service commands, and any call with ``child=True``, run the installed ``docketwatch``
    command as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    full_env.pop("DATABASE_URL", None)
    full_env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    full_env.update(env or {})
    if child or (args and args[0] in _CHILD_ONLY):
        exe = Path(sys.executable).with_name("docketwatch")
        return subprocess.run(
            [str(exe), *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    return _run_in_process(list(args), cwd, full_env)


def _run_in_process(
    args: list[str], cwd: Path, full_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    import logging
    import traceback

    from typer.testing import CliRunner

    import cli
    from cli import common

    for console in (common.out, common.err):  # as wide as a child's COLUMNS would make it
        console.width = int(full_env["COLUMNS"])
    changes: dict[str, str | None] = {k: v for k, v in full_env.items()}
    changes.update({k: None for k in os.environ if k not in full_env})
    here = os.getcwd()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli.app, args, env=changes, prog_name="docketwatch")
    finally:
        os.chdir(here)
        from storage.tenancy import use

        use(None)  # a command's --org scopes its own process; this one is the tests'
        for handler in list(root.handlers):  # the command's log handler wrote to the runner
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        stderr += "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return subprocess.CompletedProcess(
        ["docketwatch", *args], result.exit_code, result.stdout, stderr
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module (the web app's tests)."""
    from playwright.sync_api import sync_playwright

    from spiders.browser import launch_options
    from storage.settings import Settings

    with sync_playwright() as p:
        chromium = p.chromium.launch(**launch_options(str(Settings().browser_executable), False))
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
