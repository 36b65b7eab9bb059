"""The index stage's background writer: everything handed over reaches the store, even when the node is
away for part of the crawl or the process ends without closing it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.items import Analysis, Post, Source
from pipeline.store.elasticsearch import ElasticsearchStore
from pipeline.store.sqlite import SqliteStore
from pipeline.store.writer import BackgroundWriter
from tests.services import EsNode

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
REPOSITORY = Path(__file__).resolve().parents[2]


def make_post(n: int) -> Post:
    return Post(
        id=Post.make_id(Source.TIEBA, f"w{n}"),
        source=Source.TIEBA,
        url=f"https://tieba.baidu.com/p/{8_000_000 + n}",
        text=f"第{n}楼：化工厂排污",
        published_at=NOW - timedelta(minutes=n),
        crawled_at=NOW,
        analysis=Analysis(tokens=["化工厂", "排污", f"楼{n}"]),
    )


def batches(first: int, count: int, size: int = 50) -> Iterator[list[Post]]:
    for start in range(first, first + count, size):
        yield [make_post(n) for n in range(start, min(first + count, start + size))]


def test_close_delivers_every_batch_handed_over(tmp_path: Path) -> None:
    path = tmp_path / "posts.sqlite3"
    writer = BackgroundWriter(SqliteStore(path), max_waiting=2)
    for batch in batches(0, 1000):
        writer.put(batch)
    writer.put([make_post(3)])  # a post crawled again is updated, not counted twice in the store
    figures = writer.close()

    assert (figures.written, figures.spooled, figures.failed) == (1001, 0, 0)
    store = SqliteStore(path, read_only=True)
    assert store.count() == 1000
    assert len(store.search(["化工厂"], limit=2000)) == 1000
    store.close()


def test_a_failed_batch_is_counted_and_the_next_ones_still_arrive(tmp_path: Path) -> None:
    path = tmp_path / "posts.sqlite3"
    writer = BackgroundWriter(SqliteStore(path))
    broken = make_post(1)
    broken.published_at = "昨天"  # type: ignore[assignment]  # a post that cannot be stored
    writer.put([broken, make_post(2)])
    raised: list[Exception] = []
    try:
        writer.put([make_post(3)])  # taken, and raises the first batch's error if it has failed by now
    except AttributeError as exc:
        raised.append(exc)
    figures = writer.close()
    try:
        writer.raise_failure()
    except AttributeError as exc:
        raised.append(exc)

    assert len(raised) == 1  # on the caller's thread, once, as a synchronous write would have
    assert (figures.written, figures.failed) == (1, 2)
    store = SqliteStore(path, read_only=True)
    assert [hit.id for hit in store.search(["化工厂"])] == ["tieba:w3"]
    store.close()


EXITS_WITHOUT_CLOSING = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from pipeline.store.sqlite import SqliteStore
    from pipeline.store.writer import BackgroundWriter
    from tests.store.test_writer import batches

    writer = BackgroundWriter(SqliteStore(Path(sys.argv[1])))
    for batch in batches(0, 600):
        writer.put(batch)
    # No close(): the process ends as one asked to stop might, with batches still queued.
    """
)


def test_batches_still_queued_when_the_process_ends_are_written(tmp_path: Path) -> None:
    path = tmp_path / "posts.sqlite3"
    subprocess.run([sys.executable, "-c", EXITS_WITHOUT_CLOSING, str(path)], cwd=REPOSITORY, check=True)
    store = SqliteStore(path, read_only=True)
    assert store.count() == 600
    store.close()


@pytest.fixture
def index(es_client: Any) -> Iterator[str]:
    name = f"test-writer-{uuid.uuid4().hex[:12]}"
    yield name
    es_client.indices.delete(index=name, ignore_unavailable=True)
    es_client.options(ignore_status=404).indices.delete_index_template(name=name)


@pytest.mark.elasticsearch
def test_a_node_down_mid_crawl_spools_and_loses_nothing(es_node: EsNode, index: str, tmp_path: Path) -> None:
    store = ElasticsearchStore(es_node.url, index, spool_dir=tmp_path / "spool", request_timeout=30)
    writer = BackgroundWriter(store)
    for batch in batches(0, 300):
        writer.put(batch)
    writer.close()  # all of these reached the node before it goes
    assert writer.figures.written == 300

    store = ElasticsearchStore(es_node.url, index, spool_dir=tmp_path / "spool", request_timeout=30)
    writer = BackgroundWriter(store)
    es_node.stop()
    try:
        for batch in batches(300, 200):
            writer.put(batch)
        down = writer.close()  # the crawl ends while the node is still away
    finally:
        es_node.start()
    assert (down.written, down.spooled, down.failed) == (0, 200, 0)
    spooled = [json.loads(line)["id"] for line in store.spool.path.read_text(encoding="utf-8").splitlines()]
    assert spooled == [make_post(n).id for n in range(300, 500)]

    # The next crawl, with the node back, delivers the spool before its own posts.
    store = ElasticsearchStore(es_node.url, index, spool_dir=tmp_path / "spool")
    writer = BackgroundWriter(store)
    writer.put([make_post(500)])
    back = writer.close()
    assert (back.written, back.spooled, back.failed) == (1, 0, 0)
    assert not store.spool.pending()

    check = ElasticsearchStore(es_node.url, index, spool_dir=tmp_path / "check")
    check.refresh()
    assert check.count() == 501
    assert len(check.search(["化工厂", "排污"], limit=1000)) == 501
    check.close()
