"""Crawl throughput per source (pages/s against the replay server, from each crawler's own stats) and alert
latency (from the alert being raised, right after its post is stored, to its delivery acknowledged: p50
and p95), from one demo patrol, with the patrol's wall time and peak memory.

Latencies need a clock that runs, so the clock starts at the recordings' moment and runs in real seconds.
On the plain wall clock the recorded posts are days old: most fall outside each source's `max_age_hours`
window and are never read, which is why a wall-clock demo yields far fewer items (10 of 253 on 2026-12-02).
Even on the running clock 人民网 (`people_news`) finds nothing: its requests carry the moment they are made
(the rolling list's `_=<ms>` and the search window in ms, as the site's own page sends them), and the
recordings answer only the requests made at 09:00:00 exactly, so the other moments get 404. Its 8 items
are the whole difference from `benchmarks/demo_patrol.py`. Reads nothing outside the repository.

    .venv/bin/python benchmarks/patrol_figures.py
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        for name in [k for k in os.environ if k.startswith(("YUQING_", "ES_"))]:
            del os.environ[name]
        os.environ["YUQING_DATA_DIR"] = data
        from commands.demo import DEMO_NOW, RECORDINGS
        from commands.patrol import run_demo_patrol
        from config.env import get_env
        from config.loader import load_config
        from pipeline import clock

        clock.set_patrol_time(clock.parse(DEMO_NOW), running=True)
        recordings = sorted(index.parent for index in RECORDINGS.glob("*/index.json"))
        started = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as quiet, contextlib.redirect_stdout(quiet):
            report, _ = run_demo_patrol(
                load_config(), get_env(), recordings, now=DEMO_NOW
            )  # alerts on screen
        wall = time.perf_counter() - started
        if report.failed:
            sys.exit(f"demo failed: {[(r.source, r.health, r.detail) for r in report.failed]}")

        print(f"{'source':<18} {'pages':>6} {'items':>6} {'seconds':>8} {'pages/s':>8}")
        own = []
        for run in report.runs:
            pages = run.stat("downloader/response_count")
            seconds = float(run.stats.get("elapsed_time_seconds") or 0.0)
            own.append(seconds)
            rate = pages / seconds if seconds else 0.0
            print(f"{run.source:<18} {pages:>6} {run.items:>6} {seconds:>8.1f} {rate:>8.1f}")
        pages_total = sum(run.stat("downloader/response_count") for run in report.runs)
        print(
            f"{'all (at once)':<18} {pages_total:>6} {report.items:>6} {wall:>8.1f} {pages_total / wall:>8.1f}"
        )
        print(
            f"patrol {wall:.1f} s wall; crawls' own time: longest {max(own):.1f} s, sum {sum(own):.1f} s; "
            f"peak memory: patrol process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
            f"crawl process {report.crawl_process_max_rss_kb / 1024:.0f} MB"
        )

        db = sqlite3.connect(get_env().demo_dir / "alerts.sqlite3")
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
