"""The one check of every browser source: lookups in a crawl process (``spiders.run``), then,
for each stored lookup, what the source does with it (detection).

What differs between browser sources is their :class:`BrowserLookups`, named in the registry
(:class:`storage.sources.BrowserSpec`): how a client's lookup target is built, the spider's
options from the settings, how a run's outcome is judged from its lookups, and what follows each
stored lookup. A new browser source describes itself there; nothing here names one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from checks.run import CheckReport, crawl, crawl_run, shared_targets, tally
from storage.db import session_scope
from storage.models import Client
from storage.settings import Settings
from storage.sources import SOURCES, load

#: what follows one stored lookup: (session, client, lookup row, finished at, settings, report)
After = Callable[[Session, Client, Any, datetime, Settings, CheckReport], None]


@dataclass(frozen=True)
class BrowserLookups:
    """A browser source's part of the check."""

    source: str
    key: Callable[[Client], tuple[str, ...]]  # one person: clients with the same key share it
    target: Callable[[Client], dict[str, Any]]  # what the spider needs to look a client up
    base_url: Callable[[Settings], str]
    pace: Callable[[Settings], float]
    options: Callable[[Settings], dict[str, object]]  # the spider's own (``--option``)
    outcome: Callable[[Counter[str]], str]  # the run's, from its lookups' outcomes
    conclusive: Collection[str]  # lookup outcomes that say something about the person
    after: After

    def check(
        self,
        engine: sa.Engine,
        settings: Settings,
        clients: Sequence[Client],
        *,
        progress: Callable[[str], None] | None = None,
        pace_s: float | None = None,
    ) -> CheckReport:
        """Look ``clients`` up in a crawl process, then follow up each stored lookup."""
        table = load(_spec(self.source).lookup_table)
        with crawl_run(engine, settings, self.source) as report:
            targets = shared_targets(clients, self.key, self.target)
            pace = self.pace(settings) if pace_s is None else pace_s
            args = [
                "--base-url",
                self.base_url(settings),
                "--pace",
                str(pace),
                "--timeout",
                str(settings.browser_timeout_seconds),
            ]
            for name, value in self.options(settings).items():
                args += ["--option", f"{name}={value}"]
            store = partial(
                load(_spec(self.source).store), engine, report.run_id, settings.timezone
            )
            problem = crawl(settings, self.source, report.run_id, targets, args, store, progress)
            finished = datetime.now(UTC)
            with session_scope(engine) as session:
                found = session.exec(select(table).where(table.crawl_run_id == report.run_id))
                lookups = list(found)
                outcomes = Counter(x.outcome for x in lookups)
                tally(report, outcomes, self.outcome(outcomes), self.conclusive, problem)
                for lookup in lookups:
                    client = session.get(Client, lookup.client_id)
                    assert client is not None
                    self.after(session, client, lookup, finished, settings, report)
        return report


def _spec(source: str) -> Any:
    spec = SOURCES[source].browser
    if spec is None:
        raise ValueError(f"{source} is not a browser source")
    return spec


def lookups_of(source: str) -> BrowserLookups:
    """The registered :class:`BrowserLookups` of a browser source."""
    found: BrowserLookups = load(_spec(source).lookups)
    return found
