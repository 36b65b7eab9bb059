"""Items per second of a whole patrol (`yuqing demo`: crawl processes, every stage, store, alerts) against
the replay server, on the embedded store or on Elasticsearch when ES_URL is set.

    .venv/bin/python benchmarks/demo_patrol.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"巡查完成：(\d+) 条，用时 ([\d.]+) 秒")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates, walls = [], []
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "YUQING_DATA_DIR": data, "COLUMNS": "200"}
        for run in range(args.runs):
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "pipeline.cli", "demo"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - started
            match = SUMMARY.search(result.stdout)
            if result.returncode or not match:
                sys.exit(f"demo failed:\n{result.stdout}\n{result.stderr}")
            items, seconds = int(match.group(1)), float(match.group(2))
            rates.append(items / seconds)
            walls.append(wall)
            print(
                f"run {run + 1}: {items} items, patrol {seconds:.1f} s ({items / seconds:.1f} items/s), command {wall:.1f} s"
            )
    print(
        f"median: {statistics.median(rates):.1f} items/s over the patrol, {statistics.median(walls):.1f} s per `yuqing demo`"
    )


if __name__ == "__main__":
    main()
