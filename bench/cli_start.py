"""Benchmark: how fast the ``docketwatch`` command starts.

What it measures: the median wall time of ``docketwatch --help``, and of ``docketwatch clients
list`` on an empty, initialized SQLite database, each a fresh process as a person runs it. The
reference, measured in the same run and interleaved with them: ``python -c "import typer, rich"``,
the floor below which no Typer and rich command line can start. Target: both within 1.5x the
floor.

Usage: python bench/cli_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).with_name("docketwatch"))
TARGET = 1.5


def _time(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dw-cli-start-") as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
        env["DATABASE_URL"] = f"sqlite:///{folder / 'dw.db'}"
        subprocess.run([EXE, "init"], cwd=folder, env=env, check=True, capture_output=True)
        commands = {
            "reference": [sys.executable, "-c", "import typer, rich"],
            "help": [EXE, "--help"],
            "clients_list": [EXE, "clients", "list"],
        }
        for command in commands.values():  # warm the page cache and the bytecode
            _time(command, folder, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(_time(command, folder, env))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, value in median.items():
        print(f"{name:>13}: median {value * 1000:7.1f} ms over {args.runs} runs")
    ratios = {name: median[name] / median["reference"] for name in ("help", "clients_list")}
    for name, ratio in ratios.items():
        print(f"{name:>13}: {ratio:.2f}x the floor (target {TARGET}x)")
    print(
        json.dumps(
            {
                "bench": "cli_start",
                "runs": args.runs,
                "help_s": round(median["help"], 4),
                "clients_list_s": round(median["clients_list"], 4),
                "reference_s": round(median["reference"], 4),
                "reference": 'python -c "import typer, rich"',
                "help_ratio": round(ratios["help"], 2),
                "clients_list_ratio": round(ratios["clients_list"], 2),
                "ratio": round(max(ratios.values()), 2),
                "target": TARGET,
                "met": max(ratios.values()) <= TARGET,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
