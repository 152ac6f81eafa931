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

from storage.logs import setup_logging
from storage.settings import load_settings
from storage.sources import browser_sources

log = logging.getLogger("docketwatch.crawl")


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
        if spider.name == "detainee_locator":
            return self._custody(item)
        return self._acis(item)

    def _progress(self, outcome: str) -> None:
        self.done += 1
        sys.stdout.write(json.dumps({"done": self.done, "outcome": outcome}) + "\n")
        sys.stdout.flush()

    def _custody(self, item: dict[str, Any]) -> dict[str, Any]:
        from datetime import UTC, datetime

        from spiders.detainee_locator import parse_facility, parse_result
        from storage.db import session_scope
        from storage.detainee_locator import record
        from storage.models import Client
        from storage.snapshots import CustodyObservation, CustodyOutcome

        now = datetime.now(UTC)
        html = item.get("html", "")
        if "outcome" in item:
            observation = CustodyObservation(
                outcome=CustodyOutcome(item["outcome"]), message=item.get("message", "")
            )
        else:
            observation = parse_result(item["status"], html)
            if item.get("via"):
                observation = observation.model_copy(
                    update={"message": f"searched by {item['via']} information"}
                )
            if item.get("facility_html"):
                name, address, phone = parse_facility(item["facility_html"])
                observation = observation.model_copy(
                    update={
                        "facility_address": address,
                        "facility_phone": phone,
                        "facility_name": observation.facility_name or name,
                    }
                )
        with session_scope(self.engine) as session:
            for client_id in item.get("client_ids") or [item["client_id"]]:
                client = session.get(Client, client_id)  # each program that watches the person
                assert client is not None
                record(
                    session,
                    client,
                    observation,
                    html,
                    now,
                    attempts=item.get("attempts", 1),
                    crawl_run_id=self.run_id,
                )
        self._progress(observation.outcome.value)
        return {"client_id": item["client_id"], "outcome": observation.outcome.value}

    def _acis(self, item: dict[str, Any]) -> dict[str, Any]:
        outcome = store_acis_item(self.engine, self.run_id, self.zone, item)
        self._progress(outcome)
        return {"client_id": item["client_id"], "outcome": outcome}

    def close_spider(self, spider: Any) -> None:
        self.engine.dispose()


def store_acis_item(engine: Any, run_id: int, zone: str, item: dict[str, Any]) -> str:
    """Parse one ACIS lookup's item (the spider's, or a pool worker's) and store it with the
    run it belongs to, for every client it was made for; return its outcome."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from spiders.acis import parse_case_info
    from storage.acis import record
    from storage.db import session_scope
    from storage.models import Client
    from storage.snapshots import AcisObservation, Outcome

    now = datetime.now(UTC)
    raw = (item.get("body") or "").encode()
    if "outcome" in item:
        observation = AcisObservation(
            outcome=Outcome(item["outcome"]),
            language=item["language"],
            http_status=0,
            message=item.get("message", ""),
            raw_sha256="",
        )
    else:
        today = now.astimezone(ZoneInfo(zone)).date()
        observation = parse_case_info(item["http_status"], raw, today, item["language"])
    with session_scope(engine) as session:
        for client_id in item.get("client_ids") or [item["client_id"]]:
            client = session.get(Client, client_id)  # each program that watches the person
            assert client is not None
            record(
                session,
                client,
                observation,
                raw,
                now,
                nationality_code=item["nationality_code"],
                crawl_run_id=run_id,
            )
    return observation.outcome.value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.run")
    parser.add_argument("source", choices=browser_sources())
    parser.add_argument("--run-id", type=int, required=True)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--language", default="EN", choices=["EN", "ES"])
    parser.add_argument("--pace", type=float, default=3.0)
    parser.add_argument("--zero-attempts", type=int, default=3)
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a browser wait may take (elements)"
    )
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level)
    targets = json.loads(args.targets.read_text())

    from scrapy.crawler import CrawlerProcess

    from spiders import acis, detainee_locator
    from spiders.browser import launch_options

    process = CrawlerProcess(
        {
            "DOWNLOAD_HANDLERS": {
                "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
            },
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(
                str(settings.browser_executable), settings.browser_headed
            ),
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
            "LOG_LEVEL": "WARNING",
            "ITEM_PIPELINES": {"spiders.run.StorePipeline": 100},
            "DOCKETWATCH_DATABASE_URL": settings.database_url,
            "DOCKETWATCH_RUN_ID": args.run_id,
            "DOCKETWATCH_TIMEZONE": settings.timezone,
        },
        install_root_handler=False,  # our own handler redacts A-numbers
    )
    if args.source == "acis":
        process.crawl(
            acis.make_spider_class(),
            base_url=args.base_url,
            targets=targets,
            language=args.language,
            pace_s=min(args.pace, 1.0),
            timeout_s=args.timeout,
        )
    else:
        process.crawl(
            detainee_locator.make_spider_class(),
            base_url=args.base_url,
            targets=targets,
            pace_s=min(args.pace, 1.0),
            timeout_s=args.timeout,
            zero_attempts=args.zero_attempts,
        )
    process.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
