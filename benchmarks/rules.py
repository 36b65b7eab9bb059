"""Keyword-rule matching throughput at 100 and 10,000 rules, beside jieba tokenisation alone.

Rules are generated from dictionary words in the shapes analysts write (AND of OR-groups, NOT, NEAR,
title scopes); texts are the repository's Weibo-length posts and long articles (benchmarks/corpus.py). Matching cost should follow the text length,
not the number of rules.

    .venv/bin/python benchmarks/rules.py
"""

from __future__ import annotations

import logging
import random
import time

import jieba
from corpus import long_articles, weibo_posts

from classifiers.rules import RuleSpec, compile_rules

jieba.setLogLevel(logging.WARNING)


def texts() -> list[str]:
    return (weibo_posts() + [text for _, text in long_articles()]) * 3


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
