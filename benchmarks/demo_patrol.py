"""The demo patrol (`yuqing demo`: every source replayed from the recordings, every stage, the embedded store,
alerts) timed against the crawls' own time, with its items and peak memory.

The patrol runs here as `yuqing demo` runs it (`commands.patrol.run_demo_patrol`, its crawls in one child
process); the crawls' own time is each crawler's `elapsed_time_seconds` from its stats. Since the crawls run
at once, the patrol's ceiling is twice the longest of them. Last, `yuqing demo` itself is timed as a person
runs it (Python start-up, config and printing included). Reads nothing outside the repository; writes only
into a temporary folder.

    .venv/bin/python benchmarks/demo_patrol.py [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SUMMARY = re.compile(r"巡查完成：(\d+) 条，用时 ([\d.]+) 秒")
CEILING = 2.0  # patrol wall time over the longest crawl's own time


def megabytes(kilobytes: int) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        for name in [k for k in os.environ if k.startswith(("YUQING_", "ES_"))]:
            del os.environ[name]
        os.environ["YUQING_DATA_DIR"] = data
        from commands.demo import DEMO_NOW, RECORDINGS
        from commands.patrol import run_demo_patrol
        from config.env import get_env
        from config.loader import load_config

        office = load_config()
        recordings = sorted(index.parent for index in RECORDINGS.glob("*/index.json"))
        ratios = []
        for number in range(1, args.runs + 1):
            started = time.perf_counter()
            with open(os.devnull, "w", encoding="utf-8") as quiet, contextlib.redirect_stdout(quiet):
                report, _ = run_demo_patrol(office, get_env(), recordings, now=DEMO_NOW)  # alerts on screen
            wall = time.perf_counter() - started
            if report.failed:
                sys.exit(f"demo failed: {[(r.source, r.health, r.detail) for r in report.failed]}")
            own = [float(run.stats.get("elapsed_time_seconds") or 0.0) for run in report.runs]
            ratio = wall / max(own)
            ratios.append(ratio)
            print(
                f"run {number}: {len(report.runs)} sources, {report.items} items, {report.alerts_raised} alerts; "
                f"patrol {wall:.1f} s wall; crawls' own time: longest {max(own):.1f} s, sum {sum(own):.1f} s; "
                f"wall / longest {ratio:.2f} (ceiling {CEILING:.1f}); peak memory: crawl process "
                f"{megabytes(report.crawl_process_max_rss_kb)}"
            )
        print(
            f"median wall / longest crawl: {statistics.median(ratios):.2f} (ceiling {CEILING:.1f}); "
            f"peak memory of this (the patrol's) process {megabytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}"
        )

        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "commands.cli", "demo"],
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        match = SUMMARY.search(result.stdout)
        if result.returncode or not match:
            sys.exit(f"yuqing demo failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"`yuqing demo`: {match.group(1)} items, command {wall:.1f} s wall (its patrol {match.group(2)} s); "
            f"largest process it ran {megabytes(children)}"
        )


if __name__ == "__main__":
    main()
