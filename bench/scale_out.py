"""Benchmark: the pool of workers, on loopback: a Redis of its own, a fresh PostgreSQL
database, the ACIS replica over HTTP, and `docketwatch worker --simulate-browser SECONDS`
processes (the replica's own API, then SECONDS of waiting where a browser would spend them).

Three phases, each a batch queued by the planner (``checks.pool.plan_acis``, the service's own
code) and worked through by the pool:

1. one worker, no budget: lookups per second (the reference);
2. --workers workers (default 4), no budget: lookups per second; target: at least 3.5 times the
   one worker's;
3. the same workers with a budget of --budget lookups a minute (default 60), for --minutes full
   calendar minutes (default 2): the lookups that reached the replica, counted per calendar
   minute; targets: no minute over the budget, and the pool using at least 90% of it in every
   full minute.

Usage: python bench/scale_out.py [--lookups N] [--browser-seconds S] [--workers W]
                                 [--budget B] [--minutes M]
Prints a table, then one JSON line (the last line) with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session  # noqa: E402

from checks import pool  # noqa: E402
from sandbox import pgserver as pg  # noqa: E402
from sandbox import redisserver  # noqa: E402
from sandbox.acis import AcisSandbox  # noqa: E402
from sandbox.acis_data import Case, Hearing  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import CheckRequest, CrawlOutcome, CrawlRun  # noqa: E402
from storage.people import add_client  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402
from storage.settings import Settings  # noqa: E402

EXE = str(Path(sys.executable).with_name("docketwatch"))


def _worker(env: dict[str, str], log: Path, seconds: float) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [EXE, "worker", "--simulate-browser", str(seconds)],
        env=env,
        cwd=log.parent,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


Procs = list[subprocess.Popen[bytes]]


def _start(env: dict[str, str], folder: Path, n: int, seconds: float, phase: str) -> Procs:
    procs = []
    for i in range(n):
        log = folder / f"{phase}-worker-{i}.log"
        procs.append(_worker(env, log, seconds))
        _wait(partial(_says, log, "worker ready"), 120, f"worker {i} to start")
    return procs


def _says(log: Path, what: str) -> bool:
    return log.exists() and what in log.read_text()


def _stop(procs: Procs) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _request_all(engine: sa.Engine, ids: list[int]) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for client_id in ids:
            s.add(
                CheckRequest(client_id=client_id, source="acis", reason="bench", requested_at=now)
            )


def _closed(engine: sa.Engine, run_id: int) -> bool:
    with Session(engine) as s:
        run = s.get(CrawlRun, run_id)
        return run is not None and run.outcome != CrawlOutcome.running.value


def _batch(
    engine: sa.Engine, settings: Settings, ids: list[int], lookups: int
) -> tuple[int, float]:
    _request_all(engine, ids)
    batch = settings.model_copy(update={"browser_lookups_per_hour": lookups})
    started = time.monotonic()
    summary = pool.plan_acis(engine, batch)
    if not summary.startswith("run #"):
        raise SystemExit(f"the planner queued nothing: {summary}")
    return int(summary.split("#")[1].split(":")[0]), started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lookups", type=int, default=120, help="lookups per throughput phase")
    ap.add_argument("--browser-seconds", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--budget", type=int, default=60, help="lookups a minute in phase 3")
    ap.add_argument("--minutes", type=int, default=2, help="full calendar minutes in phase 3")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dw-scale-out-"))
    clients = max(args.lookups, args.budget * (args.minutes + 2))
    with (
        redisserver.server() as redis_url,
        pg.server() as admin,
        pg.fresh_database(admin) as database,
        AcisSandbox() as acis,
    ):
        engine = make_engine(database)
        upgrade(engine)
        load_reference_data(engine)
        ids = _seed(engine, acis, clients)
        settings = Settings(
            database_url=database,
            redis_url=redis_url,
            acis_base_url=acis.url,
            browser_hours="0-24",
            pool_lookups_per_minute=0,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
        env.update(
            {
                "DATABASE_URL": database,
                "REDIS_URL": redis_url,
                "DOCKETWATCH_ACIS_BASE_URL": acis.url,
                "DOCKETWATCH_BROWSER_HOURS": "0-24",
                "DOCKETWATCH_LOG_LEVEL": "WARNING",
            }
        )
        phase = _Phase(engine, settings, env, folder, args)
        rates = {n: phase.throughput(ids, n) for n in (1, args.workers)}
        full, worst = phase.under_budget(acis, ids, clients)
        engine.dispose()
    _report(args, rates, full, worst)
    return 0


def _seed(engine: sa.Engine, acis: AcisSandbox, clients: int) -> list[int]:
    """``clients`` clients, each with a hearing on the replica; their ids."""
    ids: list[int] = []
    with session_scope(engine) as s:
        for i in range(clients):
            number = f"9{i:08d}"
            acis.set_case(Case(number, "MX", hearing=Hearing(on=date.today() + timedelta(30))))
            c = add_client(s, a_number=number, name=f"CLIENT, NUMBER {i}", nationality="MX")
            assert c.id is not None
            ids.append(c.id)
    return ids


@dataclass
class _Phase:
    """What each phase runs with: the database, the settings, the workers' environment."""

    engine: sa.Engine
    settings: Settings
    env: dict[str, str]
    folder: Path
    args: argparse.Namespace

    def throughput(self, ids: list[int], n: int) -> float:
        """Lookups a second of ``n`` workers with no budget."""
        procs = _start(
            {**self.env, "DOCKETWATCH_POOL_LOOKUPS_PER_MINUTE": "0"},
            self.folder,
            n,
            self.args.browser_seconds,
            f"unlimited-{n}",
        )
        try:
            run_id, started = _batch(self.engine, self.settings, ids, self.args.lookups)
            _wait(partial(_closed, self.engine, run_id), 3600, f"run #{run_id}")
            rate = self.args.lookups / (time.monotonic() - started)
        finally:
            _stop(procs)
        print(f"{n} worker(s), no budget: {rate:.2f} lookups/s", flush=True)
        return rate

    def under_budget(
        self, acis: AcisSandbox, ids: list[int], clients: int
    ) -> tuple[list[int], int]:
        """The pool under its budget for full calendar minutes: the lookups the replica saw in
        each full minute, and the most it saw in any minute."""
        procs = _start(
            {**self.env, "DOCKETWATCH_POOL_LOOKUPS_PER_MINUTE": str(self.args.budget)},
            self.folder,
            self.args.workers,
            self.args.browser_seconds,
            "budget",
        )
        try:
            first = len(acis.state.asked_at)
            began = time.time()
            _batch(self.engine, self.settings, ids, clients)
            # full calendar minutes after the one the phase began in
            end = (math.floor(began / 60) + 1 + self.args.minutes) * 60
            _wait(lambda: time.time() >= end + 1, 3600, "the budget phase")
        finally:
            _stop(procs)
        asked = acis.state.asked_at[first:]
        per_minute = Counter(int(t // 60) for t in asked)
        full = [per_minute.get(m, 0) for m in range(math.floor(began / 60) + 1, int(end // 60))]
        return full, (max(per_minute.values()) if per_minute else 0)


def _report(args: argparse.Namespace, rates: dict[int, float], full: list[int], worst: int) -> None:
    speedup = rates[args.workers] / rates[1]
    used = min(full) / args.budget if full else 0.0
    rows = [
        ("1 worker, no budget (reference)", f"{rates[1]:.2f} lookups/s"),
        (f"{args.workers} workers, no budget", f"{rates[args.workers]:.2f} lookups/s"),
        ("speedup (target >= 3.5)", f"{speedup:.2f}x"),
        (f"budget {args.budget}/minute: most in any minute", str(worst)),
        ("lookups in each full minute", ", ".join(map(str, full))),
        ("budget used in the leanest full minute (target >= 90%)", f"{used:.0%}"),
    ]
    for label, value in rows:
        print(f"{label:<58} {value}")
    met = speedup >= 3.5 and worst <= args.budget and used >= 0.9
    print(
        json.dumps(
            {
                "bench": "scale_out",
                "reference": round(rates[1], 3),
                "ratio": round(speedup, 2),
                "target": "4 workers >= 3.5x one; budget never exceeded; >= 90% of it used",
                "met": met,
                "lookups_per_phase": args.lookups,
                "browser_seconds": args.browser_seconds,
                "one_worker_per_s": round(rates[1], 3),
                "pool_workers": args.workers,
                "pool_per_s": round(rates[args.workers], 3),
                "speedup": round(speedup, 2),
                "speedup_target": 3.5,
                "budget_per_minute": args.budget,
                "max_in_any_minute": worst,
                "full_minutes": full,
                "budget_used_min": round(used, 3),
                "budget_used_target": 0.9,
                "budget_never_exceeded": worst <= args.budget,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
