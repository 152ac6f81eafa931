"""Run one crawl in this process: ``python -m spiders.run acis --run-id N --targets FILE``.

The service and the CLI start this as a child process (Twisted's reactor cannot restart in
one process, and a browser crash must not take the service down). Each answer captured is handed
to that parent as one JSON line on stdout (``{"item": ...}``), which stores it as the source's
registry entry says (``BrowserSpec.store``) and shows progress: the crawl process opens no
database (importing the storage layer and connecting cost it about 0.4 CPU-s at every start).
Its log goes to stderr.
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
from storage.sources import SOURCES, browser_sources

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


class HandOverPipeline:
    """Hands each captured answer to the parent process: one JSON line on stdout, flushed at
    once, so a crawl killed midway has handed over every answer it captured."""

    def process_item(self, item: dict[str, Any], spider: Any) -> dict[str, Any]:
        sys.stdout.write(json.dumps({"item": item}) + "\n")
        sys.stdout.flush()
        # what Scrapy's own log may show of it (at DEBUG): never the page's names or numbers
        return {"client_id": item["client_id"]}


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
            "ITEM_PIPELINES": {"spiders.run.HandOverPipeline": 100},
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
