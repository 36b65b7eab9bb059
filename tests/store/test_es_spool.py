"""Posts written while Elasticsearch is away wait in the spool and reach the node once it is back."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.items import Analysis, Post, Source, to_dict
from pipeline.store.elasticsearch import ElasticsearchStore
from tests.services import EsNode, free_port

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def make_post(n: int, *, text: str | None = None) -> Post:
    return Post(
        id=Post.make_id(Source.TIEBA, f"t{n}"),
        source=Source.TIEBA,
        url=f"https://tieba.baidu.com/p/{9_000_000 + n}",
        text=text or f"第{n}楼：化工厂又在排污",
        published_at=NOW - timedelta(minutes=n),
        crawled_at=NOW,
        analysis=Analysis(tokens=["化工厂", "排污", f"楼{n}"]),
    )


@pytest.fixture
def index(es_client: Any) -> Iterator[str]:
    name = f"test-spool-{uuid.uuid4().hex[:12]}"
    yield name
    es_client.indices.delete(index=name, ignore_unavailable=True)
    es_client.options(ignore_status=404).indices.delete_index_template(name=name)


@pytest.mark.elasticsearch
def test_posts_written_while_the_node_is_down_are_spooled_then_replayed(
    es_node: EsNode, index: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ElasticsearchStore(es_node.url, index, spool_dir=tmp_path / "spool", request_timeout=30)
    before = [make_post(n) for n in range(5)]
    assert store.write(before).written == 5

    es_node.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline.store.elasticsearch"):
            during = [make_post(n) for n in range(5, 12)]
            first = store.write(during)
            # A re-crawl of an indexed post while the node is away: the newer version must win.
            second = store.write([make_post(0, text="第0楼（已编辑）：化工厂停产整改")])
        assert (first.written, first.spooled) == (0, 7)
        assert (second.written, second.spooled) == (0, 1)
        assert "7 条帖子已暂存到" in caplog.text
        assert str(store.spool.path) in caplog.text
        spooled = [json.loads(line) for line in store.spool.path.read_text(encoding="utf-8").splitlines()]
        assert [doc["id"] for doc in spooled] == [p.id for p in during] + ["tieba:t0"]
        assert spooled[0] == to_dict(during[0])
    finally:
        es_node.start()

    after = store.write([make_post(12)])
    assert (after.written, after.spooled, after.errors) == (1, 0, [])
    assert not store.spool.path.exists()

    store.refresh()
    assert store.count() == 13
    for n in range(13):
        assert store.get(f"tieba:t{n}") is not None, n
    assert store.get("tieba:t0")["text"] == "第0楼（已编辑）：化工厂停产整改"
    assert len(store.search(["化工厂", "排污"], limit=50)) == 13
    assert [hit.id for hit in store.search(["停产整改"])] == []  # tokens, not text, are searched
    store.close()


@pytest.mark.elasticsearch
def test_replay_reports_a_corrupt_line_and_replays_the_others(
    es_url: str, index: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ElasticsearchStore(es_url, index, spool_dir=tmp_path / "spool")
    good = [make_post(1), make_post(2)]
    unindexable = to_dict(make_post(3)) | {"published_at": "昨天夜里"}
    lines = [
        json.dumps(to_dict(good[0]), ensure_ascii=False),
        '{"id": "tieba:t9", "text": "写到一半',  # a line cut short by a crash
        json.dumps(unindexable, ensure_ascii=False),
        json.dumps(to_dict(good[1]), ensure_ascii=False),
    ]
    store.spool.path.parent.mkdir(parents=True)
    store.spool.path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with caplog.at_level(logging.ERROR, logger="pipeline.store.elasticsearch"):
        result = store.replay_spool()

    assert result.written == 2
    assert any(error.startswith(f"{store.spool.path}:2: not JSON") for error in result.errors), result.errors
    assert any(error.startswith("tieba:t3: HTTP 400") for error in result.errors), result.errors
    assert f"{store.spool.path}:2" in caplog.text
    assert not store.spool.path.exists()
    # Nothing is thrown away: what can never be indexed waits for a person in the rejected file.
    rejected = [json.loads(line) for line in store.spool.rejected.read_text(encoding="utf-8").splitlines()]
    assert [r.get("from") or r["doc"]["id"] for r in rejected] == [f"{store.spool.path}:2", "tieba:t3"]
    assert rejected[0]["line"] == lines[1]

    store.refresh()
    assert store.get("tieba:t1") == to_dict(good[0])
    assert store.get("tieba:t2") == to_dict(good[1])
    assert store.get("tieba:t3") is None
    store.close()


@pytest.mark.elasticsearch
def test_a_node_unreachable_at_open_spools_from_the_first_write(
    tmp_path: Path, es_url: str, index: str
) -> None:
    down = ElasticsearchStore(f"http://127.0.0.1:{free_port()}", index, spool_dir=tmp_path, request_timeout=2)
    result = down.write([make_post(1), make_post(2)])
    assert (result.written, result.spooled) == (0, 2)
    down.close()

    # The same spool, opened against a live node, drains on the first write and the index gets the mapping.
    up = ElasticsearchStore(es_url, index, spool_dir=tmp_path)
    assert up.write([]).errors == []
    up.refresh()
    assert up.count() == 2
    assert not up.spool.pending()
    up.close()


def test_a_node_that_hangs_is_left_alone_for_a_while(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        store = ElasticsearchStore(
            url,
            "posts",
            spool_dir=tmp_path,
            request_timeout=0.5,
            slow_failure=0.2,
            pause_after_slow_failure=60,
        )
        first = store.write([make_post(1)])
        with caplog.at_level(logging.WARNING, logger="pipeline.store.elasticsearch"):
            started = time.monotonic()
            second = store.write([make_post(2)])
            elapsed = time.monotonic() - started
        store.close()

    assert (first.spooled, second.spooled) == (1, 1)
    assert elapsed < 0.5  # spooled straight away, no second wait for the timeout
    assert "next attempt in 60s" in caplog.text
    assert [post_id for post_id, _doc in store.spool.read()[0]] == ["tieba:t1", "tieba:t2"]
