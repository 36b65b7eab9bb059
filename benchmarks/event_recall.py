"""How well the event stage joins edited reposts to the post they copy, and how often it joins different posts.

Originals: the recorded 微博 posts and the hand-written posts of tests/data (benchmarks/corpus.py) of at
least 30 characters, but for the development set of tests/data/devset (posts written from templates). Each is given to the offline stages in time order, then an edited copy of each, an hour
later, as people repost:
- light: punctuation in the other width, an emoticon added, a 【转】 or #话题# prefix;
- heavy: a 转发微博//@user: chain before it, or cut to 70–90% with …, or two characters changed and a short
  comment after it.
Recall is the share of copies in their original's event once all posts are in. Merges are originals in an
event with another original (a copy may bridge two): an upper bound on wrong merges, as some recorded posts
do report the same incident (`--show` prints them to read).

    .venv/bin/python benchmarks/event_recall.py [--show 10]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from datetime import datetime, timedelta

from corpus import ROOT, weibo_posts

from pipeline.context import Context
from pipeline.items import Post, post_from_dict
from pipeline.runner import OfflineRunner

START = datetime.fromisoformat("2026-11-20T08:00:00+08:00")
WIDTH = str.maketrans("，。！？：；（）", ",.!?:;()")
EMOTICONS = ["[怒]", "[哈哈]", "[doge]", "[允悲]", "[泪]"]
COMMENTS = ["太过分了", "关注", "有没有人管管", "转发扩散", "真的假的"]


def light(text: str, rng: random.Random) -> str:
    edited = text.translate(WIDTH)
    edited += rng.choice(EMOTICONS)
    return rng.choice(["【转】", "#濮阳身边事#", ""]) + edited


def heavy(text: str, rng: random.Random) -> str:
    edited = light(text, rng)
    kind = rng.randrange(3)
    if kind == 0:
        return f"转发微博//@{rng.choice(['小王', '濮阳热线', 'xy_2026'])}:{edited}"
    if kind == 1:
        return edited[: max(10, int(len(edited) * rng.uniform(0.7, 0.9)))] + "…"
    chars = list(edited)
    for _ in range(2):
        at = rng.randrange(len(chars))
        if "\u4e00" <= chars[at] <= "\u9fff":
            chars[at] = rng.choice("的了是在有")
    return "".join(chars) + f" {rng.choice(COMMENTS)}"


def post(text: str, at: datetime, number: int) -> Post:
    return post_from_dict(
        {"text": text, "published_at": at.isoformat()},
        stand_in_id=f"r:{number}",
        stand_in_url=f"https://r.invalid/{number}",
        now=at,
    )


def run(originals: list[str], edit: str, seed: int = 5) -> tuple[float, list[tuple[str, str]], float]:
    """Recall of the copies, the originals merged (with an original of the event they ended in), seconds per
    post. Both are read from the events as the run leaves them: a copy that matches its original and another
    event joins the two, and then both posts are in the one event, under its first post's name."""
    rng = random.Random(seed)
    runner = OfflineRunner(Context.load())
    events = next(stage for stage in runner.stages if stage.name == "event").store
    edits = {"light": light, "heavy": heavy}[edit]
    started = time.process_time()
    ids = []
    for number, text in enumerate(originals):
        ids.append(runner.run(post(text, START + timedelta(minutes=number), number)).id)
    copies = []
    for number, text in enumerate(originals):
        at = START + timedelta(hours=1, minutes=number)
        copies.append(runner.run(post(edits(text, rng), at, len(originals) + number)).id)
    seconds = (time.process_time() - started) / (2 * len(originals))
    joined = sum(
        events.event_of(copy) == events.event_of(original) for original, copy in zip(ids, copies, strict=True)
    )
    first_of_event: dict[str, int] = {}
    merged: list[tuple[str, str]] = []
    for number, original in enumerate(ids):
        event = events.event_of(original) or ""
        if event in first_of_event:
            merged.append((originals[number], originals[first_of_event[event]]))
        else:
            first_of_event[event] = number
    return joined / len(originals), merged, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="print this many merged originals")
    args = parser.parse_args()
    # Not the development set: its posts are written from templates, one incident in many counties' words,
    # which would read as merges here.
    devset = ROOT / "tests" / "data" / "devset"
    written = {
        json.loads(line)["text"] for path in devset.glob("*.jsonl") for line in path.open(encoding="utf-8")
    }
    originals = [t for t in weibo_posts() if len(t) >= 30 and t not in written]
    print(f"{len(originals)} originals of 30 characters or more, one edited copy each")
    by_edit: dict[str, tuple[float, list[tuple[str, str]], float]] = {}
    for edit in ("light", "heavy"):
        by_edit[edit] = run(originals, edit)
        recall, merged, seconds = by_edit[edit]
        print(f"{edit:>5}: recall {recall:.1%}  ({seconds * 1e6:.0f} µs of CPU per post through every stage)")
    for edit, (_recall, merged, _seconds) in by_edit.items():
        print(
            f"{edit:>5}: originals merged into another original's event: {len(merged)} of {len(originals)} "
            f"({len(merged) / len(originals):.1%}; an upper bound, read them with --show)"
        )
    merged = by_edit["light"][1]
    groups: dict[str, list[str]] = defaultdict(list)
    for text, first in merged[: args.show]:
        groups[first].append(text)
    for first, texts in groups.items():
        print(f"\n  {first[:80]}")
        for text in texts:
            print(f"  + {text[:80]}")


if __name__ == "__main__":
    main()
