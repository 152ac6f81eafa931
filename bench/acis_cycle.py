"""Benchmark: the ACIS cycle per client, without the browser; and a browser lookup's time.

Part 1 (no browser): N clients (default 10,000) each have a stored ok lookup; a new recorded
GetCaseInfo answer arrives for each (1 in 10 with a changed hearing, the rest with only the
daily clock fields changed). Measured: CPU ms per client for parse + normalize + store +
detect on SQLite, in the process's own CPU time. Reference, same run: a bare ``json.loads`` of
the same answers. Target: at most 2 ms of CPU per client.

Part 2 (browser): seconds per lookup through the spider in Debian's Chromium against the local
ACIS replica (--browser-lookups, default 20; 0 skips it).

Usage: python bench/acis_cycle.py [--clients N] [--browser-lookups N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.progress import track  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from monitor.acis import detect  # noqa: E402
from sandbox.acis_data import Case, Hearing, case_body  # noqa: E402
from spiders.acis import parse_case_info  # noqa: E402
from storage.acis import record  # noqa: E402
from storage.bulk import insert_rows, table  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import Client  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402

TARGET_MS = 2.0
NOW = datetime.now(UTC)
TODAY = date.today()


def _cases(n: int) -> list[Case]:
    return [
        Case(
            f"9{i:08d}",
            "MX",
            case_id=10_000_000 + i,
            hearing=Hearing(on=date.today() + timedelta(days=30 + i % 90)),
        )
        for i in range(n)
    ]


def part1(n: int, folder: Path) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{folder / 'cycle.db'}")
    upgrade(engine)
    load_reference_data(engine)
    cases = _cases(n)
    with engine.begin() as conn:
        insert_rows(
            conn,
            table(Client),
            [
                {
                    "organization_id": 1,  # the database's one program
                    "a_number": c.a_number,
                    "name": "DOE, JANE",
                    "nationality_code": "MX",
                    "status": "represented",
                    "active": True,
                    "notes": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for c in cases
            ],
        )
    first = [json.dumps(case_body(c)).encode() for c in cases]
    for i, c in enumerate(cases):
        c.elapsed_days += 1
        if i % 10 == 0:
            assert c.hearing is not None
            c.hearing = Hearing(on=c.hearing.on - timedelta(days=14))
    second = [json.dumps(case_body(c)).encode() for c in cases]

    # As the service holds them: loaded once, not reloaded after each commit.
    with Session(engine, expire_on_commit=False) as session:
        clients = list(session.exec(select(Client).order_by(Client.id)))  # type: ignore[arg-type]
        for client, raw in zip(clients, first, strict=True):  # the stored baseline
            record(session, client, parse_case_info(200, raw, TODAY), raw, NOW)
        session.commit()

        events = 0
        later = NOW + timedelta(days=1)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i, (client, raw) in enumerate(
            track(
                list(zip(clients, second, strict=True)),
                description="parse+store+detect",
                transient=True,
            )
        ):
            observation = parse_case_info(200, raw, TODAY)
            record(session, client, observation, raw, later)
            events += len(detect(session, client, later, TODAY))
            if i % 500 == 499:
                session.commit()
        session.commit()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    engine.dispose()
    assert events == n // 10, events

    cpu_ref0 = time.process_time()
    for raw in second:
        json.loads(raw)
    cpu_ref = time.process_time() - cpu_ref0
    return {
        "clients": n,
        "events": events,
        "cpu_ms_per_client": round(cpu / n * 1000, 3),
        "wall_ms_per_client": round(wall / n * 1000, 3),
        "reference_json_loads_ms_per_client": round(cpu_ref / n * 1000, 4),
    }


def part2(lookups: int, folder: Path) -> dict[str, float]:
    from checks.acis import check as run_acis_check
    from sandbox.acis import AcisSandbox
    from storage.db import session_scope
    from storage.people import add_client
    from storage.settings import Settings

    url = f"sqlite:///{folder / 'browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    with AcisSandbox() as replica:
        with session_scope(engine) as s:
            for c in _cases(lookups):
                add_client(s, a_number=c.a_number, name="DOE, JANE", nationality="MX")
                replica.set_case(c)
        with session_scope(engine) as s:
            clients = list(s.exec(select(Client)))
        settings = Settings(database_url=url, acis_base_url=replica.url, acis_pace_seconds=0)
        start = time.perf_counter()
        report = run_acis_check(engine, settings, clients)
        elapsed = time.perf_counter() - start
    engine.dispose()
    assert report.outcomes["ok"] == lookups, report.outcomes
    return {"browser_lookups": lookups, "s_per_browser_lookup": round(elapsed / lookups, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--browser-lookups", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-bench-") as tmp:
        figures = part1(args.clients, Path(tmp))
        print(
            f"{figures['clients']:,} clients: {figures['cpu_ms_per_client']:.3f} ms CPU per "
            f"client for parse + normalize + store + detect ({figures['events']} events); "
            f"reference json.loads {figures['reference_json_loads_ms_per_client']:.4f} ms"
        )
        if args.browser_lookups:
            figures.update(part2(args.browser_lookups, Path(tmp)))
            print(
                f"browser: {figures['s_per_browser_lookup']:.2f} s per lookup in Chromium "
                f"against the replica ({args.browser_lookups} lookups, no pacing; the service "
                "paces real lookups by acis_pace_seconds)"
            )
    ratio = figures["cpu_ms_per_client"] / figures["reference_json_loads_ms_per_client"]
    print(
        json.dumps(
            {
                "bench": "acis_cycle",
                **figures,
                "reference": "bare json.loads of the same answers",
                "ratio": round(ratio, 1),
                "target": f"<= {TARGET_MS} ms CPU per client",
                "met": figures["cpu_ms_per_client"] <= TARGET_MS,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
