"""Benchmark: CPU per ICE locator lookup, without the browser.

What it measures: N recorded result pages (default 10,000; results, facility pages, zeros and
releases in realistic shares, rendered by the locator replica) for N clients on SQLite, each
parsed (result + facility page), stored, its facility matched, and its client's custody history
compared (events emitted), against a stored baseline. CPU ms per lookup, in the process's own
CPU time. Reference, same run: a bare parse of the same pages by parsel (``Selector`` and one
CSS query). Target: at most 3 ms per lookup.

Usage: python bench/custody_cycle.py [--lookups N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsel import Selector  # noqa: E402
from rich.progress import track  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from monitor.detainee_locator import detect, resolve_facilities  # noqa: E402
from sandbox.detainee_locator import COUNTRIES, DetaineeLocatorSandbox, Person  # noqa: E402
from spiders.detainee_locator import parse_facility, parse_result  # noqa: E402
from storage.bulk import insert_rows, table  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.detainee_locator import record  # noqa: E402
from storage.models import Client  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402

TARGET_MS = 3.0
NOW = datetime.now(UTC)
PLACES = ["ADLNTCA", "ADLNTCA", "ADLNTCA", "CADESVI", "OTAYMESA", "ELOYAZ", "TACOMA"]


def pages(n: int) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """Two rounds of (status, results html, facility html) for N people, as the replica renders
    them: the second with 5% of people transferred, released or gone."""
    rng = random.Random(7)
    replica = DetaineeLocatorSandbox(port=1)  # rendering only, never started
    codes = list(COUNTRIES)
    people = []
    for i in range(n):
        code = codes[i % len(codes)]
        facility = rng.choice(PLACES) if rng.random() < 0.9 else None
        person = Person(
            f"9{i:08d}",
            code,
            "TEST",
            f"CLIENT{i}",
            facility=facility,
            released_on=NOW.date() if facility is None else None,
        )
        replica.state.people[person.a_number] = person
        people.append(person)

    def render() -> list[tuple[int, str, str]]:
        out = []
        for p in people:
            status, html = replica.search(p.a_number, COUNTRIES[p.country])
            present = p.a_number in replica.state.people
            out.append(
                (status, html, replica.facility_page(p.facility) if p.facility and present else "")
            )
        return out

    first = render()
    for p in people:
        roll = rng.random()
        if roll < 0.02:
            p.facility = rng.choice(PLACES)
        elif roll < 0.04 and p.facility:
            p.facility, p.released_on = None, NOW.date()
        elif roll < 0.05:
            replica.state.people.pop(p.a_number, None)
    second = render()
    replica._server.server_close()
    return first, second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lookups", type=int, default=10_000)
    args = parser.parse_args()
    n = args.lookups
    with tempfile.TemporaryDirectory(prefix="dw-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'custody.db'}")
        upgrade(engine)
        load_reference_data(engine)
        with engine.begin() as conn:
            insert_rows(
                conn,
                table(Client),
                [
                    {
                        "organization_id": 1,  # the database's one program
                        "a_number": f"9{i:08d}",
                        "name": "DOE, JANE",
                        "nationality_code": "MX",
                        "status": "represented",
                        "active": True,
                        "notes": "",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(n)
                ],
            )
        baseline, current = pages(n)

        def cycle(
            session: Session,
            clients: list[Client],
            recorded: list[tuple[int, str, str]],
            when: datetime,
        ) -> int:
            made = 0
            for i, (client, (status, html, facility_html)) in enumerate(
                track(
                    list(zip(clients, recorded, strict=True)),
                    transient=True,
                    description="parse+store+match+detect",
                )
            ):
                observation = parse_result(status, html)
                if facility_html:
                    _, address, phone = parse_facility(facility_html)
                    observation = observation.model_copy(
                        update={"facility_address": address, "facility_phone": phone}
                    )
                record(session, client, observation, html, when)
                resolve_facilities(session, client, when)
                made += len(detect(session, client, when))
                if i % 500 == 499:
                    session.commit()
            session.commit()
            return made

        with Session(engine, expire_on_commit=False) as session:
            clients = list(session.exec(select(Client).order_by(col(Client.id))))
            cycle(session, clients, baseline, NOW)
            cpu0 = time.process_time()
            events = cycle(session, clients, current, NOW + timedelta(hours=12))
            cpu = time.process_time() - cpu0
        engine.dispose()

    cpu_ref0 = time.process_time()
    for _, html, facility_html in current:
        Selector(text=html).css("#resultsPage div").getall()
        if facility_html:
            Selector(text=facility_html).css("#detentionPage div").getall()
    cpu_ref = time.process_time() - cpu_ref0
    per, ref = cpu / n * 1000, cpu_ref / n * 1000
    print(
        f"{n:,} lookups: {per:.3f} ms CPU per lookup for parse + store + facility match + "
        f"detect ({events} events); reference bare parsel parse {ref:.3f} ms"
    )
    print(
        json.dumps(
            {
                "bench": "detainee_locator_cycle",
                "lookups": n,
                "events": events,
                "cpu_ms_per_lookup": round(per, 3),
                "reference": "parsel Selector + one CSS query of the same pages",
                "reference_ms_per_lookup": round(ref, 3),
                "ratio": round(per / ref, 1),
                "target": f"<= {TARGET_MS} ms CPU per lookup",
                "met": per <= TARGET_MS,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
