"""The sentiment models' cost per Weibo-length post, in one run: the trained default and the lexicon alone
as they run now (compiled, classifiers/native.py), the trained default again as Python (YUQING_NATIVE=0, a
child process), and the lexicon as it was when it was the default, before the trained model replaced it
(commit `THEN`, read from this repository's history into a temporary folder and run in a child process; it
used pyahocorasick, which the project has since left, so that row needs `pip install pyahocorasick`).

Every model reads what the classify stage gives it: the title, a line break and the cleaned text, with the
post's words cut beforehand (the pipeline cuts them for every post anyway). Posts: the Weibo-length posts of
benchmarks/corpus.py. Figures are µs per post in processor time, the best of several rounds.

    .venv/bin/python benchmarks/sentiment_speed.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from corpus import ROOT, weibo_posts

# The commit before the trained model became the default: its lexicon is the one it had to be no slower than.
THEN = "1e7f625^"

# Run in the child that reads the old tree: its own lexicon, timed as below.
_THEN_CHILD = """
import json, sys, time
from classifiers.sentiment_lexicon import LexiconSentiment
items, rounds = json.load(sys.stdin)
model = LexiconSentiment()
best = float("inf")
for _ in range(rounds):
    start = time.process_time()
    for text, words in items:
        model.judge(text, words)
    best = min(best, time.process_time() - start)
print(json.dumps(best / len(items) * 1e6))
"""


def per_post(
    judge: Callable[[str, Sequence[str]], object], items: list[tuple[str, list[str]]], rounds: int
) -> float:
    """µs of processor time per post, the best of `rounds` passes over all of them."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for text, words in items:
            judge(text, words)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6


def classify_inputs() -> list[tuple[str, list[str]]]:
    """(text, words) of each post as the classify stage passes them to the sentiment model."""
    from pipeline.context import Context
    from pipeline.items import post_from_dict
    from pipeline.runner import OfflineRunner

    context = Context.load()
    posts = [
        post_from_dict({"text": text}, stand_in_id=f"b:{i}", stand_in_url=f"https://b.invalid/{i}")
        for i, text in enumerate(weibo_posts())
    ]
    for stage in OfflineRunner(context).stages:
        if stage.name == "classify":
            break
        posts = [stage(post) for post in posts]
    return [(f"{post.title or ''}\n{post.text}", list(post.analysis.words)) for post in posts]


def now_figures(items: list[tuple[str, list[str]]], rounds: int) -> dict[str, float]:
    from classifiers.sentiment_lexicon import LexiconSentiment
    from pipeline.context import Context

    trained = Context.load().sentiment
    lexicon = LexiconSentiment()
    return {
        "trained": per_post(trained.judge, items, rounds),
        "lexicon": per_post(lexicon.judge, items, rounds),
    }


def as_python(items: list[tuple[str, list[str]]], rounds: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--rounds", str(rounds), "--child"],
        input=json.dumps(items, ensure_ascii=False),
        env={**os.environ, "YUQING_NATIVE": "0"},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "benchmarks",
    )
    return json.loads(done.stdout)


def then_figure(items: list[tuple[str, list[str]]], rounds: int) -> float | str:
    """The lexicon of `THEN`, or why it could not be run."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", THEN, "classifiers"], capture_output=True, check=False
        )
        if archive.returncode:
            return f"not run: {THEN} is not in this clone's history ({archive.stderr.decode().strip()})"
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        done = subprocess.run(
            [sys.executable, "-c", _THEN_CHILD],
            input=json.dumps([items, rounds], ensure_ascii=False),
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([folder, *filter(None, [os.environ.get("PYTHONPATH")])]),
            },
            capture_output=True,
            text=True,
            check=False,
            cwd=folder,
        )
        if done.returncode:
            return f"not run: {done.stderr.strip().splitlines()[-1]}"
        return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--child", action="store_true", help="time the models on the posts given on stdin")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(now_figures(json.load(sys.stdin), args.rounds)))
        return
    from classifiers.native import status

    items = classify_inputs()
    chars = sum(len(text) for text, _ in items) / len(items)
    now = now_figures(items, args.rounds)
    python = as_python(items, args.rounds)
    then = then_figure(items, args.rounds)
    print(
        f"{len(items)} Weibo-length posts, {chars:.0f} characters on average; analysis modules: {status()[1]}"
    )
    print(f"  trained default, compiled        {now['trained']:6.1f} µs/post")
    print(f"  trained default, as Python       {python['trained']:6.1f} µs/post")
    print(f"  lexicon alone, compiled          {now['lexicon']:6.1f} µs/post")
    print(f"  lexicon alone, as Python         {python['lexicon']:6.1f} µs/post")
    if isinstance(then, float):
        print(f"  lexicon as at {THEN} (the default then, Python) {then:6.1f} µs/post")
        print(f"  trained default now / lexicon then: {now['trained'] / then:.2f} (to reach: at most 1.00)")
    else:
        print(f"  lexicon as at {THEN}: {then}")


if __name__ == "__main__":
    main()
