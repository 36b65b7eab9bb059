"""Throughput of `yuqing analyze` beside its tokeniser alone and beside jieba alone, all in one run.

Texts come from the repository only (benchmarks/corpus.py): Weibo-length posts (recorded 微博 answers and
the hand-written posts of tests/data) and long articles. For each kind it prints posts/s and MB/s of:
jieba alone (`jieba.lcut`), rjieba alone (`Jieba().cut`), and the whole analyze path (JSON lines in,
JSON lines out, through every offline stage, as the command runs them once started), then each stage on its own. It also
prints the command's start-up (a real `yuqing analyze` process on one line, best of several) and the peak
memory of the analysis. Rates are per CPU second of this process, so other work on the machine moves
them little; start-up is given both as wall time and as CPU time.

    .venv/bin/python benchmarks/analyze.py [--seconds 6]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout

import jieba
import rjieba
from corpus import ROOT, long_articles, weibo_posts

from classifiers.native import status as native_status
from commands.cli import analyze_lines
from pipeline.context import Context
from pipeline.items import post_from_dict
from pipeline.runner import OfflineRunner

jieba.setLogLevel(logging.WARNING)


def rates(runs: dict[str, Callable[[], object]], seconds: float, rounds: int = 6) -> dict[str, float]:
    """Runs per CPU second of each, the best of `rounds` rounds taken in turn, so that other work on the
    machine slows none of them more than the others. (With three rounds of a second, a passing slowdown
    moved jieba's figure by a tenth from run to run, and nine runs' ratios spread over 0.14; with six
    rounds, five runs' spread over 0.07.)"""
    best = dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for label, run in runs.items():
            count, start = 0, time.process_time()
            while (elapsed := time.process_time() - start) < seconds / rounds or count == 0:
                run()
                count += 1
            best[label] = max(best[label], count / elapsed)
    return best


def analyze_path(lines: bytes, context: Context) -> Callable[[], None]:
    """The command's work on these lines (read, parse, every offline stage, the JSON line out), stdout
    swapped for memory; built and loaded once, as start-up is measured on its own."""

    def run() -> None:
        with redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
            analyze_lines(io.BytesIO(lines), OfflineRunner(context))

    return run


def startup(repeat: int = 5) -> tuple[float, float]:
    """Wall and CPU seconds for a fresh `yuqing analyze` process to answer one line, each the best of
    `repeat`."""
    line = json.dumps({"text": "濮阳县柳屯镇一化工厂夜间偷排废水，村民投诉没人管[怒]"}, ensure_ascii=False)
    wall = cpu = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "commands.cli", "analyze"],
            input=line.encode(),
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
        wall = min(wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall, cpu


def stage_rates(texts: list[tuple[str | None, str]], rounds: int = 3) -> dict[str, float]:
    """Runs per second of each stage over the whole batch, best of `rounds`, each round on fresh posts
    and fresh stages (the event stage remembers the posts it saw)."""
    context = Context.load()
    best: dict[str, float] = {}
    for _ in range(rounds):
        posts = [
            post_from_dict(
                {"title": title, "text": text}, stand_in_id=f"b:{i}", stand_in_url=f"https://b.invalid/{i}"
            )
            for i, (title, text) in enumerate(texts)
        ]
        for stage in OfflineRunner(context).stages:
            start = time.process_time()
            posts = [stage(post) for post in posts]
            best[stage.name] = max(best.get(stage.name, 0.0), 1 / max(time.process_time() - start, 1e-9))
    return best


def report(kind: str, texts: list[tuple[str | None, str]], seconds: float) -> dict[str, float]:
    posts = len(texts)
    joined = [f"{title or ''}\n{text}" for title, text in texts]
    megabytes = sum(len(t.encode()) for t in joined) / 1e6
    lines = "".join(
        json.dumps({"title": title, "text": text} if title else {"text": text}, ensure_ascii=False) + "\n"
        for title, text in texts
    ).encode()
    plain, fast = jieba.Tokenizer(), rjieba.Jieba()
    plain.initialize()
    context = Context.load()
    analyze_path(lines[: lines.index(b"\n") + 1], context)()  # the dictionaries and automata, built once
    figures = rates(
        {
            "jieba alone": lambda: [plain.lcut(t) for t in joined],
            "rjieba alone": lambda: [fast.cut(t) for t in joined],
            "analyze (whole path)": analyze_path(lines, context),
        },
        seconds,
    )
    print(f"\n{kind}: {posts} posts, {megabytes * 1e6 / posts:,.0f} bytes each on average")
    for label, runs in figures.items():
        print(f"  {label:<28} {runs * posts:10,.0f} posts/s {runs * megabytes:8.2f} MB/s")
    for name, runs in stage_rates(texts).items():
        print(f"    stage {name:<22} {runs * posts:10,.0f} posts/s {runs * megabytes:8.2f} MB/s")
    ratio = figures["analyze (whole path)"] / figures["jieba alone"]
    print(f"  analyze / jieba alone: {ratio:.2f}x (to reach: at least 1.00x)")
    return {f"{kind}: {label}": round(runs * posts) for label, runs in figures.items()}


# Run in the child: `yuqing analyze`, then its own high-water mark of resident memory. The child's
# ru_maxrss would not do: it starts as a copy of this process, jieba's dictionary and all.
_PEAK = """
import sys
from commands.cli import main
sys.argv = ["yuqing", "analyze"]
try:
    main()
except SystemExit:
    pass
status = open("/proc/self/status").read()
sys.stderr.write(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
"""


def peak_memory(texts: list[tuple[str | None, str]]) -> float:
    """Peak resident memory (MB) of a `yuqing analyze` process given these posts (Linux)."""
    lines = "".join(json.dumps({"title": t, "text": x}, ensure_ascii=False) + "\n" for t, x in texts)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK], input=lines.encode(), capture_output=True, check=True, cwd=ROOT
    )
    return int(done.stderr.split()[-1]) / 1024


def interpreted(seconds: float) -> dict[str, float]:
    """The Weibo-length figures again in a child process whose analysis modules run as Python
    (YUQING_NATIVE=0): what the compiled modules (classifiers/native.py) change."""
    done = subprocess.run(
        [sys.executable, __file__, "--seconds", str(seconds), "--weibo-only"],
        env={**os.environ, "YUQING_NATIVE": "0"},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="time spent on each figure")
    parser.add_argument("--weibo-only", action="store_true", help="only the Weibo-length figures, as JSON")
    args = parser.parse_args()
    short = [(None, text) for text in weibo_posts()]
    if args.weibo_only:
        with redirect_stdout(io.StringIO()):
            figures = report("Weibo-length posts", short, args.seconds)
        print(json.dumps(figures))
        return
    _compiled, said = native_status()
    print(f"analysis modules: {said}")
    long = long_articles()
    figures = report("Weibo-length posts", short, args.seconds)
    python = interpreted(args.seconds)
    ratio = python["Weibo-length posts: analyze (whole path)"] / python["Weibo-length posts: jieba alone"]
    print(
        f"  the same, modules run as Python (YUQING_NATIVE=0, child process): analyze "
        f"{python['Weibo-length posts: analyze (whole path)']:,} posts/s, jieba alone "
        f"{python['Weibo-length posts: jieba alone']:,} posts/s: {ratio:.2f}x"
    )
    figures |= {f"as Python: {label}": runs for label, runs in python.items()}
    figures |= report("long articles", long, args.seconds)
    wall, cpu = startup()
    print(
        f"\nstart-up: `yuqing analyze` answers one line in {wall:.2f} s wall, {cpu:.2f} s CPU "
        "(best of 5; to reach: under 1 s)"
    )
    peak = peak_memory(short + long)
    print(f"peak memory of `yuqing analyze` over all {len(short) + len(long)} posts: {peak:.0f} MB")
    print(
        json.dumps(
            {
                **figures,
                "startup_wall_s": round(wall, 3),
                "startup_cpu_s": round(cpu, 3),
                "peak_mb": round(peak),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
