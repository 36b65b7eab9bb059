"""The duty desk as it is watched: an alert raised by a real patrol appears on an open desk without a
reload; the filters narrow the table and stay in the address; each source's health and today's
checkpoints are shown as they are, a blocked source as 故障. The console runs on the recordings' clock,
so the patrol's posts are as fresh to it as they were to the site."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import requests

from commands.demo import DEMO_NOW
from config.env import PROJECT_ROOT
from pipeline.health import assess, update_state
from pipeline.replay import ReplayServer
from tests.console.conftest import ALERTS, Console
from tests.console.test_console import log_in, shot, titles
from tests.console.test_hardening import signed_in
from tests.helpers import yuqing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("console", [{"YUQING_NOW": DEMO_NOW}], indirect=True),
]


def test_an_alert_raised_by_a_patrol_reaches_an_open_desk_without_a_reload(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    page.get_by_text("实时推送：已连接").wait_for(timeout=15_000)
    page.get_by_role("button", name="开始值班（声音与桌面通知）").click()
    assert page.get_by_role("button", name="值班中（点击停止提醒）").is_visible()
    before = titles(page)
    assert not any("相撞" in t for t in before)
    page.evaluate("window.__sameDocument = true")  # gone if the page were loaded again

    # The office's own patrol of 新浪, the site answered from its recordings, into the console's folder.
    with ReplayServer(PROJECT_ROOT / "tests" / "fixtures" / "sina") as server:
        patrol = yuqing(
            "patrol", "--source", "sina_news", env={**console.env, "YUQING_REPLAY_URL": server.base_url}
        )
    assert patrol.returncode == 0, patrol.stdout + patrol.stderr

    crash = page.locator("table.feed tbody td.title", has_text="相撞")
    crash.first.wait_for(timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True
    assert "收到" in page.locator("#live-state").inner_text()
    row = page.locator("table.feed tbody tr", has_text="相撞").first
    assert row.locator(".level").inner_text() == "重大突发事态"
    shot(page, "desk-live")


def test_filters_narrow_the_table_and_stay_in_the_address(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    page.get_by_label("属地").select_option("清丰县")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**county=*")
    assert "county=%E6%B8%85%E4%B8%B0%E5%8E%BF" in page.url
    shown = titles(page)
    assert shown
    assert all("清丰县" in t for t in shown)
    page.get_by_label("状态").select_option(label="待认领")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**state=unclaimed**")
    page.reload()
    assert page.get_by_label("属地").input_value() == "清丰县"
    assert page.get_by_label("状态").input_value() == "unclaimed"
    assert all("清丰县" in t for t in titles(page))
    page.get_by_label("状态").select_option(label="误报")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**state=false_alarm**")
    assert titles(page) == []
    assert "所选条件下暂无预警" in page.locator("table.feed").inner_text()
    page.get_by_role("link", name="清除筛选").click()
    assert len(titles(page)) > len(shown)


def test_source_health_and_checkpoints_are_shown_as_they_are(console: Console, page) -> None:
    health = Path(console.data_dir) / "health"
    at = datetime.fromisoformat(DEMO_NOW)
    update_state(
        health, assess("weibo_search", "blocked", {"yuqing/health/weibo_search/detail": "HTTP 418"}), at
    )
    log_in(page, console.url, "李娜")
    sources = page.locator("ul.sources")
    blocked = sources.locator("li.fail")
    assert blocked.count() == 1
    assert "故障" in blocked.inner_text()
    assert "访问被网站拒绝或限流" in blocked.inner_text()
    assert "weibo_search" in (blocked.get_attribute("title") or "")
    never = sources.locator("li.warn", has_text="无记录")
    assert never.count() >= 1  # sources never patrolled are not called healthy
    checkpoints = page.locator("ul.checkpoints").inner_text()
    for checkpoint in ("上午 08:30", "下午 14:30", "晚上 20:30"):
        assert checkpoint in checkpoints
    # The console's clock is 09:00 and no serve ran: the morning checkpoint has no patrol on record.
    assert "未见巡查记录" in page.locator("ul.checkpoints li", has_text="上午").inner_text()
    assert "未到" in page.locator("ul.checkpoints li", has_text="下午").inner_text()
    shot(page, "desk-health")
    # A unit's desk does not show the office's sources.
    page.get_by_role("button", name="退出登录").click()
    log_in(page, console.url, "王芳")
    assert page.locator("ul.sources").count() == 0


def test_the_stream_needs_a_session_and_does_not_renew_it(console: Console) -> None:
    refused = requests.get(f"{console.url}/desk/stream", allow_redirects=False, timeout=10)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/login")
    http = signed_in(console.url, "李娜")
    with http.get(f"{console.url}/desk/stream", stream=True, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "yuqing_session=" not in stream.headers.get("set-cookie", "")
        first = next(stream.iter_lines(decode_unicode=True))
        assert first == "retry: 5000"


def test_each_person_chooses_which_alerts_ring(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    page.get_by_role("link", name="李娜").click()
    page.get_by_label("点击「开始值班」后，哪些新预警响铃并弹出桌面通知").select_option(
        label="仅重大突发事态"
    )
    page.get_by_role("button", name="保存提醒设置").click()
    assert page.get_by_role("status").inner_text() == "提醒设置已保存"
    shot(page, "account-notify")

    http = signed_in(console.url, "李娜")
    with http.get(f"{console.url}/desk/stream", stream=True, timeout=20) as stream:
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 5000"
        outbox = console.outbox()
        try:
            for n, alert in enumerate((ALERTS[1], ALERTS[3])):  # 复杂敏感事件, 重大突发事态
                assert outbox.enqueue(
                    replace(alert, key=f"{alert.key}:ring{n}", event_id=f"{alert.event_id}:ring{n}")
                )
        finally:
            outbox.close()
        rings: dict[str, bool] = {}
        for line in lines:  # the two may come in one event or two
            if line.startswith('data: {"alerts"'):
                rings.update({a["level"]: a["loud"] for a in json.loads(line[len("data: ") :])["alerts"]})
                if len(rings) == 2:
                    break
    assert rings == {"重大突发事态": True, "复杂敏感事件": False}
