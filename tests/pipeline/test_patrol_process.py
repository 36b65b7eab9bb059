"""A patrol is one child process crawling every source at once: the sources' crawls share one process
(not this one), each source's alerts go out as soon as its crawl ends, a spider that raises or a process
that dies is reported as a failed source while the others deliver, and the figures come from the crawls
themselves. The sites answer from the recordings through the replay server."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.outbox import Outbox
from commands.demo import DEMO_NOW
from commands.patrol import SourceRun, run_patrol
from config.env import PROJECT_ROOT, Env, get_env
from config.loader import load_config
from pipeline.health import load_state
from pipeline.replay import ReplayServer
from tests.pipeline.patrol_spiders import CRASH_EXIT_CODE

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
SINA_POSTS = 25  # first-patrol items of the 新浪 recordings


@pytest.fixture
def patrol_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name in [k for k in os.environ if k.startswith(("YUQING_", "ES_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("YUQING_NOW", DEMO_NOW)
    get_env.cache_clear()
    yield get_env()
    get_env.cache_clear()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(FIXTURES / "sina", FIXTURES / "weixin", FIXTURES / "people") as replay:
        yield replay


def sent_deliveries(env: Env) -> int:
    if not env.outbox_path.exists():
        return 0
    db = sqlite3.connect(env.outbox_path)
    try:
        return db.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]
    finally:
        db.close()


def health_alerts(env: Env) -> list[str]:
    """The event ids of the source-health alerts in the outbox: `health:<source>`."""
    outbox = Outbox(env.outbox_path, read_only=True)
    try:
        return [alert.event_id for alert in outbox.alerts() if alert.event_id.startswith("health:")]
    finally:
        outbox.close()


def by_source(runs: list[SourceRun]) -> dict[str, SourceRun]:
    return {run.source: run for run in runs}


def test_every_source_crawls_at_once_in_one_process_and_alerts_go_out_as_each_ends(
    patrol_env: Env, server: ReplayServer
) -> None:
    """微信 answers only once 新浪's crawl has ended and its alerts were delivered: so 新浪's alerts reach
    people while 微信 is still crawling, in the same process, which then delivers too."""
    slow = server.hold("weixin.sogou.com")
    seen: dict[str, Any] = {"started": [], "finished": []}

    def started(number: int, total: int, source: Any) -> None:
        seen["started"].append(source.name)

    def finished(number: int, total: int, run: SourceRun) -> None:
        seen["finished"].append(run.source)
        if run.source == "sina_news":
            seen["started when sina ended"] = sorted(seen["started"])
            seen["delivered when sina ended"] = sent_deliveries(patrol_env)
            seen["raised by sina"] = run.stat("yuqing/alert/raised")
            slow.set()

    try:
        report = run_patrol(
            load_config(),
            patrol_env,
            only=["sina_news", "weixin"],
            replay_url=server.base_url,
            started=started,
            finished=finished,
        )
    finally:
        slow.set()
    runs = by_source(report.runs)
    assert not report.failed, [(r.source, r.health, r.detail) for r in report.failed]
    assert seen["finished"] == ["sina_news", "weixin"]
    assert seen["started when sina ended"] == ["sina_news", "weixin"]
    assert seen["raised by sina"] > 0
    assert seen["delivered when sina ended"] >= seen["raised by sina"]
    assert runs["sina_news"].items == SINA_POSTS
    assert runs["weixin"].items > 0
    assert sent_deliveries(patrol_env) > seen["delivered when sina ended"]  # 微信's own, after it ended

    # Both crawls left their run record (for `yuqing doctor`) from one process, which is not this one.
    records = list((patrol_env.runs_dir).glob("*.json"))
    pids = {path.name.split("-")[-2] for path in records}
    assert sorted(json.loads(p.read_text(encoding="utf-8"))["source"] for p in records) == [
        "sina_news",
        "weixin",
    ]
    assert len(pids) == 1
    assert pids != {str(os.getpid())}
    assert report.crawl_process_max_rss_kb > 0

    # The crawls wrote one log together; each of Scrapy's lines about a crawl names its source.
    log = (patrol_env.logs_dir / "patrol.log").read_text(encoding="utf-8")
    for source in ("sina_news", "weixin"):
        closing = [line for line in log.splitlines() if "Closing spider (finished)" in line]
        assert any(f"[{source}]" in line for line in closing), (source, closing)


def test_the_figures_come_from_the_crawls_themselves(patrol_env: Env, server: ReplayServer) -> None:
    """With no run record written (the runs folder is a file), each source's figures are still known."""
    patrol_env.data_dir.mkdir(parents=True)
    patrol_env.runs_dir.write_text("not a folder", encoding="utf-8")
    report = run_patrol(load_config(), patrol_env, only=["sina_news"], replay_url=server.base_url)
    [run] = report.runs
    assert (run.health, run.finish_reason, run.items) == ("ok", "finished", SINA_POSTS)
    assert run.stat("yuqing/index/written") == SINA_POSTS
    assert run.stats["downloader/response_count"] > SINA_POSTS
    assert run.seconds == run.stats["elapsed_time_seconds"] > 0
    assert report.items == SINA_POSTS


def test_a_spider_that_raises_fails_its_source_alone(
    patrol_env: Env, server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "tests.pipeline.patrol_spiders")
    report = run_patrol(load_config(), patrol_env, only=["sina_news", "weixin"], replay_url=server.base_url)
    runs = by_source(report.runs)
    assert [run.source for run in report.failed] == ["weixin"]
    weixin = runs["weixin"]
    assert (weixin.exit_code, weixin.health) == (1, "failed")
    assert "RuntimeError: 模拟的爬虫故障" in weixin.finish_reason
    state = load_state(patrol_env.health_dir, "weixin")
    assert (state.state, state.runs) == ("failed", 1)
    assert "模拟的爬虫故障" in state.detail
    assert health_alerts(patrol_env) == ["health:weixin"]
    # The other crawl of the same process delivered everything, and was told healthy.
    assert (runs["sina_news"].health, runs["sina_news"].items) == ("ok", SINA_POSTS)
    assert runs["sina_news"].stat("yuqing/index/written") == SINA_POSTS


def test_a_crawl_process_that_dies_fails_the_sources_it_had_not_finished(
    patrol_env: Env, server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """人民网's spider ends the whole process (`os._exit`) at its first page, which it gets only once 新浪
    has ended: 新浪 is delivered and healthy, 人民网 failed with the process's exit code and its log."""
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "tests.pipeline.patrol_spiders")
    gates = [server.hold("news.people.com.cn"), server.hold("search.people.cn")]

    def finished(number: int, total: int, run: SourceRun) -> None:
        for gate in gates:
            gate.set()

    try:
        report = run_patrol(
            load_config(),
            patrol_env,
            only=["sina_news", "people_news"],
            replay_url=server.base_url,
            finished=finished,
        )
    finally:
        for gate in gates:
            gate.set()
    runs = by_source(report.runs)
    assert (runs["sina_news"].health, runs["sina_news"].items) == ("ok", SINA_POSTS)
    people = runs["people_news"]
    assert (people.exit_code, people.health) == (CRASH_EXIT_CODE, "failed")
    assert f"退出码 {CRASH_EXIT_CODE}" in people.finish_reason
    state = load_state(patrol_env.health_dir, "people_news")
    assert state.state == "failed"
    assert "patrol.log" in state.detail
    assert health_alerts(patrol_env) == ["health:people_news"]
