"""Patrol sign-off in the browser, on the office clock of a morning at 08:50: the duty officer reviews the
alert raised since last night's checkpoint and signs the 上午 checkpoint with a note; it is then signed,
once only, and in the day's 舆情日志; a unit's account may not sign; a post without its token is refused."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest
import requests

from tests.console.conftest import ALERTS, Console
from tests.console.test_console import log_in, shot
from tests.helpers import yuqing

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("console", [{"YUQING_NOW": "2026-11-23T08:50:00+08:00"}], indirect=True),
]

OVERNIGHT = replace(
    ALERTS[1],
    key="event:console:night@复杂敏感事件",
    event_id="event:console:night",
    title="濮阳县一小区深夜燃气泄漏居民疏散",
    created_at=datetime.fromisoformat("2026-11-23T06:40:00+08:00"),
)


def test_the_duty_officer_signs_the_morning_checkpoint(console: Console, page) -> None:
    outbox = console.outbox()
    try:
        assert outbox.enqueue(OVERNIGHT)
    finally:
        outbox.close()
    log_in(page, console.url, "王芳")
    assert page.goto(f"{console.url}/signoff").status == 403
    page.goto(f"{console.url}/desk")
    page.get_by_role("button", name="退出登录").click()

    log_in(page, console.url, "李娜")
    page.get_by_role("link", name="巡查签收").click()
    checkpoints = page.locator("ul.checkpoints").inner_text()
    assert "上午 08:30 待签收" in checkpoints
    assert "下午 14:30 未到" in checkpoints
    form = page.locator("form.signoff")
    assert "燃气泄漏" in form.inner_text()
    assert form.get_by_label("无新增涉本地舆情（零报告）").count() == 0  # not with an alert to review
    page.get_by_role("button", name="签收").click()
    assert "还有 1 条新预警未勾选为已审阅" in page.get_by_role("alert").inner_text()
    page.get_by_label(re.compile("燃气泄漏")).check()
    page.get_by_label("备注").fill("各信息源巡查完毕，燃气泄漏已转濮阳县处置")
    shot(page, "signoff")
    page.get_by_role("button", name="签收").click()
    assert page.get_by_role("status").inner_text() == "已签收，已记入当日舆情日志"
    assert (
        "上午 08:30 已签收：李娜 2026-11-23 08:50，审阅预警 1 条"
        in page.locator("ul.checkpoints").inner_text()
    )
    assert page.locator("form.signoff").count() == 0
    shot(page, "signoff-done")

    # Posted again by hand: once per checkpoint; without the token: refused.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.content())
    assert token
    again = requests.post(
        f"{console.url}/signoff",
        cookies=cookies,
        data={"csrf_token": token.group(1), "checkpoint": "morning", "zero": "1"},
        timeout=10,
    )
    assert again.status_code == 400
    assert "已由李娜于 2026-11-23 08:50 签收" in again.text
    bare = requests.post(
        f"{console.url}/signoff", cookies=cookies, data={"checkpoint": "morning"}, timeout=10
    )
    assert bare.status_code == 403

    log = yuqing("log", "--date", "2026-11-23", env=console.env)
    assert log.returncode == 0, log.stderr
    assert "上午时间节点 李娜 08:50 签收：审阅预警 1 条" in log.stdout
    assert "备注：各信息源巡查完毕，燃气泄漏已转濮阳县处置" in log.stdout
