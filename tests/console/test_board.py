"""The pages for chasing and for oneself, each for the roles it serves: the supervisors' board (what is
unclaimed and overdue, each unit's record this quarter), a unit's inbox and no other unit's, the audit
trail narrowed by account, and changing one's own password."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from alerts.records import quarter_bounds
from pipeline.items import SHANGHAI
from tests.console.conftest import ALERTS, PASSWORD, Console
from tests.console.test_console import log_in, shot

pytestmark = pytest.mark.browser


def this_quarter_title(now: datetime) -> str:
    return quarter_bounds(f"{now.year}Q{(now.month - 1) // 3 + 1}")[2]


def test_the_board_is_for_supervisors_and_shows_what_waits(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    answer = page.goto(f"{console.url}/board")
    assert answer.status == 403
    assert "督办看板仅供督办" in page.content()
    page.goto(f"{console.url}/desk")
    assert page.get_by_role("link", name="督办看板").count() == 0  # not offered where it is refused
    page.get_by_role("button", name="退出登录").click()

    log_in(page, console.url, "陈静")
    page.get_by_role("link", name="督办看板").click()
    waiting = page.locator("main").inner_text()
    # Every fixture alert opened a case nobody has claimed yet.
    for alert in ALERTS:
        assert alert.title[:12] in waiting
    units = page.locator("table", has_text="按时认领率").inner_text()
    assert "清丰县政府办" in units
    # The console runs on the real clock: the board's record is of the quarter it is now in Beijing.
    now = datetime.now(SHANGHAI)
    assert this_quarter_title(now) in page.locator("main").inner_text()
    shot(page, "board")


def test_a_unit_sees_its_own_inbox_and_no_other(console: Console, page) -> None:
    log_in(page, console.url, "王芳")
    page.get_by_role("link", name="单位待办").click()
    inbox = page.locator("table.cases tbody").inner_text()
    assert "化工厂发生爆炸" in inbox
    assert "集中供暖" in inbox
    assert "过期食材" not in inbox  # 濮阳县's
    assert "收到" in page.locator(".record").inner_text()
    shot(page, "inbox")
    page.get_by_role("link", name="待认领").click()
    assert "tab=unclaimed" in page.url
    page.get_by_role("button", name="退出登录").click()

    log_in(page, console.url, "赵磊")
    answer = page.goto(f"{console.url}/inbox?unit=%E6%B8%85%E4%B8%B0%E5%8E%BF%E6%94%BF%E5%BA%9C%E5%8A%9E")
    assert answer.status == 404
    page.goto(f"{console.url}/inbox")
    assert "过期食材" in page.locator("table.cases tbody").inner_text()


def test_the_audit_trail_narrows_by_account(console: Console, page) -> None:
    log_in(page, console.url, "王芳")
    assert page.goto(f"{console.url}/audit").status == 403
    page.goto(f"{console.url}/desk")
    page.get_by_role("button", name="退出登录").click()
    log_in(page, console.url, "张伟")
    page.get_by_role("link", name="审计记录").click()
    everyone = page.locator("table.audit tbody tr").count()
    page.get_by_label("账号").fill("王芳")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**account=*")
    rows = page.locator("table.audit tbody tr")
    assert 0 < rows.count() < everyone
    assert all(text.startswith("王芳") for text in rows.locator("td:nth-child(2)").all_inner_texts())
    assert "退出登录" in page.locator("table.audit").inner_text()
    shot(page, "audit")


def test_changing_ones_own_password(console: Console, page) -> None:
    log_in(page, console.url, "赵磊")
    page.get_by_role("link", name="赵磊").click()
    assert page.url == f"{console.url}/account"
    page.get_by_label("当前密码").fill("Wrong-pass-9")
    page.get_by_label("新密码", exact=True).fill("Py-new-2026x")
    page.get_by_label("再次输入新密码").fill("Py-new-2026x")
    page.get_by_role("button", name="修改密码").click()
    assert page.get_by_role("alert").inner_text() == "当前密码不正确"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    bare = requests.post(
        f"{console.url}/account/password",
        cookies=cookies,
        data={"current": PASSWORD, "new": "Py-new-2026x", "again": "Py-new-2026x"},
        timeout=10,
    )
    assert bare.status_code == 403  # no CSRF token
    assert token
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("Py-new-2026x")
    page.get_by_label("再次输入新密码").fill("Py-new-2026x")
    shot(page, "account")
    page.get_by_role("button", name="修改密码").click()
    assert page.url.startswith(f"{console.url}/login")
    assert page.get_by_role("status").inner_text() == "密码已修改，请用新密码重新登录"
    log_in(page, console.url, "赵磊", PASSWORD)
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"
    log_in(page, console.url, "赵磊", "Py-new-2026x")
    assert page.url == f"{console.url}/desk"
