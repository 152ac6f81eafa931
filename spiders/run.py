"""Run one crawl in this process: ``python -m spiders.run acis --run-id N --targets FILE``.

The service and the CLI start this as a child process (Twisted's reactor cannot restart in
one process, and a browser crash must not take the service down). Each stored lookup prints
one JSON line on stdout, so the parent can show progress.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from storage.logs import set_log_context, setup_logging
from storage.settings import load_settings
from storage.sources import SOURCES, browser_sources, load

log = logging.getLogger("docketwatch.crawl")

UNUSED_EXTENSIONS = (
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.spiderstate.SpiderState",
)
UNUSED_DOWNLOADER_MIDDLEWARES = (
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
)


class StorePipeline:
    """Parses each captured answer and stores it with the run it belongs to."""

    def __init__(self, database_url: str, run_id: int, zone: str) -> None:
        from storage.db import make_engine

        self.engine = make_engine(database_url)
        self.run_id = run_id
        self.zone = zone
        self.done = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        s = crawler.settings
        return cls(
            s.get("DOCKETWATCH_DATABASE_URL"),
            s.getint("DOCKETWATCH_RUN_ID"),
            s.get("DOCKETWATCH_TIMEZONE"),
        )

    def process_item(self, item: dict[str, Any], spider: Any) -> dict[str, Any]:
        """The answer stored as the source's registry entry says (``BrowserSpec.store``)."""
        spec = SOURCES[spider.name].browser
        assert spec is not None
        outcome = load(spec.store)(self.engine, self.run_id, self.zone, item)
        self._progress(outcome)
        return {"client_id": item["client_id"], "outcome": outcome}

    def _progress(self, outcome: str) -> None:
        self.done += 1
        sys.stdout.write(json.dumps({"done": self.done, "outcome": outcome}) + "\n")
        sys.stdout.flush()

    def close_spider(self, spider: Any) -> None:
        self.engine.dispose()


def _without_unused() -> dict[str, dict[str, int]]:
    """Scrapy's base lists of extensions and downloader middlewares without the unused ones
    (left out of the base lists, not switched off: Scrapy imports every class it is given)."""
    from scrapy.settings import default_settings as base

    return {
        "EXTENSIONS_BASE": {
            k: v for k, v in base.EXTENSIONS_BASE.items() if k not in UNUSED_EXTENSIONS
        },
        "DOWNLOADER_MIDDLEWARES_BASE": {
            k: v
            for k, v in base.DOWNLOADER_MIDDLEWARES_BASE.items()
            if k not in UNUSED_DOWNLOADER_MIDDLEWARES
        },
    }


def spider_module(source: str) -> Any:
    """The spider module of a browser source, as the registry names it."""
    import importlib

    return importlib.import_module(SOURCES[source].spider)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.run")
    parser.add_argument("source", choices=browser_sources())
    parser.add_argument("--run-id", type=int, required=True)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--pace", type=float, default=3.0)
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option of the source's spider (its crawl_options says which)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a browser wait may take (elements)"
    )
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level, fmt=settings.log_format)
    set_log_context(source=args.source, run_id=args.run_id)
    targets = json.loads(args.targets.read_text())

    from scrapy.crawler import CrawlerProcess

    from spiders.browser import launch_options

    process = CrawlerProcess(
        {
            "DOWNLOAD_HANDLERS": {
                "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
            },
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(settings),
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 1,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 3 * args.timeout * 1000,
            "CONCURRENT_REQUESTS": 1,  # one browser lookup at a time per source
            "DOWNLOAD_DELAY": args.pace,
            "RANDOMIZE_DOWNLOAD_DELAY": True,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": args.pace,
            "RETRY_ENABLED": False,  # a failed lookup is recorded, never retried in a loop
            "ROBOTSTXT_OBEY": False,
            "HTTPERROR_ALLOW_ALL": True,  # a 403 block page is an outcome, not a crash
            "USER_AGENT": settings.user_agent,
            "TELNETCONSOLE_ENABLED": False,
            # Scrapy's parts a browser crawl never uses, left out (each costs its imports at
            # every crawl's start): the browser keeps its own cookies, no robots.txt is read
            # (ROBOTSTXT_OBEY), no proxy or HTTP auth is used, nothing is cached, fed or
            # remote-controlled.
            **_without_unused(),
            "LOG_LEVEL": "WARNING",
            "ITEM_PIPELINES": {"spiders.run.StorePipeline": 100},
            "DOCKETWATCH_DATABASE_URL": settings.database_url,
            "DOCKETWATCH_RUN_ID": args.run_id,
            "DOCKETWATCH_TIMEZONE": settings.timezone,
        },
        install_root_handler=False,  # our own handler redacts A-numbers
    )
    module = spider_module(args.source)
    options = dict(o.split("=", 1) for o in args.option)
    process.crawl(
        module.make_spider_class(),
        base_url=args.base_url,
        targets=targets,
        pace_s=min(args.pace, 1.0),
        timeout_s=args.timeout,
        **module.crawl_options(options),
    )
    process.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
