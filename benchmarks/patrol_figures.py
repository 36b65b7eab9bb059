"""Crawl throughput per source (pages/s against the replay server) and alert latency (from the alert being
raised, right after its post is stored, to its delivery acknowledged: p50 and p95), from one real-clock
`yuqing demo` run.

    .venv/bin/python benchmarks/patrol_figures.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        # An empty YUQING_NOW runs the demo on the wall clock, so the latencies are real seconds.
        env = {**os.environ, "YUQING_DATA_DIR": data, "YUQING_NOW": "", "COLUMNS": "200"}
        result = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            sys.exit(f"demo failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        print(f"{'source':<18} {'pages':>6} {'items':>6} {'seconds':>8} {'pages/s':>8}")
        pages_total = seconds_total = 0.0
        for path in sorted((Path(data) / "demo" / "runs").glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            stats = record["stats"]
            pages = stats.get("downloader/response_count", 0)
            seconds = stats.get("elapsed_time_seconds", 0.0)
            pages_total += pages
            seconds_total += seconds
            rate = pages / seconds if seconds else 0.0
            items = stats.get("item_scraped_count", 0)
            print(f"{record['source']:<18} {pages:>6} {items:>6} {seconds:>8.1f} {rate:>8.1f}")
        print(
            f"{'all (sequential)':<18} {int(pages_total):>6} {'':>6} {seconds_total:>8.1f} {pages_total / seconds_total:>8.1f}"
        )

        db = sqlite3.connect(Path(data) / "demo" / "alerts.sqlite3")
        rows = db.execute(
            "SELECT a.created_at, d.sent_at FROM deliveries d JOIN alerts a ON a.key = d.alert_key "
            "WHERE d.status = 'sent' AND d.sent_at IS NOT NULL"
        ).fetchall()
        latencies = [
            (datetime.fromisoformat(sent) - datetime.fromisoformat(created)).total_seconds()
            for created, sent in rows
        ]
        if latencies:
            print(
                f"alert latency over {len(latencies)} deliveries: p50 {percentile(latencies, 0.5):.1f} s, "
                f"p95 {percentile(latencies, 0.95):.1f} s, mean {statistics.mean(latencies):.1f} s"
            )
        else:
            print("no deliveries recorded")


if __name__ == "__main__":
    main()
