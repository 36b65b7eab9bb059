"""Scale-out: two worker processes crawl one source through a shared frontier and dupefilter on a real Redis
server (scrapy-redis). Together they read every page exactly once and yield every item exactly once, and
each does part of the work (清丰县 乡镇动态: 8 list pages of 5 entries, GBK pages, in
tests/fixtures/local_gov/workers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from scrapy.settings import Settings

from config.env import PROJECT_ROOT, Env
from config.loader import DEFAULT_DIR, load_config
from pipeline.replay import ReplayServer
from spiders.base.source import source_settings
from spiders.frontier import frontier_key

pytestmark = pytest.mark.redis

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_gov" / "workers"
RECORDED_ITEMS = 40
SOURCES = """\
sources:
  - name: qingfeng_xzdt
    spider: generic
    start_urls: [https://www.qingfeng.gov.cn/xzdt/index.html]
    max_pages: 8
    # A polite pace: one request at a time per worker, so the frontier holds work for the other.
    download_delay: 0.2
    concurrency: 1
    options:
      container: ul.list
      items: ul.list > li
      fields: {url: "a::attr(href)", title: "a::attr(title)", date: "span::text"}
      date_formats: ["%Y-%m-%d"]
      pagination: {page_url: "index_{page}.html", page_start: 1}
      article:
        body: "#zoom .TRS_Editor"
        date: meta[name=PubDate]::attr(content)
"""


def test_two_workers_share_one_frontier_and_crawl_nothing_twice(tmp_path, redis_url):
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    with ReplayServer(FIXTURES) as server:
        workers = []
        for number in (1, 2):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
            env.update(
                YUQING_REPLAY_URL=server.base_url,
                YUQING_REDIS_URL=redis_url,
                YUQING_CONFIG_DIR=str(config),
                # Each worker is its own machine: its own data directory, the same patrol.
                YUQING_DATA_DIR=str(tmp_path / f"worker{number}"),
                YUQING_NOW="2026-11-23T09:00:00+08:00",
            )
            command = [sys.executable, "-m", "scrapy", "crawl", "generic", "-a", "source=qingfeng_xzdt"]
            command += ["-O", str(tmp_path / f"worker{number}.jsonl"), "-s", "ITEM_PIPELINES={}"]
            command += ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=2"]
            workers.append(
                subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
            time.sleep(0.5)
        logs = [worker.communicate(timeout=180)[0] for worker in workers]
        served = list(server.served)

    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-3000:]
        assert "shared frontier yuqing:qingfeng_xzdt:20261123T0900:requests on Redis" in log
        assert "'finish_reason': 'finished'" in log
    urls = [url for _, _, url in served]
    assert {status for _, status, _ in served} == {200}
    assert len(urls) == len(set(urls)) == 8 + RECORDED_ITEMS

    items = {
        number: [
            json.loads(line)
            for line in (tmp_path / f"worker{number}.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        for number in (1, 2)
    }
    ids = [item["id"] for part in items.values() for item in part]
    assert len(ids) == len(set(ids)) == RECORDED_ITEMS
    assert all(items.values()), {number: len(part) for number, part in items.items()}
    titles = {item["title"] for part in items.values() for item in part}
    assert "城关镇开展冬季森林防火巡查" in titles  # GBK pages read as they were written

    # The frontier outlives neither its day nor its patrol: it expires, and the next patrol gets new keys.
    client = redis.Redis.from_url(redis_url)
    key = frontier_key("qingfeng_xzdt", "20261123T0900", "dupefilter")
    assert client.scard(key) > 0
    assert 0 < client.ttl(key) <= 24 * 3600
    client.close()


def test_without_redis_a_crawl_keeps_scrapys_own_scheduler(monkeypatch):
    source = next(s for s in load_config(DEFAULT_DIR).sources.sources if s.name == "puyang_gov_zwdt")
    monkeypatch.delenv("YUQING_REDIS_URL", raising=False)
    alone = source_settings(source, Env(), Settings())
    assert "SCHEDULER" not in alone
    monkeypatch.setenv("YUQING_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("YUQING_RUN_ID", "morning-checkpoint")
    shared = source_settings(source, Env(), Settings())
    assert shared["SCHEDULER"] == "spiders.frontier.SharedFrontierScheduler"
    assert shared["SCHEDULER_QUEUE_KEY"] == "yuqing:puyang_gov_zwdt:morning-checkpoint:requests"
    assert "REDIS_URL" not in shared  # the URL may hold a password: it stays in the environment
