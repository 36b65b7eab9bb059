"""Accuracy of each analysis component on the hand-labelled posts in tests/data/analysis/.

.venv/bin/python benchmarks/accuracy.py [--show-misses]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from classifiers.types import Level
from pipeline.context import Context
from pipeline.items import Post, Source
from pipeline.runner import OfflineRunner

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "analysis" / "labelled.jsonl"
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def score() -> dict[str, list[tuple[bool, str]]]:
    runner = OfflineRunner(Context.load())
    results: dict[str, list[tuple[bool, str]]] = {
        "territory (counties exact)": [],
        "local or not": [],
        "departments (exact)": [],
        "severity level (exact)": [],
        "severity level (within one)": [],
        "spam": [],
    }
    for number, line in enumerate(LABELLED.read_text(encoding="utf-8").splitlines(), start=1):
        label = json.loads(line)
        post = runner.run(
            Post(
                id=f"label:{number}",
                source=Source.LOCAL,
                url=f"https://label.invalid/{number}",
                title=label["title"],
                text=label["text"],
                published_at=NOW,
                crawled_at=NOW,
            )
        )
        a = post.analysis
        got_level = a.severity.level
        want_level = Level(label["level"])
        where = f"line {number} {label['title']}"
        results["territory (counties exact)"].append(
            (list(a.territory.counties) == label["counties"], f"{where}: {list(a.territory.counties)}")
        )
        results["local or not"].append(
            ((a.territory.city is not None) == label["local"], f"{where}: {a.territory.city}")
        )
        results["departments (exact)"].append(
            # A set: the order of the departments found says which is the most specific, not the label's.
            (set(a.departments) == set(label["departments"]), f"{where}: {a.departments}")
        )
        results["severity level (exact)"].append((got_level is want_level, f"{where}: {got_level.value}"))
        results["severity level (within one)"].append(
            (abs(got_level.rank - want_level.rank) <= 1, f"{where}: {got_level.value}")
        )
        results["spam"].append((a.spam == label["spam"], f"{where}: {a.spam}"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    for component, outcomes in score().items():
        right = sum(ok for ok, _ in outcomes)
        print(f"{component:<30} {right:3d}/{len(outcomes)}  {right / len(outcomes):.0%}")
        if args.show_misses:
            for ok, detail in outcomes:
                if not ok:
                    print(f"    miss {detail}")


if __name__ == "__main__":
    main()
