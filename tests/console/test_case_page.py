"""A case in the browser: a 重大突发事态 carried from alert to close by three accounts (the duty officer
who sees it, the county unit that claims, releases and closes it, the supervisor who approves its
extension), each seeing only the actions its role allows; and the refusals: another unit's case typed by
hand, a form older than the case's last change, a post without its CSRF token."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import requests

from alerts.calendar import SHANGHAI
from tests.console.conftest import ALERTS, Console
from tests.console.test_console import log_in, shot
from tests.helpers import yuqing

pytestmark = pytest.mark.browser

EXPLOSION = ALERTS[3]  # 重大突发事态, 清丰县, first to 清丰县政府办


def case_of(console: Console, alert_key: str) -> dict[str, object]:
    """The case as `yuqing cases --json` gives it to scripts."""
    done = yuqing("cases", "--all", "--json", env=console.env)
    assert done.returncode == 0, done.stderr
    cases = [json.loads(line) for line in done.stdout.splitlines()]
    return next(c for c in cases if alert_key in c["alerts"])


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_a_major_emergency_from_alert_to_close_by_three_accounts(console: Console, page) -> None:
    # The duty officer sees the alert on the desk and opens its case: everything, but no actions.
    log_in(page, console.url, "李娜")
    row = page.locator("table.feed tbody tr", has_text="化工厂发生爆炸")
    row.get_by_role("link", name="已通知").or_(row.get_by_role("link", name="新建")).click()
    assert heading(page).startswith("重大突发事态")
    assert "<script>document.title='被注入'</script>" in heading(page)  # shown as text
    body = page.locator("main").inner_text()
    for part in (
        "认领",
        "首次发布",
        "新闻发布会",
        "问题性质：命中规则「安全生产」",
        "第一责任单位：清丰县政府办",
    ):
        assert part in body
    assert page.get_by_role("heading", name="办理", exact=True).count() == 0
    countdown = page.locator("time.countdown").first
    first = countdown.inner_text()
    assert first.startswith("还剩")
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != first  # the countdown moves
    shot(page, "case-duty")
    case = case_of(console, EXPLOSION.key)
    assert page.url == f"{console.url}/cases/{case['short_id']}"
    page.get_by_role("button", name="退出登录").click()

    # The county unit claims it and records its first release.
    log_in(page, console.url, "王芳")
    page.goto(f"{console.url}/cases")
    page.get_by_role("link", name=str(case["short_id"])).click()
    page.get_by_role("button", name="认领").click()
    assert page.get_by_role("status").inner_text() == "已认领"
    assert page.locator(".state").inner_text() == "已认领"
    page.get_by_label("回应类型").select_option("首次发布")
    page.get_by_label("发布地址").fill("https://www.qingfeng.gov.cn/xwfb/1.html")
    page.get_by_role("button", name="记录回应").click()
    assert page.locator(".state").inner_text() == "已首次发布"
    # It asks for six more hours for the press conference.
    conference = EXPLOSION.created_at + timedelta(hours=24 + 6)
    page.get_by_label("延期至（北京时间）").fill(f"{conference.astimezone(SHANGHAI):%Y-%m-%dT%H:%M}")
    page.get_by_label("理由").first.fill("待省调查组到场后召开")
    page.get_by_role("button", name="申请延期").click()
    assert page.get_by_role("status").inner_text() == "已申请延期，待督办审批"
    assert page.locator(".state").inner_text() == "延期待批"
    shot(page, "case-unit")
    page.get_by_role("button", name="退出登录").click()

    # The supervisor approves it.
    log_in(page, console.url, "陈静")
    page.goto(f"{console.url}/cases/{case['short_id']}")
    assert "待省调查组到场后召开" in page.locator(".actions").inner_text()
    shot(page, "case-supervisor")
    page.get_by_role("button", name="批准延期").click()
    assert page.get_by_role("status").inner_text() == "已批准延期"
    assert "已延期" in page.locator("table.deadlines").inner_text()
    page.get_by_role("button", name="退出登录").click()

    # The unit holds the press conference, records it and closes the case.
    log_in(page, console.url, "王芳")
    page.goto(f"{console.url}/cases/{case['short_id']}")
    page.get_by_label("回应类型").select_option("新闻发布会")
    page.get_by_label("发布地址").fill("https://www.qingfeng.gov.cn/xwfb/2.html")
    page.get_by_role("button", name="记录回应").click()
    assert page.locator(".state").inner_text() == "已回应"
    page.get_by_label("办结说明").fill("已两次发布权威信息，舆情平稳")
    page.get_by_role("button", name="办结").click()
    assert page.locator(".state").inner_text() == "已办结"
    history = page.locator("table.history").inner_text()
    for who in ("王芳", "陈静"):
        assert who in history
    for step in ("认领", "记录回应", "申请延期", "审批延期", "办结"):
        assert step in history
    shot(page, "case-closed")

    closed = case_of(console, EXPLOSION.key)
    assert closed["state"] == "已办结"
    assert {d["kind"]: d["status"] for d in closed["deadlines"]} == {
        "认领": "met",
        "首次发布": "met",
        "新闻发布会": "met",
    }


def test_another_units_case_typed_by_hand_is_not_found(console: Console, page) -> None:
    case = case_of(console, ALERTS[2].key)  # 清丰县's heating: not 濮阳县's
    log_in(page, console.url, "赵磊")
    answer = page.goto(f"{console.url}/cases/{case['short_id']}")
    assert answer.status == 404
    assert "没有这个页面，或您无权查看" in page.content()
    page.goto(f"{console.url}/cases")
    assert str(case["short_id"]) not in page.locator("main").inner_text()


def test_a_form_older_than_the_case_or_without_its_token_is_refused(console: Console, page) -> None:
    case = case_of(console, ALERTS[2].key)
    log_in(page, console.url, "王芳")
    page.goto(f"{console.url}/cases/{case['short_id']}")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    drawn = page.locator("input[name=version]").first.get_attribute("value")
    address = f"{console.url}/cases/{case['short_id']}"
    bare = requests.post(address, cookies=cookies, data={"action": "claim", "version": drawn}, timeout=10)
    assert bare.status_code == 403
    assert "防伪令牌" in bare.text
    # Someone else acts first (here the same unit in another window): the old form no longer applies.
    page.get_by_role("button", name="认领").click()
    assert page.locator(".state").inner_text() == "已认领"
    stale = requests.post(
        address,
        cookies=cookies,
        data={"action": "claim", "version": drawn, "csrf_token": token},
        timeout=10,
    )
    assert stale.status_code == 409
    assert re.search(r"王芳（清丰县政府办） 已于 \d\d:\d\d (按时|逾期)认领", stale.text)
    page.set_content(stale.text)
    shot(page, "case-stale")
