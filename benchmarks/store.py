"""Speed of the two stores beside their ceilings, measured in one run.

- writes: `SqliteStore.write` beside a raw `executemany` of the same rows already serialised, and
  `ElasticsearchStore.write` beside `elasticsearch.helpers.bulk` of the same documents already as dicts;
- search latency (median, p95) of a common word, a rare word and a filtered query at each size;
- peak memory: this process (ru_maxrss, tracemalloc over the writes) and the node's heap.

Posts are synthetic, made of the recorded texts in tests/ (articles' paragraphs, labelled posts), one to
eighty pieces each so lengths run from a short post to a long article. Elasticsearch is started the way the
tests start it (tests/services.py).

    .venv/bin/python benchmarks/store.py [--sizes 10k,100k,1M] [--stores sqlite,elasticsearch]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html

from classifiers.tokenise import Tokeniser
from classifiers.types import Level, Severity, Territory
from pipeline.items import Analysis, AuthorKind, Counts, Post, Source, to_dict, to_json
from pipeline.store.base import Store
from pipeline.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
SOURCES = list(Source)
LEVELS = list(Level)
COUNTIES = ["濮阳县", "清丰县", "南乐县", "范县", "台前县", "华龙区"]
WRITE_BATCH = 500  # the index stage's batch
FILL_BATCH = 2000


@dataclass(slots=True)
class Piece:
    text: str
    words: list[str]
    tokens: list[str]


def recorded_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.extend(t for t in (record.get("title"), record.get("text")) if t)
    for path in sorted((ROOT / "tests" / "fixtures").glob("*/*.html")):
        tree = lxml.html.fromstring(path.read_bytes())
        texts.extend(t for p in tree.iter("p") if len(t := p.text_content().strip()) >= 20)
    return list(dict.fromkeys(texts))


def pieces() -> list[Piece]:
    tokeniser = Tokeniser()
    out = []
    for text in recorded_texts():
        words = tokeniser.words(text)
        out.append(Piece(text, words, tokeniser.index_tokens(words)))
    return out


def make_posts(pool: list[Piece], start: int, count: int) -> Iterator[Post]:
    """Posts `start` to `start + count`, the same ones on every run."""
    for n in range(start, start + count):
        rng = random.Random(n)
        roll = rng.random()
        # Mostly short posts (Weibo, comments), some threads, one in ten a long article.
        k = rng.randint(1, 3) if roll < 0.6 else rng.randint(4, 12) if roll < 0.9 else rng.randint(30, 80)
        chosen = rng.sample(pool, k)
        source = SOURCES[n % len(SOURCES)]
        level = rng.choice(LEVELS)
        county = rng.choice(COUNTIES)
        words = [w for p in chosen for w in p.words]
        yield Post(
            id=f"{source.value}:bench{n}",
            source=source,
            url=f"https://bench.invalid/{source.value}/{n}",
            title=chosen[0].text[:30],
            text="\n".join(p.text for p in chosen),
            author=f"用户{n % 5000}",
            author_kind=AuthorKind.ORDINARY,
            media=source.value,
            published_at=NOW - timedelta(seconds=rng.randrange(365 * 86400)),
            crawled_at=NOW,
            counts=Counts(reposts=rng.randrange(100), comments=rng.randrange(500), likes=rng.randrange(5000)),
            ip_location="河南",
            analysis=Analysis(
                words=words,
                tokens=[t for p in chosen for t in p.tokens],
                sentiment=round(rng.random(), 4),
                severity=Severity(level=level, score=round(rng.random() * 10, 2), reasons=("命中 规则",)),
                territory=Territory(province="河南省", city="濮阳市", counties=(county,), confidence=0.8),
                departments=["生态环境"],
            ),
        )


def batches(posts: Iterator[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in posts:
        batch.append(post)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def timed(func: Callable[[], Any]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


# -- writes ----------------------------------------------------------------------------------------


def sqlite_writes(posts: list[Post], folder: Path, rounds: int) -> None:
    rows, tokens, meta = [], [], []  # what a raw executemany gets: every row already serialised
    for rowid, post in enumerate(posts, start=1):
        level = post.analysis.severity.level.value if post.analysis.severity else None
        ts = post.published_at.timestamp()
        rows.append((rowid, post.id, ts, to_json(post).decode()))
        tokens.append((rowid, " ".join(post.analysis.tokens)))
        meta.append((rowid, post.id, ts, post.source.value, level))

    def store_run(path: Path) -> None:
        store = SqliteStore(path)
        for start in range(0, len(posts), WRITE_BATCH):
            store.write(posts[start : start + WRITE_BATCH])
        store.close()

    def raw_run(path: Path) -> None:
        SqliteStore(path).close()  # the same schema and pragmas
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        for start in range(0, len(rows), WRITE_BATCH):
            conn.execute("BEGIN IMMEDIATE")
            end = start + WRITE_BATCH
            conn.executemany(
                "INSERT INTO posts (rowid, id, published_ts, doc) VALUES (?, ?, ?, ?)", rows[start:end]
            )
            conn.executemany("INSERT INTO post_tokens (rowid, tokens) VALUES (?, ?)", tokens[start:end])
            conn.executemany(
                "INSERT INTO post_meta (rowid, id, published_ts, source, level) VALUES (?, ?, ?, ?, ?)",
                meta[start:end],
            )
            conn.execute("COMMIT")
        conn.close()

    best_store = best_raw = float("inf")
    for r in range(rounds):
        best_raw = min(best_raw, timed(lambda r=r: raw_run(folder / f"raw{r}.sqlite3")))
        best_store = min(best_store, timed(lambda r=r: store_run(folder / f"store{r}.sqlite3")))
    n = len(posts)
    print(f"SQLite 写入  store.write        {n / best_store:10.0f} 条/秒")
    print(f"SQLite 写入  raw executemany    {n / best_raw:10.0f} 条/秒")
    print(f"SQLite 写入  比值（下限 0.6）    {best_raw / best_store:10.2f}")
    tracemalloc.start()
    store_run(folder / "traced.sqlite3")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"SQLite 写入  tracemalloc 峰值   {peak / 2**20:10.1f} MiB（{n} 条，每批 {WRITE_BATCH}）")


def es_writes(posts: list[Post], url: str, folder: Path, rounds: int) -> None:
    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import bulk

    from pipeline.store.elasticsearch import ElasticsearchStore

    docs = [to_dict(post) for post in posts]
    client = Elasticsearch(url, request_timeout=120)

    def store_run(index: str) -> None:
        store = ElasticsearchStore(url, index, spool_dir=folder / "spool", request_timeout=120)
        for start in range(0, len(posts), WRITE_BATCH):
            result = store.write(posts[start : start + WRITE_BATCH])
            assert result.written == len(posts[start : start + WRITE_BATCH]), result
        store.close()

    def bulk_run(index: str) -> None:
        # The same index template and settings as the store's index, made before the clock starts.
        ElasticsearchStore(url, index, spool_dir=folder / "spool").close()
        actions = ({"_index": index, "_id": doc["id"], "_source": doc} for doc in docs)
        done, errors = bulk(client, actions, chunk_size=500)
        assert done == len(docs), errors

    best_store = best_bulk = float("inf")
    for r in range(rounds):
        for name, run, is_store in (("bulk", bulk_run, False), ("store", store_run, True)):
            index = f"bench-{name}-{r}"
            if is_store:
                ElasticsearchStore(url, index, spool_dir=folder / "spool").close()
            seconds = timed(lambda run=run, index=index: run(index))
            if is_store:
                best_store = min(best_store, seconds)
            else:
                best_bulk = min(best_bulk, seconds)
            client.indices.delete(index=index)
            client.indices.delete_index_template(name=index)
    n = len(posts)
    print(f"ES 写入      store.write        {n / best_store:10.0f} 条/秒")
    print(f"ES 写入      helpers.bulk(500)  {n / best_bulk:10.0f} 条/秒")
    print(f"ES 写入      比值（下限 0.9）    {best_bulk / best_store:10.2f}")
    tracemalloc.start()
    store_run("bench-traced")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    client.indices.delete(index="bench-traced")
    client.indices.delete_index_template(name="bench-traced")
    client.close()
    print(f"ES 写入      tracemalloc 峰值   {peak / 2**20:10.1f} MiB（{n} 条，每批 {WRITE_BATCH}）")


# -- search ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Query:
    name: str
    terms: list[str]
    filters: dict[str, Any]


def choose_queries(sqlite_path: Path, total: int) -> list[Query]:
    """A word in about a fifth of the posts, one in about a thousandth, and the common one filtered."""
    conn = sqlite3.connect(sqlite_path)
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, post_tokens, row)")
    vocab = conn.execute("SELECT term, doc FROM temp.vocab WHERE length(term) >= 2").fetchall()
    conn.close()
    common = min(vocab, key=lambda row: abs(row[1] - total / 5))[0]
    rare = min(vocab, key=lambda row: abs(row[1] - total / 1000))[0]
    week = {"since": NOW - timedelta(days=30), "sources": [Source.WEIBO.value]}
    return [Query("常见词", [common], {}), Query("罕见词", [rare], {}), Query("常见词+过滤", [common], week)]


def latency(store: Store, queries: list[Query], repeat: int) -> None:
    for query in queries:
        hits = store.search(query.terms, limit=20, **query.filters)  # warm
        samples = []
        for _ in range(repeat):
            samples.append(timed(lambda q=query: store.search(q.terms, limit=20, **q.filters)) * 1000)
        samples.sort()
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        label = f"{query.name}「{query.terms[0]}」"
        print(
            f"    {label:<14} 中位 {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms   命中前 {len(hits)} 条"
        )


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def search_sizes(
    pool: list[Piece], sizes: list[int], folder: Path, repeat: int, es_url: str | None, es_client: Any
) -> None:
    from pipeline.store.elasticsearch import ElasticsearchStore

    sqlite = SqliteStore(folder / "search.sqlite3")
    es = ElasticsearchStore(es_url, "bench-search", spool_dir=folder / "spool") if es_url else None
    stored = 0
    queries: list[Query] | None = None
    for size in sizes:
        started = time.perf_counter()
        fill = {"sqlite": 0.0, "es": 0.0}
        for batch in batches(make_posts(pool, stored, size - stored), FILL_BATCH):
            fill["sqlite"] += timed(lambda b=batch: sqlite.write(b))
            if es is not None:
                fill["es"] += timed(lambda b=batch: es.write(b))
        stored = size
        if es is not None:
            es.refresh()
            es_client.options(request_timeout=3600).indices.forcemerge(
                index="bench-search", max_num_segments=1
            )
        queries = queries or choose_queries(folder / "search.sqlite3", size)
        took = time.perf_counter() - started
        print(f"  {size:,} 条（装填 {took:.0f} 秒：SQLite {fill['sqlite']:.0f} 秒，ES {fill['es']:.0f} 秒）")
        print(f"  SQLite（{(folder / 'search.sqlite3').stat().st_size / 2**20:,.0f} MiB）")
        latency(sqlite, queries, repeat)
        if es is not None:
            print("  Elasticsearch")
            latency(es, queries, repeat)
            print(f"    节点堆：{es_heap(es_client)}")
    sqlite.close()
    if es is not None:
        es.close()


def es_heap(client: Any) -> str:
    jvm = next(iter(client.nodes.stats(metric="jvm")["nodes"].values()))["jvm"]["mem"]
    peak = sum(pool.get("peak_used_in_bytes", 0) for pool in jvm["pools"].values())
    return (
        f"已用 {jvm['heap_used_in_bytes'] / 2**20:,.0f} MiB / 上限 {jvm['heap_max_in_bytes'] / 2**20:,.0f} MiB，"
        f"各内存池峰值之和 {peak / 2**20:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="检索测量的帖子数，逗号分隔")
    parser.add_argument("--stores", default="sqlite,elasticsearch", help="sqlite、elasticsearch 或两者")
    parser.add_argument("--write-posts", type=int, default=20_000, help="写入测量的帖子数")
    parser.add_argument("--rounds", type=int, default=2, help="写入测量各跑几轮，取最快")
    parser.add_argument("--repeat", type=int, default=20, help="每个检索跑几次")
    parser.add_argument("--es-heap", default="1g", help="Elasticsearch 节点的堆大小")
    args = parser.parse_args()
    # Stopped from outside (kill, or Ctrl-C where a background start ignores it), the node and the
    # temporary folder still go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    use_es = "elasticsearch" in args.stores
    began = time.perf_counter()

    pool = pieces()
    lengths = sorted(len(p.text) for p in pool)
    print(f"语料：{len(pool)} 段录制文本，长度中位 {lengths[len(lengths) // 2]} 字，最长 {lengths[-1]} 字")
    posts = list(make_posts(pool, 0, args.write_posts))
    sample = sorted(len(p.text) for p in posts)
    print(f"合成帖子：正文长度中位 {sample[len(sample) // 2]} 字，p95 {sample[int(len(sample) * 0.95)]} 字")

    node = None
    es_client = None
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-store-") as tmp:
        folder = Path(tmp)
        try:
            if use_es:
                from elasticsearch import Elasticsearch

                sys.path.insert(0, str(ROOT))  # the node is started the way the tests start it
                from tests.services import EsNode

                node = EsNode(heap=args.es_heap)
                node.start()
                es_client = Elasticsearch(node.url, request_timeout=600)
                print(f"Elasticsearch 节点 {node.url} 启动用了 {node.started_in:.0f} 秒，堆 {args.es_heap}")
            print(f"\n== 写入（{len(posts):,} 条，每批 {WRITE_BATCH}，各 {args.rounds} 轮取最快）==")
            if "sqlite" in args.stores:
                sqlite_writes(posts, folder, args.rounds)
            if node is not None:
                es_writes(posts, node.url, folder, args.rounds)
            del posts
            print(f"\n== 检索（每次取前 20 条，每个检索 {args.repeat} 次）==")
            search_sizes(pool, sizes, folder, args.repeat, node.url if node else None, es_client)
        finally:
            if es_client is not None:
                es_client.close()
            if node is not None:
                node.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n本进程内存峰值（ru_maxrss）：{rss:,.0f} MiB；总用时 {time.perf_counter() - began:.0f} 秒")


if __name__ == "__main__":
    main()
