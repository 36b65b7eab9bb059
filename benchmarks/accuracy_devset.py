"""Severity, territory and departments measured on the development set in tests/data/devset/.

.venv/bin/python benchmarks/accuracy_devset.py [--holdout] [--show-misses]
Prints per-level precision and recall, exact and within-one accuracy, major↔minor confusions (重大突发事态
read as 一般性事项 or the reverse), territory and department accuracy.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from classifiers.types import Level
from pipeline.context import Context
from pipeline.items import Post, Source
from pipeline.runner import OfflineRunner

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"
NOW = datetime.fromisoformat("2026-12-03T09:00:00+08:00")


def labelled_post(label: dict[str, Any], prefix: str, number: int, at: datetime) -> Post:
    """A labelled line as the post a patrol would have stored: a local site's, published and read at `at`."""
    return Post(
        id=f"{prefix}:{number}",
        source=Source.LOCAL,
        url=f"https://{prefix}.invalid/{number}",
        title=label["title"],
        text=label["text"],
        published_at=at,
        crawled_at=at,
    )


@dataclass
class Figures:
    """Counts over one labelled file; `misses` keeps a line per wrong answer."""

    total: int = 0
    exact: int = 0
    within_one: int = 0
    major_minor: int = 0
    territory: int = 0
    local: int = 0
    department_primary: int = 0
    department_exact: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def precision_recall(self, level: Level) -> tuple[float, float, int]:
        right = self.confusion.get((level.value, level.value), 0)
        predicted = sum(n for (_, got), n in self.confusion.items() if got == level.value)
        labelled = sum(n for (want, _), n in self.confusion.items() if want == level.value)
        return (right / predicted if predicted else 0.0, right / labelled if labelled else 0.0, labelled)


def evaluate(path: Path, context: Context | None = None) -> Figures:
    """Run every labelled post of `path` through the offline pipeline and count what it got right. Each
    post is judged on its own: a fresh runner per post, so the event stage does not merge the set's
    posts about the same kind of incident into one growing event."""
    context = context or Context.load()
    figures = Figures()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        label = json.loads(line)
        post = OfflineRunner(context).run(labelled_post(label, "devset", number, NOW))
        a = post.analysis
        got, want = a.severity.level, Level(label["level"])
        where = f"{path.name}:{number} {label['title'] or label['text'][:30]}"
        figures.total += 1
        key = (want.value, got.value)
        figures.confusion[key] = figures.confusion.get(key, 0) + 1
        if got is want:
            figures.exact += 1
        else:
            figures.misses.append(f"级别 {where}: 标{want.value} 判{got.value} | {a.severity.reasons[0]}")
        if abs(got.rank - want.rank) <= 1:
            figures.within_one += 1
        if {got, want} == {Level.GENERAL, Level.MAJOR_EMERGENCY}:
            figures.major_minor += 1
        counties = list(a.territory.counties)
        if counties == label["counties"]:
            figures.territory += 1
        else:
            figures.misses.append(f"属地 {where}: 标{label['counties']} 判{counties}")
        if (a.territory.city is not None) == label["local"]:
            figures.local += 1
        want_depts = label["departments"]
        if (want_depts[:1] == a.departments[:1]) if want_depts else not a.departments:
            figures.department_primary += 1
        else:
            figures.misses.append(f"部门 {where}: 标{want_depts} 判{a.departments}")
        if set(want_depts) == set(a.departments):
            figures.department_exact += 1
    return figures


def report(name: str, f: Figures) -> None:
    print(f"== {name}: {f.total} 条")
    for level in Level:
        precision, recall, n = f.precision_recall(level)
        print(f"  {level.value:<8} 精确率 {precision:6.1%}  召回率 {recall:6.1%}  ({n} 条)")
    print(f"  级别完全一致   {f.exact / f.total:6.1%}  ({f.exact}/{f.total})")
    print(f"  相差不超过一级 {f.within_one / f.total:6.1%}  ({f.within_one}/{f.total})")
    print(f"  重大与一般互判 {f.major_minor} 条")
    print(f"  属地（县区一致）{f.territory / f.total:6.1%}  本市与否 {f.local / f.total:6.1%}")
    print(
        f"  主责部门       {f.department_primary / f.total:6.1%}  部门集合一致 {f.department_exact / f.total:6.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdout", action="store_true", help="也跑留出集（调试时不要看）")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    context = Context.load()
    names = ["dev.jsonl"] + (["holdout.jsonl"] if args.holdout else [])
    for name in names:
        figures = evaluate(DEVSET / name, context)
        report(name, figures)
        if args.show_misses:
            for miss in figures.misses:
                print("    " + miss)


if __name__ == "__main__":
    main()
