"""Benchmark: parsing ICE detention statistics workbooks, against openpyxl's bare read.

What it measures: seconds per workbook for ``storage.detention_stats.parse_workbook`` (find the
Facilities sheet, scan for the header, map columns, convert every row, run the sanity checks)
over the real workbooks in tests/fixtures/detention_stats/ice_xlsx (or --dir).
Reference, same run: openpyxl's bare read-only load of the same files (``load_workbook(
read_only=True, data_only=True)`` and every row of the Facilities sheet read as values). Each
figure is the best of --repeat runs (default 5) per file. Target: at most 1.5x the reference.

Usage: python bench/stats_parse.py [--dir DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402

from spiders.detention_stats import parse_workbook  # noqa: E402

TARGET = 1.5


def bare(path: Path) -> int:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next(n for n in wb.sheetnames if "facilities" in n.strip().lower())
        return sum(1 for _ in wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()


def best(fn: object, path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(path)  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=ROOT / "tests/fixtures/detention_stats/ice_xlsx",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted(args.dir.glob("FY*.xlsx"))
    if not files:
        raise SystemExit(f"no FY*.xlsx workbooks in {args.dir}")
    ours = ref = 0.0
    for path in files:
        a, b = best(parse_workbook, path, args.repeat), best(bare, path, args.repeat)
        n = len(parse_workbook(path).facilities)
        print(
            f"{path.name:40s} parse {a * 1000:7.1f} ms  bare openpyxl {b * 1000:7.1f} ms  "
            f"{n} facilities"
        )
        ours, ref = ours + a, ref + b
    per, per_ref = ours / len(files), ref / len(files)
    ratio = per / per_ref
    print(
        f"mean per workbook: parse {per:.3f} s, reference {per_ref:.3f} s, ratio {ratio:.2f} "
        f"(target <= {TARGET})"
    )
    print(
        json.dumps(
            {
                "bench": "detention_stats_parse",
                "workbooks": len(files),
                "s_per_workbook": round(per, 4),
                "reference": "openpyxl read-only load + every row of the Facilities sheet",
                "reference_s_per_workbook": round(per_ref, 4),
                "ratio": round(ratio, 2),
                "target": f"ratio <= {TARGET}",
                "met": ratio <= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
