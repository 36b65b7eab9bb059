"""Source health: every way a site stops us becomes a named, counted finish reason, a health alert to duty
staff in the outbox (once a day per source and reason), and a line in `yuqing doctor`.

Each case is a real `scrapy crawl` against the replay server (tests/fixtures/local_gov/health); the rules
that recognise block pages are also table-tested on their own."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.channels.console import ConsoleChannel
from alerts.dispatcher import dispatch
from alerts.outbox import Outbox
from classifiers.types import Level
from commands.patrol import run_patrol
from config.env import PROJECT_ROOT, get_env
from config.loader import DEFAULT_DIR, load_config
from config.models import AlertsFile
from pipeline.health import (
    REASONS,
    HealthState,
    assess,
    checkpoint_runs,
    health_alert,
    load_state,
    read_checkpoint_runs,
    update_state,
)
from pipeline.replay import ReplayServer
from spiders.health import judge_page, judge_redirect, judge_status
from spiders.politeness import backoff_delay, retry_after_seconds

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_gov" / "health"
PATROL_AT = "2026-11-23T09:00:00+08:00"
DUTY = "市网信办值班室"

SOURCES = """\
sources:
  - name: qingfeng_403
    spider: generic
    start_urls: [https://www.qingfeng.gov.cn/zwdt/index.html]
    options: &trs
      container: ul.list
      items: ul.list > li
      fields: {url: "a::attr(href)", title: "a::attr(title)", date: "span::text"}
      date_formats: ["%Y-%m-%d"]
  - name: forum_418
    spider: generic
    start_urls: [https://bbs.pyforum.example/forum-2-1.html]
    options: &discuz
      items: "tbody[id^=normalthread] th"
      fields: {url: "a.xst::attr(href)", title: "a.xst::text"}
  - name: fanxian_429
    spider: generic
    retries: 1
    start_urls: [https://www.fanxian.gov.cn/xwzx/index.html]
    options: *trs
  - name: forum_login
    spider: generic
    start_urls: [https://bbs.pyforum.example/forum-5-1.html]
    options: *discuz
  - name: taiqian_captcha
    spider: generic
    start_urls: [https://www.tqx.gov.cn/zwdt/index.html]
    options: *trs
  - name: hualong_empty
    spider: generic
    start_urls: [https://www.hualong.gov.cn/zwdt/index.html]
    options: *trs
  - name: puyangxian_layout
    spider: generic
    start_urls: [https://www.puyangxian.gov.cn/zwdt/index.html]
    options: *trs
"""

# source -> (finish reason, a piece of the detail duty staff read)
CASES = {
    "qingfeng_403": ("blocked", "HTTP 403（https://www.qingfeng.gov.cn/zwdt/index.html）"),
    "forum_418": ("blocked", "HTTP 418"),
    "fanxian_429": ("blocked", "HTTP 429（Retry-After: 1）"),
    "forum_login": (
        "login_wall",
        "被重定向到登录页 https://bbs.pyforum.example/member.php?mod=logging",
    ),
    "taiqian_captcha": ("captcha", "要求验证（「安全验证」）"),
    "hualong_empty": ("empty", "页面上有列表（ul.list），但其中没有条目"),
    "puyangxian_layout": ("layout_changed", "页面上找不到列表区域 ul.list"),
}


# The rules, on their own ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [(401, "login_wall"), (403, "blocked"), (418, "blocked"), (429, "blocked"), (432, "blocked")],
)
def test_refusing_statuses(status, reason):
    assert judge_status(status).reason == reason


@pytest.mark.parametrize("status", [200, 301, 404, 500, 503])
def test_other_statuses_are_not_refusals(status):
    assert judge_status(status) is None


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("https://passport.weibo.com/visitor/visitor?entry=miniblog&a=enter", "login_wall"),
        ("https://login.sina.com.cn/sso/login.php?url=x", "login_wall"),
        ("https://bbs.pyforum.example/member.php?mod=logging&action=login", "login_wall"),
        ("https://wappass.baidu.com/static/captcha/tuxing.html?ak=c27b", "captcha"),
        ("https://www.tqx.gov.cn/verify?ref=/zwdt/", "captcha"),
        ("https://www.hualong.gov.cn/zwdt/index_1.html", None),
        ("https://www.qingfeng.gov.cn/blogging/1.html", None),
    ],
)
def test_redirect_targets(target, reason):
    problem = judge_redirect(target)
    assert (problem.reason if problem else None) == reason


NEWS_ABOUT_FRAUD = (
    "<html><head><title>警惕冒充客服索要验证码的电信诈骗_濮阳市人民政府</title></head><body>"
    + "<p>市公安局提醒：任何索要短信验证码的都是诈骗。</p>" * 30
    + "</body></html>"
)


@pytest.mark.parametrize(
    ("text", "expects", "reason"),
    [
        ("<html><head><title>安全验证</title></head><body>请拖动滑块</body></html>", "list", "captcha"),
        ("<html><body><div>请先登录后查看</div></body></html>", None, "login_wall"),
        # An API answering HTML: any marker counts, however long the page.
        ("<!DOCTYPE html><html><body>" + "导航" * 500 + "百度安全验证</body></html>", "json", "captcha"),
        ('{"ok": 0, "msg": "请先登录"}', "json", None),  # JSON: the spider reads it
        # A real article about 验证码 fraud is long; its title does not ask anything of us.
        (NEWS_ABOUT_FRAUD.replace("验证码的电信诈骗", "的电信诈骗"), "list", None),
    ],
)
def test_block_pages_in_place_of_what_was_expected(text, expects, reason):
    problem = judge_page(text, expects)
    assert (problem.reason if problem else None) == reason


def test_retries_back_off_and_honour_retry_after(monkeypatch):
    monkeypatch.setenv("YUQING_NOW", PATROL_AT)
    assert [backoff_delay(n, 2.0, 60.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(6, 2.0, 60.0) == 60.0
    assert backoff_delay(1, 2.0, 60.0, retry_after=30.0) == 30.0
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Mon, 23 Nov 2026 01:02:00 GMT") == 120.0  # clock at 09:00 Beijing time
    assert retry_after_seconds("soon") is None


def test_the_verdict_names_the_worst_problem_first():
    stats = {"yuqing/source/s/empty": 1, "yuqing/source/s/captcha": 2, "item_scraped_count": 3}
    assert assess("s", "finished", stats).state == "captcha"
    assert assess("s", "layout_changed", stats).state == "layout_changed"
    assert assess("s", "finished", {"item_scraped_count": 0}).state == "ok"
    crashed = assess("s", "shutdown", {})
    assert (crashed.state, crashed.detail) == ("failed", "抓取结束：被中止（收到停止信号）")


def test_a_state_that_continues_keeps_its_since_and_counts_runs(tmp_path):
    first = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
    later = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
    blocked = assess("s", "blocked", {"yuqing/health/s/detail": "HTTP 403 (u)"})
    update_state(tmp_path, blocked, first)
    state = update_state(tmp_path, blocked, later)
    assert (state.state, state.since, state.runs, state.last_ok) == ("blocked", first.isoformat(), 2, None)
    recovered = update_state(tmp_path, assess("s", "finished", {}), later)
    assert (recovered.state, recovered.runs, recovered.last_ok) == ("ok", 1, later.isoformat())
    assert load_state(tmp_path, "s") == recovered


def test_posts_the_store_could_not_take_make_the_crawl_failed_never_ok():
    stats = {"item_scraped_count": 40, "yuqing/index/failed": 12}
    verdict = assess("s", "finished", stats)
    assert (verdict.state, verdict.detail) == ("failed", "12 条信息未能写入存储（原因见巡查日志）")
    assert assess("s", "finished", {"item_scraped_count": 40, "yuqing/index/failed": 0}).state == "ok"


def test_a_health_alert_reads_clearly_and_reaches_the_console_of_duty_staff(tmp_path):
    at = datetime.fromisoformat(PATROL_AT)
    verdict = assess(
        "qingfeng_403", "blocked", {"yuqing/health/qingfeng_403/detail": "HTTP 403 (https://x/)"}
    )
    state = HealthState("qingfeng_403", "blocked", at.isoformat(), 3, verdict.detail, at.isoformat())
    alert = health_alert(verdict, state, [DUTY], at)
    assert alert.key == "health:qingfeng_403:blocked:2026-11-23"
    assert (alert.level, alert.recipients()) == (Level.GENERAL, [DUTY])
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.enqueue(alert)
    screen = io.StringIO()
    report = dispatch(outbox, AlertsFile(), {"console": ConsoleChannel("console", {}, screen)}, lambda: at)
    outbox.close()
    assert report.sent == 1
    body = screen.getvalue()
    assert "【信息源异常】qingfeng_403：访问被网站拒绝或限流" in body
    assert "原因：访问被网站拒绝或限流（HTTP 403/418/429/432）" in body
    assert "详情：HTTP 403 (https://x/)" in body
    assert "自 2026-11-23 09:00（北京时间）起连续 3 次巡查异常" in body
    assert "处理建议：" in body
    assert "时限" not in body  # nobody must claim a broken crawler within 48 h


# Real crawls ------------------------------------------------------------------------------------------------


def _crawl(source: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "generic", "-a", f"source={source}"]
    command += ["-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    command += ["-s", "YUQING_RETRY_BACKOFF_BASE=0.1"]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Every case crawled once (two at a time), then `qingfeng_403` a second time the same morning."""
    root = tmp_path_factory.mktemp("health")
    config = root / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    with ReplayServer(FIXTURES) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
        env.update(
            YUQING_REPLAY_URL=server.base_url,
            YUQING_DATA_DIR=str(root / "data"),
            YUQING_CONFIG_DIR=str(config),
            YUQING_NOW=PATROL_AT,
            COLUMNS="250",
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(zip(CASES, pool.map(lambda source: _crawl(source, env), CASES), strict=True))
        again = _crawl("qingfeng_403", {**env, "YUQING_NOW": "2026-11-23T10:00:00+08:00"})
        served = list(server.served)
    doctor = subprocess.run(
        [sys.executable, "-m", "commands.cli", "doctor"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outbox = Outbox(root / "data" / "alerts.sqlite3")
    alerts = outbox.alerts()
    outbox.close()
    return {
        "results": results,
        "again": again,
        "served": served,
        "doctor": doctor,
        "alerts": alerts,
        "root": root,
    }


@pytest.mark.parametrize("source", list(CASES))
def test_each_case_finishes_with_its_reason_counted_and_alerted_to_duty_staff(crawled, source):
    reason, detail = CASES[source]
    result = crawled["results"][source]
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr
    assert f"'finish_reason': '{reason}'" in log
    assert f"'yuqing/source/{source}/{reason}': 1" in log
    assert "'item_scraped_count'" not in log
    [alert] = [a for a in crawled["alerts"] if a.event_id == f"health:{source}"]
    assert alert.key == f"health:{source}:{reason}:2026-11-23"
    assert alert.kind == "health"
    assert alert.recipients() == [DUTY]
    assert alert.render().startswith(f"【信息源异常】{source}：")
    assert detail in alert.render()


def test_doctor_shows_every_source_with_its_reason_since_when_and_how_often(crawled):
    doctor = crawled["doctor"]
    assert doctor.returncode == 1  # unhealthy sources are problems
    lines = doctor.stdout.splitlines()
    for source, (reason, _detail) in CASES.items():
        [line] = [line for line in lines if line.startswith(f"故障 来源 {source}：")]
        crawls = 2 if source == "qingfeng_403" else 1
        assert f"：{REASONS[reason]}，自 2026-11-23 09:00 起连续 {crawls} 次巡查；" in line


def test_a_refusal_is_not_fetched_again_and_a_login_page_not_at_all(crawled):
    served = [(status, url) for _, status, url in crawled["served"]]
    assert (
        served.count((429, "https://www.fanxian.gov.cn/xwzx/index.html")) == 2
    )  # retried once, then given up
    assert served.count((403, "https://www.qingfeng.gov.cn/zwdt/index.html")) == 2  # once per patrol
    assert (302, "https://bbs.pyforum.example/forum-5-1.html") in served
    assert not [url for _, url in served if "member.php" in url]


def test_the_same_failure_alerts_once_a_day(crawled):
    again = crawled["again"]
    assert "'finish_reason': 'blocked'" in again.stderr
    assert "'yuqing/health/alerted': 0" in again.stderr
    assert len([a for a in crawled["alerts"] if a.event_id == "health:qingfeng_403"]) == 1


def test_a_crawl_that_dies_without_a_record_is_reported_failed(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "sources.yaml").write_text(
        "sources:\n  - name: county_board\n    spider: generic\n"
        "    start_urls: [https://www.qingfeng.gov.cn/hdjl/index.html]\n    options: {items: li}\n",
        encoding="utf-8",
    )
    for name in [k for k in os.environ if k.startswith("YUQING_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(config))
    monkeypatch.setenv("YUQING_NOW", PATROL_AT)
    # The config is sound (a spider the project lacks is refused when sources.yaml loads), but the crawl
    # process cannot find its Scrapy settings: it exits before any crawl, or any extension, runs.
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "no_such_settings")
    get_env.cache_clear()
    try:
        report = run_patrol(load_config(config), get_env())
    finally:
        get_env.cache_clear()
    [run] = report.runs
    assert (run.exit_code != 0, run.health) == (True, "failed")
    state = load_state(tmp_path / "data" / "health", "county_board")
    assert (state.state, state.runs) == ("failed", 1)
    assert "ModuleNotFoundError: No module named 'no_such_settings'" in state.detail
    assert "【信息源异常】county_board：抓取异常结束" in capsys.readouterr().out


def test_checkpoint_patrols_are_kept_for_three_days_and_read_back(tmp_path):
    state: dict[str, str] = {"patrol_slot": "2026-11-20T08:30:00+08:00"}
    start = datetime.fromisoformat("2026-11-20T08:30:00+08:00")
    slots = [start + timedelta(days=d, hours=h) for d in range(4) for h in (0, 6, 12)]
    for n, slot in enumerate(slots):
        state = checkpoint_runs(state, slot, slot + timedelta(minutes=4), ok=n != len(slots) - 1)
    path = tmp_path / "serve-state.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    runs = read_checkpoint_runs(path)
    assert sorted(runs) == slots[-9:]  # the last three days' checkpoints
    assert runs[slots[-2]] == (slots[-2] + timedelta(minutes=4), True)
    assert runs[slots[-1]][1] is False  # the last one failed
    assert state["patrol_slot"] == "2026-11-20T08:30:00+08:00"  # the rest of the state is kept
    path.write_text("{broken", encoding="utf-8")
    assert read_checkpoint_runs(path) == {}
