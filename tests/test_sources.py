"""The source registry: one definition per source, and everything named after it."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest

from storage.settings import Settings
from storage.sources import SOURCES, Source, register
from tests.support.cli import ROOT

README = (ROOT / "README.md").read_text()


def _resolve(dotted: str) -> object:
    module, _, attr = dotted.partition(":")
    return (
        getattr(importlib.import_module(module), attr) if attr else importlib.import_module(module)
    )


@pytest.mark.parametrize("name", list(SOURCES))
def test_everything_about_a_source_carries_its_name(name: str) -> None:
    source = SOURCES[name]
    assert source.name == name
    assert callable(_resolve(source.check))
    assert source.check.startswith(f"checks.{name}:")
    assert name == importlib.import_module(f"checks.{name}").SOURCE
    assert source.spider == f"spiders.{name}"
    assert name == importlib.import_module(source.spider).SOURCE
    assert source.replica.startswith(f"sandbox.{name}:") and isinstance(
        _resolve(source.replica), type
    )
    words = "".join(w.capitalize() for w in name.split("_"))
    assert source.replica.endswith(f":{words}Sandbox"), "a replica class is named <Source>Sandbox"
    assert source.interval_setting.startswith(f"{name}_")
    assert source.interval_setting in Settings.model_fields
    assert source.interval(Settings()) > timedelta(0)
    assert list(ROOT.glob(f"tests/test_{name}*.py")), f"no tests/test_{name}*.py"
    assert f"`{name}`" in README and f"`docketwatch {name} check" in README


def test_the_browser_sources_are_the_ones_looked_up_in_a_browser() -> None:
    assert [s.name for s in SOURCES.values() if s.browser] == ["acis", "detainee_locator"]


@pytest.mark.parametrize("name", ["acis", "detainee_locator"])
def test_a_browser_source_is_described_by_the_registry(name: str) -> None:
    """Its lookup table, its lookups (targets, options, outcome, follow-up), how its answer is
    stored, how the pool plans it: each names a real object of the source's own modules."""
    from checks.browser import BrowserLookups, lookups_of

    spec = SOURCES[name].browser
    assert spec is not None
    table = _resolve(spec.lookup_table)
    assert all(hasattr(table, c) for c in ("client_id", "observed_at", "outcome", "crawl_run_id"))
    lookups = lookups_of(name)
    assert isinstance(lookups, BrowserLookups) and lookups.source == name
    assert spec.lookups.startswith(f"checks.{name}:") and spec.store.startswith(f"spiders.{name}:")
    assert callable(_resolve(spec.store))
    spider = importlib.import_module(SOURCES[name].spider)
    assert callable(spider.make_spider_class) and isinstance(spider.crawl_options({}), dict)
    assert spec.pool is None or callable(_resolve(spec.pool))


def test_no_source_is_chosen_by_name_outside_its_own_modules() -> None:
    """``if source == "acis"`` (and the like) only in the source's own modules: anything else
    reads the registry, so a new browser source cannot silently take another's branch. (A
    query's filter on a stored source's rows is data, not a branch.)"""
    import ast

    problems = []
    for folder in ("spiders", "monitor", "checks", "storage", "cli", "web"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tests = [
                n.test
                for n in ast.walk(ast.parse(path.read_text()))
                if isinstance(n, ast.If | ast.IfExp | ast.While)
            ]
            compares = [c for test in tests for c in ast.walk(test) if isinstance(c, ast.Compare)]
            for node in compares:
                for side in (node.left, *node.comparators):
                    value = side.value if isinstance(side, ast.Constant) else None
                    if value in SOURCES and path.stem != value:
                        rel = path.relative_to(ROOT)
                        problems.append(f"{rel}:{node.lineno}: compares with {value!r}")
    assert problems == []


def test_a_source_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(SOURCES["acis"])
    assert len(SOURCES) == 6


def test_an_interval_setting_must_say_its_unit() -> None:
    odd = Source(**{**SOURCES["acis"].__dict__, "interval_setting": "heartbeat_seconds"})
    with pytest.raises(ValueError, match="_minutes or _hours"):
        odd.interval(Settings())


def test_a_crawl_leaves_out_only_scrapys_unused_parts() -> None:
    """The crawl process leaves Scrapy's unused parts out of its base lists (their imports cost
    every crawl's start), and keeps what politeness needs: the user agent, the timeout and the
    AutoThrottle that spaces lookups out."""
    from scrapy.settings import default_settings as base

    from spiders.run import UNUSED_DOWNLOADER_MIDDLEWARES, UNUSED_EXTENSIONS, _without_unused

    kept = _without_unused()
    extensions, middlewares = kept["EXTENSIONS_BASE"], kept["DOWNLOADER_MIDDLEWARES_BASE"]
    assert set(UNUSED_EXTENSIONS) <= set(base.EXTENSIONS_BASE)  # names Scrapy still has
    assert set(UNUSED_DOWNLOADER_MIDDLEWARES) <= set(base.DOWNLOADER_MIDDLEWARES_BASE)
    assert not set(extensions) & set(UNUSED_EXTENSIONS)
    assert not set(middlewares) & set(UNUSED_DOWNLOADER_MIDDLEWARES)
    assert "scrapy.extensions.throttle.AutoThrottle" in extensions
    assert "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware" in middlewares
    assert "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware" in middlewares


def test_a_crawls_answers_are_stored_by_the_check_and_its_log_kept_apart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The crawl process hands each answer over on stdout; the check stores it as it arrives
    (an answer that cannot be stored is logged by its error's type only, and the crawl goes
    on), shows progress, and keeps the crawl's log (stderr) for the message when it fails."""
    import logging
    import os
    import sys

    from checks.run import _run_child

    child = (
        "import json, sys\n"
        "for n in (1, 2, 3):\n"
        "    print(json.dumps({'item': {'client_id': n, 'body': 'x' * 9000}}), flush=True)\n"
        "    print(f'log line {n}', file=sys.stderr, flush=True)\n"
        "print('the browser went away', file=sys.stderr, flush=True)\n"
        "sys.exit(3)\n"
    )
    stored: list[int] = []

    def store(item: dict[str, object]) -> str:
        assert item["body"] == "x" * 9000  # a long line arrives whole, apart from the log
        if item["client_id"] == 2:
            raise RuntimeError("A123456789 DOE, JANE")  # a database error's text: client data
        stored.append(int(str(item["client_id"])))
        return "ok"

    progress: list[str] = []
    with caplog.at_level(logging.ERROR, logger="checks.run"):
        problem = _run_child(
            [sys.executable, "-c", child], dict(os.environ), 60, store, progress.append
        )
    assert stored == [1, 3] and progress == ["ok", "failed", "ok"]
    assert problem == "crawl process exited 3: the browser went away"
    assert "could not be stored: RuntimeError" in caplog.text and "DOE" not in caplog.text
