"""Benchmark: how fast hearing changes are caught under the polling budget.

What it simulates: --clients clients (default 5,000) over --days days (default 60), hour by hour,
with a budget of --per-day browser lookups a day (default 2,000) spent only within the browser
hours (7-21, so 2,000 / 14 an hour). Each client's next hearing is rescheduled at a realistic
rate (about once every 45 days, to a date 20 days earlier to 60 days later, never before
tomorrow), and a new hearing is set 30 to 150 days out once one is held. docketwatch only knows
what its last lookup of a client showed, and plans from that.

It measures the delay from each change to the lookup that sees it, for changes to hearings that
were within 7 days when they changed: median and 95th percentile, under the urgency plan
(``monitor.planner.choose``, the service's own code) and, in the same run, under plain
round-robin with the same budget (the reference). Target: the plan's p95 at most 24 h and at most
half of round-robin's.

Usage: python bench/polling_budget.py [--clients N] [--days D] [--per-day B] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.planner import ClientState, choose  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)  # hours are simulated in UTC; 7-21 stands for local
HOURS = range(7, 21)


@dataclass
class Sim:
    true_hearing: list[date]
    pending: list[list[tuple[datetime, bool]]]  # per client: (change time, was within 7 days)
    delays: list[float] = field(default_factory=list)  # hours, for changes within 7 days
    lookups: int = 0


def simulate(n: int, days: int, per_day: int, seed: int, strategy: str) -> Sim:
    rng = random.Random(seed)  # the same world for both strategies
    hearings = [START.date() + timedelta(days=rng.randint(1, 180)) for _ in range(n)]
    sim = Sim(list(hearings), [[] for _ in range(n)])
    states = [
        ClientState(
            client_id=i,
            last_checked=START - timedelta(hours=rng.uniform(0, 24 * 7)),
            next_hearing=hearings[i],
        )
        for i in range(n)
    ]
    per_hour = per_day // len(HOURS)
    extra = per_day - per_hour * len(HOURS)
    pointer = 0
    picker: Callable[[datetime, int], list[int]]

    def plan_pick(now: datetime, slots: int) -> list[int]:
        return [p.state.client_id for p in choose(states, now, now.date(), slots)]

    def rr_pick(now: datetime, slots: int) -> list[int]:
        nonlocal pointer
        picked = [(pointer + k) % n for k in range(slots)]
        pointer = (pointer + slots) % n
        return picked

    picker = plan_pick if strategy == "plan" else rr_pick
    for hour in range(days * 24):
        now = START + timedelta(hours=hour)
        if now.hour == 0:
            today = now.date()
            for i in range(n):
                # A hearing held yesterday: a new one is set (a change docketwatch should see).
                if sim.true_hearing[i] < today:
                    within = True
                    sim.true_hearing[i] = today + timedelta(days=rng.randint(30, 150))
                    sim.pending[i].append((now, within))
                elif rng.random() < 1 / 45:
                    at = now + timedelta(hours=rng.uniform(0, 24))
                    within = (sim.true_hearing[i] - today).days <= 7
                    moved = sim.true_hearing[i] + timedelta(days=rng.randint(-20, 60))
                    sim.true_hearing[i] = max(moved, today + timedelta(days=1))
                    sim.pending[i].append((at, within))
        if now.hour not in HOURS:
            continue
        slots = per_hour + (1 if now.hour - HOURS.start < extra else 0)
        for i in picker(now, slots):
            sim.lookups += 1
            kept = []
            for at, within in sim.pending[i]:
                if at <= now:
                    if within:
                        sim.delays.append((now - at).total_seconds() / 3600)
                else:
                    kept.append((at, within))
            sim.pending[i] = kept
            states[i].last_checked = now
            states[i].next_hearing = sim.true_hearing[i]
            states[i].requested_at = None
    return sim


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for strategy in ("plan", "round_robin"):
        t0 = time.perf_counter()
        sim = simulate(args.clients, args.days, args.per_day, args.seed, strategy)
        results[strategy] = {
            "changes": len(sim.delays),
            "median_h": round(statistics.median(sim.delays), 1) if sim.delays else None,
            "p95_h": round(pct(sim.delays, 0.95), 1),
            "lookups": sim.lookups,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        r = results[strategy]
        print(
            f"{strategy:12s}: {r['changes']} changes to hearings within 7 days; delay median "
            f"{r['median_h']} h, p95 {r['p95_h']} h; {r['lookups']} lookups "
            f"({r['seconds']} s to simulate)"
        )
    plan, rr = results["plan"], results["round_robin"]
    ratio = plan["p95_h"] / rr["p95_h"]
    met = plan["p95_h"] <= 24 and ratio <= 0.5
    print(
        f"urgency plan p95 {plan['p95_h']} h vs round-robin {rr['p95_h']} h: ratio {ratio:.2f} "
        f"(target: p95 <= 24 h and ratio <= 0.5) -> {'met' if met else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "bench": "polling_budget",
                "clients": args.clients,
                "days": args.days,
                "per_day": args.per_day,
                "plan": plan,
                "reference": "round-robin, same budget and hours",
                "round_robin": rr,
                "ratio": round(ratio, 2),
                "target": "plan p95 <= 24 h and <= 0.5 x round-robin p95",
                "met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
