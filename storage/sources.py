"""The registry of public sources: one :class:`Source` per source, read by everything that needs
to know which sources exist.

The scheduler (which check to run, how often), the CLI (one command group per source), ``status``
and the watchdog (freshness), the planner (the browser sources), settings validation (``sources``)
and the docs test all read :data:`SOURCES`. A source's name is the name of its spider, of its
modules (``spiders/``, ``checks/``, ``monitor/``, ``storage/``, ``sandbox/`` where it has one),
of its CLI group, of the prefix of its settings, of its fixture folder and test files, and of the
value stored in ``crawl_run.source``: a grep for the name finds everything about it.

The upper layers are named here by dotted path, never imported: storage imports nothing above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class BrowserSpec:
    """What a browser source's crawl, planner and pool need, each named by dotted path.

    - ``lookup_table``: the table of its lookups ("module:Model": a row per lookup with
      ``client_id``, ``observed_at``, ``outcome`` and ``crawl_run_id``), read by the planner;
    - ``lookups``: its :class:`checks.browser.BrowserLookups` ("module:NAME"): how a client's
      lookup target is built, its spider's options, how its run's outcome is judged, what
      follows each stored lookup (detection);
    - ``store``: how the spider's answer is stored, by the check that started the crawl (and by
      a pool worker) ("module:function");
    - ``pool``: how the pool plans it ("module:function(engine, settings) -> summary"): a planned
      batch of single lookups, or ``None``: the whole check queued as one task.
    """

    lookup_table: str
    lookups: str
    store: str
    pool: str | None = None


@dataclass(frozen=True)
class Source:
    """One public source docketwatch reads."""

    name: str
    title: str  # what people call it
    doc: str  # one line: what docketwatch reads there and why
    interval_setting: str  # the Settings field with the service's interval (…_minutes, …_hours)
    browser: BrowserSpec | None  # read in a real browser, within the polling budget
    check_command: tuple[str, ...]  # the CLI command the service runs in a child process
    check: str  # "module:function" of the check
    spider: str  # module of the spider (its `SOURCE` is this name)
    replica: str  # "module:class" of the local replica in sandbox/

    def interval(self, settings: Any) -> timedelta:
        """How often the service runs this source's check, from its setting."""
        value = float(getattr(settings, self.interval_setting))
        if self.interval_setting.endswith("_minutes"):
            return timedelta(minutes=value)
        if self.interval_setting.endswith("_hours"):
            return timedelta(hours=value)
        raise ValueError(f"{self.interval_setting}: an interval setting ends in _minutes or _hours")


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a source to the registry; a name registered twice is a programming error."""
    if source.name in SOURCES:
        raise ValueError(f"source {source.name!r} is registered twice")
    SOURCES[source.name] = source
    return source


def browser_sources() -> list[str]:
    return [s.name for s in SOURCES.values() if s.browser is not None]


def load(path: str) -> Any:
    """The object a registry entry names by dotted path ("package.module:name")."""
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


register(
    Source(
        name="acis",
        title="EOIR case status (ACIS)",
        doc="each client's next hearing, decision and appeal, looked up as a person would",
        interval_setting="acis_interval_minutes",
        browser=BrowserSpec(
            lookup_table="storage.models:AcisLookup",
            lookups="checks.acis:LOOKUPS",
            store="spiders.acis:store_item",
            pool="checks.pool:plan_acis",
        ),
        check_command=("acis", "check", "--planned", "--no-dispatch"),
        check="checks.acis:check",
        spider="spiders.acis",
        replica="sandbox.acis:AcisSandbox",
    )
)
register(
    Source(
        name="detainee_locator",
        title="ICE online detainee locator",
        doc="where each detained client is held: detentions, transfers, releases",
        interval_setting="detainee_locator_interval_minutes",
        browser=BrowserSpec(
            lookup_table="storage.models:CustodyLookup",
            lookups="checks.detainee_locator:LOOKUPS",
            store="spiders.detainee_locator:store_item",
        ),
        check_command=("detainee_locator", "check", "--planned", "--no-dispatch"),
        check="checks.detainee_locator:check",
        spider="spiders.detainee_locator",
        replica="sandbox.detainee_locator:DetaineeLocatorSandbox",
    )
)
register(
    Source(
        name="eoir_foia",
        title="EOIR bulk FOIA case data",
        doc="every case at every court: the unrepresented caseload and new cases at Adelanto",
        interval_setting="eoir_foia_interval_hours",
        browser=None,
        check_command=("eoir_foia", "check", "--no-dispatch"),
        check="checks.eoir_foia:check",
        spider="spiders.eoir_foia",
        replica="sandbox.eoir_foia:EoirFoiaSandbox",
    )
)
register(
    Source(
        name="detention_stats",
        title="ICE detention statistics",
        doc="each facility's population per edition of ICE's workbooks",
        interval_setting="detention_stats_interval_hours",
        browser=None,
        check_command=("detention_stats", "check"),
        check="checks.detention_stats:check",
        spider="spiders.detention_stats",
        replica="sandbox.detention_stats:DetentionStatsSandbox",
    )
)
register(
    Source(
        name="court_status",
        title="EOIR court operational status",
        doc="court closures (hearings on those days) and the Adelanto judges",
        interval_setting="court_status_interval_hours",
        browser=None,
        check_command=("court_status", "check", "--no-dispatch"),
        check="checks.court_status:check",
        spider="spiders.court_status",
        replica="sandbox.court_status:CourtStatusSandbox",
    )
)
register(
    Source(
        name="federal_dockets",
        title="Federal dockets (CourtListener)",
        doc="clients' habeas petitions and petitions for review: each new docket entry",
        interval_setting="federal_dockets_interval_minutes",
        browser=None,
        check_command=("federal_dockets", "check", "--no-dispatch"),
        check="checks.federal_dockets:check",
        spider="spiders.federal_dockets",
        replica="sandbox.federal_dockets:FederalDocketsSandbox",
    )
)
