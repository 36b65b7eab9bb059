"""`yuqing analyze` and `route` keep a run's events in memory, indexed: the posts must join exactly the
events, and reach exactly the levels, that the SQLite event store gives them. And analysing never loads
Scrapy, which would double the command's start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from classifiers.events import EventMatcher, Signature, simhash
from config.env import Env
from config.loader import load_config
from pipeline.context import Context
from pipeline.events import EventStore, MemoryEventStore
from pipeline.items import Counts, Post, Source
from pipeline.runner import OfflineRunner
from pipeline.stages.event import EventStage

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def posts() -> list[Post]:
    """The labelled posts, each also as a copy under another id (a repost, a copied article), some a day
    or four days later, one crawled twice with grown counts."""
    labelled = [
        json.loads(line) for line in (ROOT / "tests/data/analysis/labelled.jsonl").open(encoding="utf-8")
    ]
    out: list[Post] = []
    for i, item in enumerate(labelled):
        original = Post(
            id=f"tieba:{i}",
            source=Source.TIEBA,
            url=f"https://example.invalid/{i}",
            title=item.get("title"),
            text=item["text"],
            published_at=NOW - timedelta(hours=i),
            crawled_at=NOW,
            counts=Counts(comments=20 * i),
        )
        out.append(original)
        later = timedelta(days=4 if i % 5 == 0 else 1)
        out.append(
            replace(
                original,
                id=f"sina:{i}",
                source=Source.SINA,
                media="大河报",
                text=f"{item['text']}（来源：大河报）",
                published_at=NOW + later,
                crawled_at=NOW + later,
                counts=Counts(reposts=3 * i),
            )
        )
    out.append(replace(out[2], counts=Counts(comments=5000)))
    return out


def judged(store: EventStore | MemoryEventStore, matcher: EventMatcher) -> list[tuple]:
    context = Context(office=load_config(), env=Env(ES_URL=None), now=lambda: NOW + timedelta(days=5))
    earlier = [
        s for s in OfflineRunner(context).stages if s.name in ("clean", "tokenise", "classify", "locate")
    ]
    event = EventStage(context, store, matcher)
    out = []
    for post in posts():
        for stage in earlier:
            post = stage(replace(post, analysis=replace(post.analysis)))
        post = event(post)
        a = post.analysis
        out.append((post.id, a.event_id, a.severity, a.event))
    return out


def test_a_run_in_memory_joins_and_judges_as_the_event_store_does() -> None:
    matcher = EventMatcher()
    in_memory = judged(MemoryEventStore(matcher), matcher)
    assert in_memory == judged(EventStore(None), matcher)
    assert sum(event_id != f"event:{post_id}" for post_id, event_id, *_ in in_memory) >= 20  # copies joined
    assert any("近似重复" in reason for *_, severity, _ in in_memory for reason in severity.reasons)


class FewRecent(EventStore):
    """The event store comparing a post with its 3 latest neighbours only, as with 5,000 in a busy week."""

    def candidates(self, signature: Signature, window: timedelta) -> list[Signature]:
        return self.recent(signature.published_at, window, limit=3)


def test_in_memory_a_post_is_compared_with_the_same_latest_posts_only() -> None:
    matcher = EventMatcher()
    limited = judged(MemoryEventStore(matcher, limit=3), matcher)
    assert limited == judged(FewRecent(None), matcher)
    assert limited != judged(MemoryEventStore(matcher), matcher)


def test_the_fingerprint_is_the_weighted_majority_of_the_word_hashes() -> None:
    # Fingerprints are kept in the office's event file: one computed differently would no longer match them.
    import hashlib

    def by_definition(words: list[str]) -> int:
        weights = [0] * 64
        for word in {w for w in words if len(w) > 1}:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
            for bit in range(64):
                weights[bit] += words.count(word) if h >> bit & 1 else -words.count(word)
        return sum(1 << bit for bit in range(64) if weights[bit] > 0)

    for words in (
        [],
        ["濮阳县"],
        ["濮阳县", "柳屯镇", "化工厂", "偷排", "废水", "废水", "的", "村民", "投诉"],
        ["氯气", "泄漏"] * 50 + ["疏散"] * 7,
        # Around the most words the narrow counters hold (255), and far beyond it.
        ["氯气", "泄漏", "疏散"] * 85,
        ["氯气", "泄漏", "疏散"] * 85 + ["撤离"],
        [f"村民{i}" for i in range(300)] + ["泄漏"] * 2000,
    ):
        assert simhash(words) == by_definition(words)


def test_analysing_does_not_load_scrapy() -> None:
    script = (
        "import sys\n"
        "from commands.cli import analyze_lines\n"
        "from pipeline.context import Context\n"
        "from pipeline.runner import OfflineRunner\n"
        "runner = OfflineRunner(Context.load())\n"
        "print([s.name for s in runner.stages], 'scrapy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.split() == [
        "['clean',",
        "'tokenise',",
        "'classify',",
        "'locate',",
        "'event',",
        "'route']",
        "False",
    ]
