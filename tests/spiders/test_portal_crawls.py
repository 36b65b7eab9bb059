"""Each portal spider through the replay server: `scrapy crawl` in its own process, all five at once (a
patrol runs them at once too, in one process: tests/pipeline/test_patrol_process.py). The second patrol's increments are tested in process
(tests/spiders/test_<spider>.py), from the state file this crawl leaves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from config.env import PROJECT_ROOT
from pipeline.replay import ReplayServer
from tests.spiders.portals import FIXTURES, ROUND_1_AT


@dataclass(frozen=True)
class Case:
    spider: str
    recordings: str
    source_yaml: str
    posts: int  # articles, messages, replies and comments of the first patrol
    sample: str  # a post id of the first patrol
    sample_text: str


CASES = [
    Case(
        "people_news",
        "people",
        "    start_urls: [http://news.people.com.cn/210801/211150/index.js]\n    options: {search_keywords: [濮阳]}\n",
        8,
        "people:40630071",
        "台前县在黄河吴坝段组织开展冬季防凌应急抢险演练",
    ),
    Case(
        "people_liuyan",
        "liuyan",
        "    start_urls:\n      - https://liuyan.people.com.cn/threads/list?fid=2671\n"
        "      - https://liuyan.people.com.cn/threads/list?fid=2672\n",
        20,
        "people:liuyan-26391822-reply-1",
        "已责令停产整改并立案调查",
    ),
    Case(
        "netease_news",
        "netease",
        "    start_urls: ['https://news.163.com/special/cm_guonei/?callback=data_callback']\n",
        16,
        "netease:KH7Q2C4R000189FH-c9231440355",
        "同一个学校的，孩子昨天也肚子疼。",
    ),
    Case(
        "sohu_news",
        "sohu",
        "    start_urls: ['https://v2.sohu.com/public-api/feed?scene=CHANNEL&sceneId=10&page=1&size=20']\n",
        7,
        "sohu:902118734",
        "事故造成3人死亡、2人受伤",
    ),
    Case(
        "ifeng_news",
        "ifeng",
        "    start_urls: ['https://news.ifeng.com/shanklist/3-35191-/']\n",
        6,
        "ifeng:8pQy3Vb2kXz",
        "拆迁补偿尚在协商",
    ),
]


def launch(case: Case, server: ReplayServer, home: Path) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    environment.update(
        YUQING_REPLAY_URL=server.base_url,
        YUQING_DATA_DIR=str(home / "data"),
        YUQING_CONFIG_DIR=str(home / "config"),
        YUQING_NOW=ROUND_1_AT,
    )
    command = [sys.executable, "-m", "scrapy", "crawl", case.spider, "-a", f"source={case.spider}"]
    command += ["-O", str(home / "posts.jsonl"), "-s", "ITEM_PIPELINES={}"]
    command += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Patrol:
    returncode: int
    stderr: str
    posts: list[dict]
    statuses: set[int]  # what the replay server answered this spider's requests
    state_saved: bool  # where the patrol stopped, for the next one


@pytest.fixture(scope="module")
def patrols(tmp_path_factory) -> dict[str, Patrol]:
    """Every spider's first patrol at once, each in its own process against its own replay server."""
    homes, servers, running = {}, {}, {}
    for case in CASES:
        home = tmp_path_factory.mktemp(case.spider)
        config = home / "config"
        shutil.copytree(PROJECT_ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        (config / "sources.yaml").write_text(
            f"sources:\n  - name: {case.spider}\n    spider: {case.spider}\n{case.source_yaml}"
            "    max_pages: 3\n    max_age_hours: 72\n",
            encoding="utf-8",
        )
        homes[case.spider] = home
        servers[case.spider] = ReplayServer(FIXTURES / case.recordings)
        servers[case.spider].start()
        running[case.spider] = launch(case, servers[case.spider], home)
    results = {}
    try:
        for case in CASES:
            stderr = running[case.spider].communicate(timeout=180)[1]
            out, state = homes[case.spider] / "posts.jsonl", homes[case.spider] / "data" / "state"
            posts = [json.loads(line) for line in out.read_text("utf-8").splitlines() if line.strip()]
            results[case.spider] = Patrol(
                running[case.spider].returncode,
                stderr,
                posts,
                {status for _, status, _ in servers[case.spider].served},
                (state / f"{case.spider}.json").exists(),
            )
    finally:
        for server in servers.values():
            server.stop()
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.spider for c in CASES])
def test_a_patrol_through_the_replay_server(case: Case, patrols):
    first = patrols[case.spider]
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(first.posts) == case.posts, first.stderr[-3000:]
    assert len({p["id"] for p in first.posts}) == len(first.posts)
    # Every request found its recording: a wrong URL or a wrongly signed POST would be a 404 here.
    assert first.statuses == {200}
    assert f"'yuqing/source/{case.spider}/" not in first.stderr
    assert first.state_saved
    by_id = {p["id"]: p for p in first.posts}
    assert case.sample_text in by_id[case.sample]["text"]
    for post in first.posts:
        assert datetime.fromisoformat(post["published_at"]).utcoffset() == timedelta(hours=8)
        assert post["crawled_at"] == ROUND_1_AT
        assert post["url"].startswith("http")
        assert "127.0.0.1" not in post["url"]
