"""Benchmark: how well the federal docket rules read real entries, per kind.

What it measures: over the labelled real entries in tests/fixtures/federal_dockets/entries.json
(or --file), for each kind the rules can give: how many entries a person labelled with it
(``labelled``), how many of those the rules found (``found``) and missed (``missed``), and how
many entries the rules gave it that a person did not (``wrong``); then the entries whose whole
set of kinds is exactly the label's.
Reference, same run: a bare keyword reading (the kind when its key words appear anywhere in the
entry: "show cause", "restraining order", "stay", "judgment", "hearing", "closed"), which is what
the table improves on: it reads a response to an order as an order, a motion as its decision.
Also the entries read per second by each. Target: the rules read at least 95% of the entries
exactly as labelled, and never fewer than the reference.

Caveat, said plainly: the rules were written while reading these entries; a kind with few
entries here (see its ``labelled``) is measured on few.

Usage: python bench/federal_dockets_rules.py [--file FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.federal_dockets import KINDS, PLAIN, classify  # noqa: E402

TARGET = 0.95
KEYWORDS = {
    "federal_order_to_show_cause": r"show\s+cause",
    "federal_tro_decided": r"restraining\s+order|\bTRO\b",
    "federal_stay_decided": r"\bstay",
    "federal_habeas_decided": r"judgment",
    "federal_hearing_set": r"hearing|oral\s+argument",
    "federal_case_closed": r"closed|terminated|JS-6",
}


def keyword_reading(text: str) -> list[str]:
    return [k for k, p in KEYWORDS.items() if re.search(p, text, re.IGNORECASE)]


def rules_reading(text: str) -> list[str]:
    return [k for k in classify(text) if k != PLAIN]


def score(entries: list[dict[str, object]], read: object) -> tuple[dict[str, dict[str, int]], int]:
    table = {k: {"labelled": 0, "found": 0, "missed": 0, "wrong": 0} for k in KINDS}
    exact = 0
    for entry in entries:
        want = set(entry["kinds"])  # type: ignore[call-overload]
        got = set(read(entry["description"]))  # type: ignore[operator]
        exact += want == got
        for kind in KINDS:
            row = table[kind]
            row["labelled"] += kind in want
            row["found"] += kind in want and kind in got
            row["missed"] += kind in want and kind not in got
            row["wrong"] += kind in got and kind not in want
    return table, exact


def speed(entries: list[dict[str, object]], read: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for entry in entries:
            read(entry["description"])  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return len(entries) / best if best > 0 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--file", type=Path, default=ROOT / "tests/fixtures/federal_dockets/entries.json"
    )
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    entries = json.loads(args.file.read_text())
    rules, rules_exact = score(entries, rules_reading)
    keywords, keywords_exact = score(entries, keyword_reading)
    print(f"{len(entries)} real entries ({args.file.name})")
    head = f"{'kind':<30} {'labelled':>8} {'found':>6} {'missed':>6} {'wrong':>6}"
    print(f"{head}   reference: found missed wrong")
    for kind in KINDS:
        r, k = rules[kind], keywords[kind]
        print(
            f"{kind:<30} {r['labelled']:>8} {r['found']:>6} {r['missed']:>6} {r['wrong']:>6}"
            f"   {k['found']:>17} {k['missed']:>6} {k['wrong']:>5}"
        )
    share = rules_exact / len(entries)
    reference = keywords_exact / len(entries)
    rules_rate = speed(entries, rules_reading, args.repeat)
    keyword_rate = speed(entries, keyword_reading, args.repeat)
    print(
        f"exactly as labelled: rules {rules_exact}/{len(entries)} ({share:.1%}); "
        f"reference (keywords) {keywords_exact}/{len(entries)} ({reference:.1%})"
    )
    print(f"entries read per second: rules {rules_rate:,.0f}; reference {keyword_rate:,.0f}")
    met = share >= TARGET and share >= reference
    print(
        json.dumps(
            {
                "bench": "federal_dockets_rules",
                "entries": len(entries),
                "exact": rules_exact,
                "share": round(share, 4),
                "reference": round(reference, 4),
                "ratio": round(share / reference, 3) if reference else None,
                "per_kind": rules,
                "entries_per_s": round(rules_rate),
                "reference_entries_per_s": round(keyword_rate),
                "target": TARGET,
                "met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
