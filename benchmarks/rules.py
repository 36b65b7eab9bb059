"""Keyword-rule matching throughput at 100 and 10,000 rules, beside jieba tokenisation alone.

Rules are generated from dictionary words in the shapes analysts write (AND of OR-groups, NOT, NEAR,
title scopes); texts are the seed documents' paragraphs. Matching cost should follow the text length,
not the number of rules.

    .venv/bin/python benchmarks/rules.py
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import jieba

from classifiers.rules import RuleSpec, compile_rules

ROOT = Path(__file__).resolve().parents[1]
jieba.setLogLevel(logging.WARNING)


def texts() -> list[str]:
    out: list[str] = []
    for seed in sorted((ROOT.parent / "shared" / "seeds").glob("*.txt")):
        out.extend(p.strip() for p in seed.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 20)
    return out * 3


def vocabulary() -> list[str]:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    words = [w for w, f in tokenizer.FREQ.items() if f > 50 and 2 <= len(w) <= 4]
    random.Random(7).shuffle(words)
    return words


def make_rules(count: int, words: list[str]) -> list[RuleSpec]:
    rng = random.Random(count)
    shapes = [
        "({a}|{b}) ({c}|{d})",
        "{a} {b} -{c}",
        "{a} NEAR/15 ({b}|{c})",
        "title:({a}|{b}) {c}",
        '"{a}{b}" | {c}',
    ]
    rules = []
    for i in range(count):
        a, b, c, d = rng.sample(words, 4)
        rules.append(
            RuleSpec(f"r{i}", rng.choice(shapes).format(a=a, b=b, c=c, d=d), category="bench", weight=1)
        )
    return rules


def main() -> None:
    corpus = texts()
    megabytes = sum(len(t.encode()) for t in corpus) / 1e6
    words = vocabulary()
    plain = jieba.Tokenizer()
    plain.initialize()
    start = time.perf_counter()
    for text in corpus:
        plain.lcut(text)
    jieba_seconds = time.perf_counter() - start
    print(f"{len(corpus)} texts, {megabytes:.2f} MB")
    print(
        f"{'jieba alone':<24} {len(corpus) / jieba_seconds:10.0f} texts/s {megabytes / jieba_seconds:8.2f} MB/s"
    )
    for count in (100, 10_000):
        start = time.perf_counter()
        rules = compile_rules(make_rules(count, words))
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        hits = sum(len(rules.match({"title": t[:30], "text": t})) for t in corpus)
        seconds = time.perf_counter() - start
        print(
            f"{f'{count} rules':<24} {len(corpus) / seconds:10.0f} texts/s {megabytes / seconds:8.2f} MB/s"
            f"  (compile {compile_seconds:.2f} s, {hits} hits)"
        )


if __name__ == "__main__":
    main()
