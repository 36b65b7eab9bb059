"""A whole patrol, as a newcomer runs it: `yuqing demo` crawls the recorded 新浪 pages through the replay
server in a real crawl process, runs every stage, stores, alerts; `yuqing search --demo` finds the
posts. The office's own patrol, with the sites answered from the same recordings, runs against a real
Elasticsearch node, including one that is down."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from commands.demo import DEMO_NOW
from config.env import PROJECT_ROOT
from pipeline.replay import ReplayServer
from tests.helpers import run_demo, yuqing

# First-patrol items of the 新浪 recordings (two list entries are older than 72 h), the source the store
# tests patrol; the whole demo, every source, is checked once in test_demo_covers_every_source.
SINA_POSTS = 25
SINA = ("--source", "sina_news")


def search_docs(query: str, env: dict[str, str], *demo: str) -> list[dict]:
    result = yuqing("search", query, "--json", "--limit", "100", *demo, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def search_ids(query: str, env: dict[str, str], *demo: str) -> list[str]:
    return [doc["id"] for doc in search_docs(query, env, *demo)]


def assert_finds_every_post_naming(word: str, env: dict[str, str], at_least: int, *demo: str) -> None:
    docs = search_docs(word, env, *demo)
    assert len(docs) >= at_least
    assert all(word in f"{doc['title']}{doc['text']}" for doc in docs)


def replayed_patrol(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The office's own `yuqing patrol` of 新浪, the site answered from the recordings at their moment."""
    with ReplayServer(PROJECT_ROOT / "tests" / "fixtures" / "sina") as server:
        return yuqing(
            "patrol", *SINA, env={**env, "YUQING_REPLAY_URL": server.base_url, "YUQING_NOW": DEMO_NOW}
        )


def assert_patrol_output(result: subprocess.CompletedProcess[str]) -> None:
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


def test_demo_patrol_on_the_embedded_store(data_env: dict[str, str]) -> None:
    assert_patrol_output(run_demo(data_env, *SINA))
    ids = search_ids("偷排", data_env, "--demo")
    assert ids
    assert all(i.startswith("sina:") for i in ids)
    assert_finds_every_post_naming("濮阳", data_env, 6, "--demo")
    assert_finds_every_post_naming("范县", data_env, 1, "--demo")
    # A second demo crawls the same pages again, as a first patrol: the same posts, once each.
    run_demo(data_env, *SINA)
    assert search_ids("偷排", data_env, "--demo") == ids
    doctor = yuqing("doctor", "--demo", env=data_env)
    assert "正常 存储：内置 SQLite 存储" in doctor.stdout
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


@pytest.mark.elasticsearch
def test_a_patrol_into_elasticsearch(data_env: dict[str, str], es_url: str) -> None:
    env = {**data_env, "ES_URL": es_url, "YUQING_ES_INDEX": f"posts-{uuid.uuid4().hex[:8]}"}
    assert_patrol_output(replayed_patrol(env))
    assert search_ids("偷排", env)
    assert_finds_every_post_naming("濮阳", env, 6)
    assert_finds_every_post_naming("范县", env, 1)
    doctor = yuqing("doctor", env=env)
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


@pytest.mark.elasticsearch
def test_the_demo_never_writes_to_the_office_elasticsearch(
    data_env: dict[str, str], es_url: str, es_client: Elasticsearch
) -> None:
    index = f"posts-{uuid.uuid4().hex[:8]}"
    env = {**data_env, "ES_URL": es_url, "YUQING_ES_INDEX": index}
    assert_patrol_output(run_demo(env, *SINA))
    assert not es_client.indices.exists(index=index)
    assert search_ids("偷排", env, "--demo")
    assert "正常 存储：内置 SQLite 存储" in yuqing("doctor", "--demo", env=env).stdout


@pytest.mark.elasticsearch
def test_a_patrol_while_elasticsearch_is_down_loses_nothing(data_env: dict[str, str], es_node) -> None:
    env = {**data_env, "ES_URL": es_node.url, "YUQING_ES_INDEX": f"posts-{uuid.uuid4().hex[:8]}"}
    es_node.stop()
    try:
        down = replayed_patrol(env)
    finally:
        es_node.start()
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"巡查完成：{SINA_POSTS} 条" in down.stdout
    spool = Path(env["YUQING_DATA_DIR"]) / "store" / "spool"
    assert any(spool.glob("*.spool.jsonl")), "posts were not spooled while the node was down"

    # The next patrol replays the spool first; every post is there once.
    again = replayed_patrol(env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not any(spool.glob("*.spool.jsonl"))
    doctor = yuqing("doctor", env=env)
    assert f"共 {SINA_POSTS} 条帖子" in doctor.stdout


def test_demo_covers_every_source(data_env: dict[str, str]) -> None:
    """`yuqing demo` with no filter patrols every configured source, and each yields posts, healthy."""
    from config.loader import load_config

    result = run_demo(data_env)
    sources = [s.name for s in load_config().sources.sources if s.enabled]
    records = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in (Path(data_env["YUQING_DATA_DIR"]) / "demo" / "runs").glob("*.json")
    ]
    by_source = {r["source"]: r for r in records}
    assert sorted(by_source) == sorted(sources)
    for name, record in by_source.items():
        assert record["finish_reason"] == "finished", name
        assert record["stats"].get("item_scraped_count", 0) > 0, name
    total = sum(r["stats"]["item_scraped_count"] for r in records)
    assert f"巡查完成：{total} 条" in result.stdout
