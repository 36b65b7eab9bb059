"""How often `yuqing extract` reads a page's title, time and body start right, on labelled pages.

Each label names a saved page (a file under --pages), its original address, its kind of site, and what a
person reading the page found: the headline, the publication time (to the minute; to the day where the page
prints only the day) and the first words of the body. A field is right when:

- title: the same characters, spaces aside;
- time: the same minute (the same day for a label that has only a day);
- body: the text read begins with the labelled words, spaces aside.

    .venv/bin/python benchmarks/extract_accuracy.py --labels LABELS.yaml --pages DIR [--show-misses]
    .venv/bin/python benchmarks/extract_accuracy.py --labels benchmarks/data/extract_real_labels.yaml --mirrors DIR

With --mirrors, a label's `source` (repo, commit, path) is read from a clone of that repository under DIR
(`DIR/<owner>+<name>` or `DIR/<owner>+<name>/repo`, bare or not) with `git show commit:path`. Labels marked
`tuned_on` were looked at while the reader was written; the figures are given for the others apart.

Run from another checkout's folder (`cd OLD && python /path/to/benchmarks/extract_accuracy.py …`) it measures
that checkout's extractor: the "before" figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path.cwd()))

from corpus import mirror_object

from spiders.parsing.extract import ExtractError, extract

SHANGHAI_OFFSET = "+08:00"


def _compact(text: str | None) -> str:
    return "".join((text or "").split())


def _expected_time(label: str) -> tuple[datetime, bool]:
    """The labelled moment and whether it has a clock."""
    text = str(label).strip()
    if len(text) == 10:
        return datetime.fromisoformat(f"{text}T00:00:00{SHANGHAI_OFFSET}"), False
    return datetime.fromisoformat(f"{text.replace(' ', 'T')}:00{SHANGHAI_OFFSET}"[:25]), True


def page_bytes(label: dict, pages: Path | None, mirrors: Path | None) -> bytes:
    source = label.get("source")
    if mirrors is not None and source:
        return mirror_object(mirrors, source["repo"], f"{source['commit']}:{source['path']}")
    assert pages is not None, "--pages 或 --mirrors"
    return (pages / label["file"]).read_bytes()


def judge(label: dict, raw: bytes) -> dict[str, object]:
    try:
        result = extract(raw, label.get("url"))
    except ExtractError as exc:
        return {"title": False, "time": False, "body": False, "got": f"错误：{exc}"}
    got = result.published_at
    if label.get("time") is None:  # the page prints no time: not counted for time
        time_right: bool | None = None
    elif got is None:
        time_right = False
    else:
        expected, has_clock = _expected_time(label["time"])
        if has_clock:
            time_right = got.replace(second=0, microsecond=0) == expected
        else:
            time_right = got.date() == expected.date()
    return {
        "title": _compact(result.title) == _compact(label["title"]),
        "time": time_right,
        "body": _compact(result.text).startswith(_compact(label["body_start"])),
        "got": {
            "title": result.title,
            "time": got.isoformat() if got else None,
            "body": result.text[:40],
            "how": getattr(result, "how", {}),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--pages", type=Path)
    parser.add_argument("--mirrors", type=Path)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    labels = yaml.safe_load(args.labels.read_text(encoding="utf-8"))["pages"]
    totals: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    by_seen: dict[str, Counter[str]] = defaultdict(Counter)
    misses = []
    started = time.perf_counter()
    for label in labels:
        verdict = judge(label, page_bytes(label, args.pages, args.mirrors))
        kind = label.get("kind", "?")
        seen = "tuned" if label.get("tuned_on") else "unseen"
        for key in ("title", "time", "body"):
            by_seen[seen][key] += bool(verdict[key])
            by_seen[seen][f"{key}_pages"] += verdict[key] is not None
        by_seen[seen]["pages"] += 1
        by_kind[kind]["pages"] += 1
        totals["pages"] += 1
        for key in ("title", "time", "body"):
            for counts in (totals, by_kind[kind]):
                counts[key] += bool(verdict[key])
                counts[f"{key}_pages"] += verdict[key] is not None
        if not all(verdict[key] is not False for key in ("title", "time", "body")):
            misses.append((label, verdict))
    seconds = time.perf_counter() - started
    n = totals["pages"]
    print(f"{n} 页，{seconds:.1f} 秒（每页 {seconds / max(n, 1) * 1000:.0f} 毫秒）")
    print(f"{'类别':<14}{'页数':>6}{'标题':>10}{'时间':>10}{'正文开头':>10}")
    for kind, counts in sorted(by_kind.items()):
        pages = counts["pages"]
        cells = "".join(
            f"{counts[key] / max(counts[key + '_pages'], 1):>10.0%}" for key in ("title", "time", "body")
        )
        print(f"{kind:<14}{pages:>6}{cells}")
    cells = "".join(
        f"{totals[key] / max(totals[key + '_pages'], 1):>10.0%}" for key in ("title", "time", "body")
    )
    print(f"{'合计':<14}{n:>6}{cells}")
    print(
        "  " + "，".join(f"{key} {totals[key]}/{totals[key + '_pages']}" for key in ("title", "time", "body"))
    )
    for seen, label in (("unseen", "写读法时没看过的页"), ("tuned", "写读法时看过的页")):
        counts = by_seen.get(seen)
        if counts:
            cells = "，".join(
                f"{key} {counts[key]}/{counts[key + '_pages']}" for key in ("title", "time", "body")
            )
            print(f"  {label}：{cells}")
    if args.show_misses:
        for label, verdict in misses:
            wrong = [key for key in ("title", "time", "body") if verdict[key] is False]
            print(f"\n✗ {label['file']}（{'、'.join(wrong)}）")
            print(f"  应为：{label['title']} | {label['time']} | {label['body_start']}")
            print(f"  读出：{verdict['got']}")


if __name__ == "__main__":
    main()
