"""A whole patrol, as a newcomer runs it: `yuqing demo` crawls the recorded 新浪 pages through the replay
server in a real `scrapy crawl` process, runs every stage, stores, alerts; `yuqing search` finds the posts.
Run against the embedded store and against a real Elasticsearch node, including one that is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# First-patrol items of the 新浪 recordings (two list entries are older than 72 h), the source the store
# tests patrol; the whole demo, every source, is checked once in test_demo_covers_every_source.
SINA_POSTS = 25
SINA = ("--source", "sina_news")


def yuqing(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def search_docs(query: str, env: dict[str, str]) -> list[dict]:
    result = yuqing("search", query, "--json", "--limit", "100", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def search_ids(query: str, env: dict[str, str]) -> list[str]:
    return [doc["id"] for doc in search_docs(query, env)]


def assert_finds_every_post_naming(word: str, env: dict[str, str], at_least: int) -> None:
    docs = search_docs(word, env)
    assert len(docs) >= at_least
    assert all(word in f"{doc['title']}{doc['text']}" for doc in docs)


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env["YUQING_DATA_DIR"] = str(tmp_path / "var")
    env["COLUMNS"] = "200"
    return env


def assert_demo_output(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"巡查完成：{SINA_POSTS} 条" in out
    # The road accident in 范县 with deaths is a 重大突发事态 for 范县 with its deadlines and reasons.
    accident = next(block for block in out.split("── 致 ") if "相撞" in block and "【" in block)
    assert "【重大突发事态】" in accident
    assert "属地：范县" in accident
    assert "认领：范县县委宣传部、范县政府办" in accident
    assert "首次发布时限" in accident
    assert "新闻发布会时限" in accident
    assert "市政府主要负责同志" in accident
    assert "依据：问题性质：命中规则「突发事件致人死亡」(权重10)" in accident
    # Spam and news from elsewhere never alert.
    assert "开什么码" not in out
    assert out.count("── 致 控制台 ──") >= 5


def test_demo_patrol_on_the_embedded_store(base_env: dict[str, str]) -> None:
    result = yuqing("demo", *SINA, env=base_env)
    assert_demo_output(result)
    ids = search_ids("偷排", base_env)
    assert ids
    assert all(i.startswith("sina:") for i in ids)
    assert_finds_every_post_naming("濮阳", base_env, 6)
    assert_finds_every_post_naming("范县", base_env, 1)
    # A second demo re-crawls the same pages: the store updates, never duplicates.
    assert yuqing("demo", *SINA, env=base_env).returncode == 0
    assert search_ids("偷排", base_env) == ids
    doctor = yuqing("doctor", env=base_env)
    assert "正常 存储：embedded SQLite" in doctor.stdout
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


@pytest.mark.elasticsearch
def test_demo_patrol_into_elasticsearch(base_env: dict[str, str], es_url: str) -> None:
    env = {**base_env, "ES_URL": es_url, "YUQING_ES_INDEX": f"posts-{uuid.uuid4().hex[:8]}"}
    assert_demo_output(yuqing("demo", *SINA, env=env))
    assert search_ids("偷排", env)
    assert_finds_every_post_naming("濮阳", env, 6)
    assert_finds_every_post_naming("范县", env, 1)
    doctor = yuqing("doctor", env=env)
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


@pytest.mark.elasticsearch
def test_a_patrol_while_elasticsearch_is_down_loses_nothing(base_env: dict[str, str], es_node) -> None:
    env = {**base_env, "ES_URL": es_node.url, "YUQING_ES_INDEX": f"posts-{uuid.uuid4().hex[:8]}"}
    es_node.stop()
    try:
        down = yuqing("demo", *SINA, env=env)
    finally:
        es_node.start()
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"巡查完成：{SINA_POSTS} 条" in down.stdout
    spool = Path(env["YUQING_DATA_DIR"]) / "store" / "spool"
    assert any(spool.glob("*.spool.jsonl")), "posts were not spooled while the node was down"

    # The next patrol replays the spool first; every post is there once.
    again = yuqing("demo", *SINA, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not any(spool.glob("*.spool.jsonl"))
    doctor = yuqing("doctor", env=env)
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


def test_demo_covers_every_source(base_env: dict[str, str]) -> None:
    """`yuqing demo` with no filter patrols every configured source, and each yields posts, healthy."""
    from config.loader import load_config

    result = yuqing("demo", env=base_env)
    assert result.returncode == 0, result.stdout + result.stderr
    sources = [s.name for s in load_config().sources.sources if s.enabled]
    records = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (Path(base_env["YUQING_DATA_DIR"]) / "runs").glob("*.json")
    ]
    by_source = {r["source"]: r for r in records}
    assert sorted(by_source) == sorted(sources)
    for name, record in by_source.items():
        assert record["finish_reason"] == "finished", name
        assert record["stats"].get("item_scraped_count", 0) > 0, name
    total = sum(r["stats"]["item_scraped_count"] for r in records)
    assert f"巡查完成：{total} 条" in result.stdout
