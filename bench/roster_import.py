"""Benchmark: roster import rows/s on SQLite and PostgreSQL, against a plain executemany.

What it measures: ``import_roster`` on a synthetic CSV roster of N clients (default 100,000)
into an empty, migrated database: reading, header detection, A-number and nationality
validation, duplicate checks and the upsert with attorney assignments, in one transaction.
The reference, measured in the same run on the same machine: a plain DB-API ``executemany``
INSERT of the same, already-clean rows into the same table of another empty database.
Target: the import within 3x of the reference, on both databases.

Also printed: a second import of the same file (everything unchanged).

Each figure is the best of --repeat runs (default 3), each on a new empty database.

Usage: python bench/roster_import.py [--rows N] [--repeat R] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from sandbox import pgserver  # noqa: E402
from sandbox.roster import make_roster, write_csv  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.identifiers import parse_a_number, parse_nationality  # noqa: E402
from storage.people import add_staff  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402
from storage.roster import import_roster, parse_date, parse_status  # noqa: E402

TARGET = 3.0
ATTORNEYS = [f"attorney{i}@example.org" for i in range(20)]
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _prepare(url: str) -> sa.Engine:
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    with session_scope(engine) as s:
        for email in ATTORNEYS:
            add_staff(s, name=email, email=email, role="attorney", now=NOW)
    return engine


def _clean_rows(rows: list[list[str]]) -> list[tuple[Any, ...]]:
    out = []
    for r in rows:
        out.append(
            (
                parse_a_number(r[0]),
                r[1],
                parse_nationality(r[2]),
                parse_nationality(r[3]),
                parse_date(r[4]),
                parse_status(r[5]) if r[5] else "represented",
                ATTORNEYS.index(r[6]) + 1,  # staff ids 1..20, added in this order
                True,
                "",
                NOW.replace(tzinfo=None),
                NOW.replace(tzinfo=None),
            )
        )
    return out


def _reference(engine: sa.Engine, clean: list[tuple[Any, ...]]) -> float:
    sql_params = "?" if engine.dialect.name == "sqlite" else "%s"
    cols = (
        "a_number, name, nationality_code, country_of_birth_code, born_on, status, "
        "primary_attorney_id, active, notes, created_at, updated_at, organization_id"
    )
    # organization_id: the database's one program
    sql = f"INSERT INTO client ({cols}) VALUES ({', '.join([sql_params] * 11)}, 1)"
    raw = engine.raw_connection()
    try:
        start = time.perf_counter()
        cur = raw.cursor()
        cur.executemany(sql, clean)
        raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
    return elapsed


def _measure(
    label: str,
    fresh_url: Callable[[], AbstractContextManager[str]],
    path: Path,
    clean: list[tuple[Any, ...]],
    rows: int,
    repeat: int,
) -> dict[str, float]:
    """Best of ``repeat`` runs of each, every run on a new empty database, interleaved."""
    firsts, seconds, references = [], [], []
    for _ in range(repeat):
        with fresh_url() as url:
            engine = _prepare(url)
            start = time.perf_counter()
            report = import_roster(engine, path, now=NOW, write_rejects=False)
            firsts.append(time.perf_counter() - start)
            assert report.created == rows and not report.rejects, report
            start = time.perf_counter()
            again = import_roster(engine, path, now=NOW, write_rejects=False)
            seconds.append(time.perf_counter() - start)
            assert again.unchanged == rows
            engine.dispose()
        with fresh_url() as url:
            ref_engine = _prepare(url)
            references.append(_reference(ref_engine, clean))
            ref_engine.dispose()
    first, second, reference = min(firsts), min(seconds), min(references)
    ratio = first / reference
    print(
        f"{label:10s} import {first:7.2f} s ({rows / first:9,.0f} rows/s)   "
        f"re-import {second:6.2f} s   reference executemany {reference:6.2f} s "
        f"({rows / reference:9,.0f} rows/s)   ratio {ratio:4.2f} (target <= {TARGET}; "
        f"best of {repeat})"
    )
    return {
        f"{label}_rows_per_s": round(rows / first),
        f"{label}_import_s": round(first, 3),
        f"{label}_reimport_s": round(second, 3),
        f"{label}_reference_s": round(reference, 3),
        f"{label}_ratio": round(ratio, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None, epilog="Scale it with --rows."
    )
    parser.add_argument("--rows", type=int, default=100_000, help="clients in the roster")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dw-bench-") as tmp:
        folder = Path(tmp)
        roster = make_roster(args.rows, bad=0, attorneys=ATTORNEYS, seed=11)
        path = write_csv(roster, folder / "roster.csv")
        clean = _clean_rows(roster.rows)
        print(f"roster: {args.rows:,} clients, {path.stat().st_size / 1e6:.1f} MB CSV")
        figures: dict[str, float] = {}
        counter = iter(range(10**6))

        @contextmanager
        def sqlite_url() -> Iterator[str]:
            db = folder / f"bench{next(counter)}.db"
            yield f"sqlite:///{db}"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)

        figures.update(_measure("sqlite", sqlite_url, path, clean, args.rows, args.repeat))
        if not args.skip_postgres:
            with pgserver.server() as admin:

                def pg_url() -> AbstractContextManager[str]:
                    return pgserver.fresh_database(admin)

                figures.update(_measure("postgresql", pg_url, path, clean, args.rows, args.repeat))
    ratios = [v for k, v in figures.items() if k.endswith("_ratio")]
    worst = max(ratios)
    result = {
        "bench": "roster_import",
        "rows": args.rows,
        **figures,
        "reference": "DB-API executemany of the same clean rows into the same table",
        "ratio": worst,
        "target": TARGET,
        "met": worst <= TARGET,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
