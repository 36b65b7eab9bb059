"""How fast the analysts' workspace answers on a full week: the rule editor's preview (an edited rule run
over every post stored in the last 7 days, against the saved one) and a search in the rules' syntax with
an exclusion, at each size, beside the ceiling of reading the same posts' fields alone.

Posts are the synthetic ones of benchmarks/store.py (recorded texts, one to eighty pieces each), every one
published within the last 7 days, so the preview reads all of them: the worst case for a store of that size.

    .venv/bin/python benchmarks/rule_preview.py [--sizes 100k,1M] [--stores sqlite,elasticsearch]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from store import FILL_BATCH, NOW, ROOT, batches, make_posts, parse_size, pieces

from classifiers.rules import RuleSpec
from classifiers.search_query import parse_search
from config.env import Env
from config.loader import load_config
from pipeline.context import Context
from pipeline.items import Post
from pipeline.rule_preview import preview
from pipeline.store.base import Store
from pipeline.store.sqlite import SqliteStore


def this_week(posts: Iterator[Post]) -> Iterator[Post]:
    """The posts moved into the last 7 days, spread evenly, each keeping its own place in that week."""
    for post in posts:
        offset = random.Random(post.id).randrange(7 * 86400 - 60)
        yield dataclasses.replace(post, published_at=NOW - timedelta(seconds=offset + 60))


def measure(store: Store, context: Context, size: int, repeat: int) -> None:
    rules = {r.id: r for r in context.office.rules.rules}
    saved = rules["env-discharge"] if "env-discharge" in rules else next(iter(rules.values()))
    old = RuleSpec(saved.id, saved.expr, saved.name, saved.category, saved.weight, saved.min_level)
    edited = dataclasses.replace(old, expr=f"({saved.expr}) | (工厂 NEAR/10 (异味|黑水|排放))")

    started = time.perf_counter()
    read = sum(1 for _ in store.scan(NOW - timedelta(days=7)))
    ceiling = time.perf_counter() - started
    timings = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = preview(store, context, edited, old, now=NOW)
        timings.append(time.perf_counter() - started)
    assert result is not None
    print(
        f"    规则预览：中位 {statistics.median(timings):6.2f} 秒（{read:,} 条；只读出各帖字段 {ceiling:5.2f} 秒）"
        f"，命中 {result.matched:,}，新增 {result.new:,}，不再 {result.lost:,}，重新研判 {result.judged:,} 条"
    )
    query = parse_search("工厂 -演练", context.tokeniser)
    for name, q in (("最相关", query), ("最新", query.narrowed(newest_first=True))):
        samples = []
        for _ in range(repeat * 3):
            started = time.perf_counter()
            hits = store.search(q, limit=20)
            samples.append((time.perf_counter() - started) * 1000)
        print(
            f"    检索「工厂 -演练」{name}前 20 条：中位 {statistics.median(samples):7.1f} ms（{len(hits)} 条）"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="近 7 天的帖子数，逗号分隔")
    parser.add_argument("--stores", default="sqlite", help="sqlite、elasticsearch 或两者")
    parser.add_argument("--repeat", type=int, default=3, help="每项跑几次，取中位")
    args = parser.parse_args()
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    pool = pieces()
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-preview-") as tmp:
        folder = Path(tmp)
        context = Context(office=load_config(), env=Env(YUQING_DATA_DIR=folder, ES_URL=None))
        stores: dict[str, Store] = {"sqlite": SqliteStore(folder / "week.sqlite3")}
        node = None
        if "elasticsearch" in args.stores:
            sys.path.insert(0, str(ROOT))  # the node is started the way the tests start it
            from pipeline.store.elasticsearch import ElasticsearchStore
            from tests.services import EsNode

            node = EsNode(heap="1g")
            node.start()
            stores["elasticsearch"] = ElasticsearchStore(node.url, "bench-week", spool_dir=folder / "spool")
        try:
            stored = 0
            for size in sizes:
                for batch in batches(this_week(make_posts(pool, stored, size - stored)), FILL_BATCH):
                    for store in stores.values():
                        store.write(batch)
                stored = size
                print(f"近 7 天 {size:,} 条帖子")
                for name, store in stores.items():
                    store.refresh()
                    print(f"  {name}")
                    measure(store, context, size, args.repeat)
        finally:
            for store in stores.values():
                store.close()
            if node is not None:
                node.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"本进程内存峰值 {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
