"""What every source check shares: one CrawlRun per check, one report type, the crawl process.

:func:`crawl_run` opens the run, hands the check a :class:`CheckReport` to fill in, and closes the
run however the check ends: a :class:`~storage.errors.SourceError` becomes the run's outcome
(blocked, layout_changed, failed, timed_out), any other exception marks the run failed and is
raised again. Closing the run also updates the source's health (admins hear of a source that keeps
failing, never attorneys).

:func:`crawl` runs ``python -m spiders.run SOURCE`` in its own process: Twisted's reactor cannot
restart in one process, and a browser crash must not take the service down. The crawl process
hands each answer over on its stdout; :func:`crawl` stores it here, as it arrives.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor.source_health import check_source
from storage.db import session_scope
from storage.errors import SourceError
from storage.models import CrawlOutcome, CrawlRun
from storage.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    """What one check of one source did. ``outcomes`` counts lookups by outcome (browser
    sources); ``events`` counts the events the check raised; ``health`` is the source-health
    event it caused, if any; ``details`` holds what only one source has (the FOIA load report,
    the statistics edition stored)."""

    source: str
    run_id: int
    outcome: str = CrawlOutcome.ok.value
    message: str = ""
    items: int = 0
    errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    health: str | None = None
    blocked_clients: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == CrawlOutcome.ok.value

    def fail(self, error: SourceError) -> None:
        self.outcome, self.message = error.outcome, str(error)


def start_run(engine: sa.Engine, source: str, now: datetime | None = None) -> int:
    with session_scope(engine) as session:
        run = CrawlRun(source=source, started_at=now or datetime.now(UTC))
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def finish_run(engine: sa.Engine, settings: Settings, report: CheckReport) -> None:
    """Close the run with the report's outcome and figures; update the source's health."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.get(CrawlRun, report.run_id)
        assert row is not None
        row.finished_at, row.outcome, row.items = now, report.outcome, report.items
        row.errors = report.errors or (0 if report.ok else 1)
        row.message = report.message[:2000]
        session.add(row)
        session.flush()
        report.health = check_source(session, report.source, now, settings.source_failure_threshold)


@contextmanager
def crawl_run(engine: sa.Engine, settings: Settings, source: str) -> Iterator[CheckReport]:
    """One check of ``source`` as one CrawlRun, closed however the check ends."""
    from storage.logs import log_context

    report = CheckReport(source=source, run_id=start_run(engine, source))
    with log_context(source=source, run_id=report.run_id):
        try:
            yield report
        except SourceError as exc:
            report.fail(exc)
        except BaseException as exc:
            report.outcome = CrawlOutcome.failed.value
            report.message = f"{type(exc).__name__}: {exc}"
            finish_run(engine, settings, report)
            raise
        finish_run(engine, settings, report)
        log.info("%s run #%d: %s (%s)", source, report.run_id, report.outcome, report.message[:300])


def shared_targets(
    clients: Sequence[Any],
    key: Callable[[Any], tuple[str, ...]],
    target: Callable[[Any], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One lookup target per person: clients of several programs with the same ``key`` (the
    A-number and the nationality or country the lookup asks with) are looked up once, and the
    answer is stored for each of them (``client_ids``), so each program is alerted."""
    groups: dict[tuple[str, ...], list[Any]] = {}
    for client in clients:
        groups.setdefault(key(client), []).append(client)
    return [{**target(same[0]), "client_ids": [c.id for c in same]} for same in groups.values()]


def summarize(outcomes: Counter[str]) -> str:
    return ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "no lookups"


#: lookup outcomes that are a source's trouble, named as the run outcome they make, worst first
FAILING_LOOKUPS = (
    CrawlOutcome.layout_changed.value,
    CrawlOutcome.blocked.value,
    CrawlOutcome.timed_out.value,
)


def lookups_outcome(
    outcomes: Counter[str], working: Collection[str], empty_if_only: Collection[str] = ()
) -> str:
    """A browser run's outcome from its lookups': ok when any lookup shows the source
    ``working``; else its worst trouble; empty when it looked nobody up (or found only
    ``empty_if_only``); else failed."""
    if not outcomes:
        return CrawlOutcome.empty.value
    if any(o in working for o in outcomes):
        return CrawlOutcome.ok.value
    for failing in FAILING_LOOKUPS:
        if outcomes.get(failing):
            return failing
    if empty_if_only and set(outcomes) <= set(empty_if_only):
        return CrawlOutcome.empty.value
    return CrawlOutcome.failed.value


def tally(
    report: CheckReport,
    outcomes: Counter[str],
    outcome: str,
    conclusive: Collection[str],
    problem: str,
) -> None:
    """Fill a browser check's report from its lookups' outcomes (and the crawl's ``problem``:
    a crawl process that failed before any lookup makes the run failed)."""
    report.outcomes = outcomes
    report.outcome = CrawlOutcome.failed.value if problem and not outcomes else outcome
    report.items = sum(outcomes.values())
    report.errors = sum(n for o, n in outcomes.items() if o not in conclusive)
    report.message = summarize(outcomes) + (f"; {problem}" if problem else "")


def crawl(
    settings: Settings,
    source: str,
    run_id: int,
    targets: list[dict[str, Any]],
    args: list[str],
    store: Callable[[dict[str, Any]], str],
    progress: Callable[[str], None] | None = None,
) -> str:
    """Run ``python -m spiders.run SOURCE`` for ``targets``, storing each answer it hands over
    with ``store`` (which returns the lookup's outcome); return "" or what went wrong."""
    fd, name = tempfile.mkstemp(prefix=f"dw-{source}-", suffix=".json")  # 0600: A-numbers
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(targets, out)
        command = [
            sys.executable,
            "-m",
            "spiders.run",
            source,
            "--run-id",
            str(run_id),
            "--targets",
            name,
            *args,
        ]
        if settings.browser_headed and not os.environ.get("DISPLAY"):
            command = ["xvfb-run", "-a", *command]  # the headed browser needs a display
        # the environment as it is: the crawl process opens no database (``store`` does, here)
        return _run_child(
            command, dict(os.environ), settings.crawl_timeout_seconds, store, progress
        )
    finally:
        Path(name).unlink(missing_ok=True)


def _run_child(
    command: list[str],
    env: dict[str, str],
    timeout: float,
    store: Callable[[dict[str, Any]], str],
    progress: Callable[[str], None] | None,
) -> str:
    """Run the crawl process: store each answer it hands over on stdout as it arrives, keep the
    last lines of its log (stderr, read beside) for the message when it fails."""
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    tail: deque[str] = deque(maxlen=20)

    def keep_log(lines: Iterable[str]) -> None:
        for line in lines:
            tail.append(line.rstrip())  # the child's log is already redacted
            log.debug("crawl: %s", line.rstrip())

    reader = threading.Thread(target=keep_log, args=(proc.stderr,), daemon=True)
    reader.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            if line.startswith('{"item"'):
                outcome = _store(store, json.loads(line)["item"])
                if progress is not None:
                    progress(outcome)
            else:
                keep_log([line])
        proc.wait()
        reader.join(timeout=10)
    finally:
        timer.cancel()
    if proc.returncode != 0:
        last = next((x for x in reversed(tail) if x.strip()), "")
        return f"crawl process exited {proc.returncode}" + (f": {last}" if last else "")
    return ""


def _store(store: Callable[[dict[str, Any]], str], item: dict[str, Any]) -> str:
    """Store one answer; one that cannot be stored is logged and left out (the run counts only
    what is stored), as the crawl process itself did before: the crawl goes on."""
    try:
        return store(item)
    except Exception as exc:
        # the error's type only: a database error's text carries the row's values (client data)
        log.error("a lookup's answer could not be stored: %s", type(exc).__name__)
        return CrawlOutcome.failed.value
