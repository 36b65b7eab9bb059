"""Throughput of the analysis path (`yuqing analyze` stages) beside jieba tokenisation alone.

Posts are the paragraphs of the seed policy documents and the recorded demo articles. Prints posts/s and
MB/s for: jieba alone, the offline stages together, and each stage on its own.

    .venv/bin/python benchmarks/analyze.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import jieba

from pipeline.context import Context
from pipeline.items import Post, Source
from pipeline.runner import OfflineRunner

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def corpus() -> list[str]:
    texts: list[str] = []
    for seed in sorted((ROOT.parent / "shared" / "seeds").glob("*.txt")):
        texts.extend(p.strip() for p in seed.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 20)
    for recording in sorted((ROOT / "tests" / "fixtures").glob("*/*.html")):
        html = recording.read_bytes().decode("utf-8", "ignore")
        texts.append(html[:4000])
    return texts


def posts(texts: list[str]) -> list[Post]:
    return [
        Post(
            id=f"bench:{i}",
            source=Source.LOCAL,
            url=f"https://bench.invalid/{i}",
            text=t,
            published_at=NOW,
            crawled_at=NOW,
        )
        for i, t in enumerate(texts)
    ]


def timed(label: str, count: int, megabytes: float, func) -> float:
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {count / seconds:10.0f} posts/s {megabytes / seconds:8.2f} MB/s")
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = corpus() * args.repeat
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} posts, {megabytes:.2f} MB of text")

    context = Context.load()
    runner = OfflineRunner(context)
    runner.run(posts(texts[:5])[0])  # build jieba, the automata and snownlp before timing

    plain = jieba.Tokenizer()
    plain.initialize()
    jieba_rate = timed("jieba alone", len(texts), megabytes, lambda: [plain.lcut(t) for t in texts])
    batch = posts(texts)
    full_rate = timed("analyze (all stages)", len(texts), megabytes, lambda: [runner.run(p) for p in batch])
    tracemalloc.start()  # a separate pass: tracing slows Python down several times
    for post in posts(texts):
        runner.run(post)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for stage in runner.stages:
        fresh = posts(texts)
        for earlier in runner.stages[: runner.stages.index(stage)]:
            fresh = [earlier(p) for p in fresh]
        timed(f"  stage {stage.name}", len(texts), megabytes, lambda s=stage, f=fresh: [s(p) for p in f])
    print(
        f"analyze / jieba alone: {full_rate / jieba_rate:.0%}; peak traced memory while analysing {peak / 1e6:.1f} MB"
    )
    print(json.dumps({"jieba_posts_per_s": round(jieba_rate), "analyze_posts_per_s": round(full_rate)}))


if __name__ == "__main__":
    main()
