"""The console in a real Chromium: login and its refusals, lockout, CSRF, a unit's scope, escaped post
text and logout, each page saved as a 1366x768 screenshot in var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from alerts.repositories.accounts import AccountRepository
from tests.console.conftest import ALERTS, PASSWORD, Console
from tests.helpers import PROJECT_ROOT, yuqing

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


def shot(page, name: str) -> Path:
    """A full-page screenshot at 1366x768 in var/screenshots/, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("账号").fill(name)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():  # the page the login leads to (or its refusal) has loaded
        page.get_by_role("button", name="登录").click()


def titles(page) -> list[str]:
    return page.locator("table.feed tbody td.title").all_inner_texts()


def test_login_page_and_a_wrong_password(console: Console, page) -> None:
    page.goto(f"{console.url}/desk")
    assert page.url.startswith(f"{console.url}/login")  # not signed in: sent to the login page
    shot(page, "login")
    log_in(page, console.url, "李娜", "Wrong-pass-1")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"
    log_in(page, console.url, "无此人", PASSWORD)
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"  # the same words: no name is revealed
    shot(page, "login-failed")


def test_duty_desk_lists_every_alert_loudest_first_with_the_script_as_text(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    assert page.url == f"{console.url}/desk"
    header = page.locator("header").inner_text()
    assert "李娜" in header
    assert "值班员" in header
    shown = titles(page)
    assert len(shown) == len(ALERTS)
    assert "化工厂发生爆炸" in shown[0]  # 重大突发事态 first
    assert "施工噪音" in shown[-1]  # 一般性事项 last
    levels = page.locator("table.feed tbody td .level").all_inner_texts()
    assert levels == ["重大突发事态", "复杂敏感事件", "社会热点问题", "一般性事项"]
    # The title's <script> is text on the page, not a script that ran.
    assert "<script>document.title='被注入'</script>" in shown[0]
    assert "被注入" not in page.title()
    assert page.locator("table.feed script").count() == 0
    # The htmx the install step fetched is served by the console itself.
    assert page.evaluate("typeof htmx") == "object"
    shot(page, "desk")
    # The feed refreshes itself through htmx (under the page's CSP), keeping its rows.
    with page.expect_response(lambda r: r.url == f"{console.url}/desk" and r.status == 200):
        page.evaluate("htmx.trigger('#feed', 'refresh')")
    page.wait_for_load_state()
    assert titles(page) == shown
    assert page.locator("#feed-inner").count() == 1

    page.get_by_role("link", name="复杂敏感事件 1").click()
    assert page.url.endswith("/desk?level=%E5%A4%8D%E6%9D%82%E6%95%8F%E6%84%9F%E4%BA%8B%E4%BB%B6")
    assert list(titles(page)) == ["濮阳县一学校食堂被指使用过期食材"]
    shot(page, "desk-filtered")


def test_a_unit_sees_only_what_was_routed_to_it(console: Console, page) -> None:
    log_in(page, console.url, "王芳")
    assert "清丰县政府办" in page.locator("header").inner_text()
    shown = titles(page)
    assert len(shown) == 2
    assert all("清丰县" in t for t in shown)
    shot(page, "desk-unit")
    page.get_by_role("link", name="化工厂发生爆炸", exact=False).click()
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .endswith("清丰县工业园区一化工厂发生爆炸<script>document.title='被注入'</script>")
    )
    shot(page, "alert")
    # Another county's alert typed by hand: not found, as if it did not exist.
    other = next(a for a in ALERTS if "濮阳县" in a.counties)
    answer = page.goto(f"{console.url}/alerts/{other.key}")
    assert answer.status == 404
    assert "没有这个页面，或您无权查看" in page.content()
    shot(page, "not-found")


def test_a_post_without_its_csrf_token_is_refused(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    plain = requests.post(f"{console.url}/logout", cookies=cookies, allow_redirects=False, timeout=10)
    assert plain.status_code == 403
    assert "防伪令牌" in plain.text
    forged = requests.post(
        f"{console.url}/logout",
        cookies=cookies,
        data={"csrf_token": "0" * 64},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403
    # The session is untouched by the refused posts.
    page.goto(f"{console.url}/desk")
    assert page.url == f"{console.url}/desk"
    # A login form posted from elsewhere (no token) is refused too.
    login = requests.post(f"{console.url}/login", data={"username": "李娜", "password": PASSWORD}, timeout=10)
    assert login.status_code == 403
    page.set_content(plain.text)
    shot(page, "csrf-refused")


def test_logout_ends_the_session_also_for_a_copy_of_its_cookie(console: Console, page) -> None:
    log_in(page, console.url, "李娜")
    kept = {c["name"]: c["value"] for c in page.context.cookies()}
    assert (
        requests.get(f"{console.url}/desk", cookies=kept, allow_redirects=False, timeout=10).status_code
        == 200
    )
    page.get_by_role("button", name="退出登录").click()
    assert page.url == f"{console.url}/login"
    page.goto(f"{console.url}/desk")
    assert page.url.startswith(f"{console.url}/login")
    # The cookie copied before logging out opens nothing either: the server ended the session.
    replayed = requests.get(f"{console.url}/desk", cookies=kept, allow_redirects=False, timeout=10)
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login")


def test_five_wrong_passwords_lock_the_account_until_an_administrator_resets_it(
    console: Console, page
) -> None:
    for _ in range(4):
        log_in(page, console.url, "刘洋", "Wrong-pass-1")
        assert page.get_by_role("alert").inner_text() == "用户名或密码错误"
    log_in(page, console.url, "刘洋", "Wrong-pass-1")
    assert "已锁定" in page.get_by_role("alert").inner_text()
    log_in(page, console.url, "刘洋")  # the right password no longer opens it
    assert page.url.startswith(f"{console.url}/login")
    assert "已锁定" in page.get_by_role("alert").inner_text()
    shot(page, "locked")
    reset = yuqing("user", "passwd", "刘洋", "--as", "张伟", env=console.env, input="Hl-new-2026\n")
    assert reset.returncode == 0, reset.stderr
    log_in(page, console.url, "刘洋", "Hl-new-2026")
    assert page.url == f"{console.url}/desk"
    # Every attempt is on the audit trail, with the lock and the reset.
    outbox = console.outbox(read_only=True)
    try:
        trail = AccountRepository(outbox.database).trail(target="刘洋")
    finally:
        outbox.close()
    logins = [(r["action"], r["outcome"], r["origin"]) for r in trail if r["action"] == "login"]
    assert logins == [*[("login", "refused", "web")] * 6, ("login", "done", "web")]
    assert any("账号锁定" in r["detail"] for r in trail)
    assert [r["action"] for r in trail if r["action"] == "user_passwd"] == ["user_passwd"] * 2
