"""An analyst, in the browser, adds a rule for an incident type the rules do not know: the mistake shown at
its character, the fix previewed on the week's posts, saved, changed, the old version restored; and the
next demo patrol runs on it, so its hits and, once a hit is marked 误报, its precision are on the rules
page a patrol later."""

from __future__ import annotations

import pytest

from tests.console.conftest import PASSWORD, serving
from tests.console.test_console import log_in, shot
from tests.helpers import office_env, run_demo, yuqing

pytestmark = pytest.mark.browser


def analyst(env: dict[str, str]) -> None:
    """The demo's accounts (each demo starts its accounts and cases afresh)."""
    for args in (("管理员", "--role", "admin"), ("赵敏", "--role", "analyst", "--as", "管理员")):
        done = yuqing("user", "add", *args, "--password-stdin", "--demo", env=env, input=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr


def hits_of(page, url: str, rule_id: str) -> list[str]:
    page.goto(f"{url}/rules")
    row = page.locator("table.rules tbody tr", has=page.get_by_role("link", name=rule_id, exact=True))
    return row.locator("td").all_inner_texts()


def test_a_new_rule_is_written_previewed_saved_restored_and_run_by_the_next_patrol(tmp_path, page) -> None:
    env = office_env(tmp_path / "var")
    run_demo(env)
    analyst(env)
    with serving(env, "--demo") as url:
        caught = write_and_restore(page, url)
    # The next demo patrol runs on the rules in force (a console stays on the demo it was started on, so
    # the next one is opened anew): the rule's hits are there a patrol later.
    run_demo(env)
    analyst(env)
    with serving(env, "--demo") as url:
        log_in(page, url, "赵敏")
        after = hits_of(page, url, "parking")
        assert int(after[6]) == caught  # the posts the preview said it would catch
        assert after[8] == "未标注"
        # A hit marked 误报 gives the rule its precision.
        page.goto(f"{url}/search?q=%E5%81%9C%E8%BD%A6")  # 停车
        mark = page.locator(".rule-mark", has_text="停车难").first
        mark.get_by_role("button", name="标为误报").click()
        page.locator(".rule-mark", has_text="已标注：误报").first.wait_for()
        assert hits_of(page, url, "parking")[8] == "0%\n0/1 条标注"
        shot(page, "rules-after-patrol")


def write_and_restore(page, url: str) -> int:
    """Writes the rule (a mistake first), previews, saves, changes it and restores the first version;
    returns how many of the week's posts the preview said it catches."""
    log_in(page, url, "赵敏")
    page.goto(f"{url}/rules/new")
    page.get_by_label("编号").fill("parking")
    page.get_by_label("名称").fill("停车难")
    page.get_by_label("类别").fill("民生诉求")
    page.get_by_label("权重（0～10）").fill("4")
    page.get_by_label("表达式").fill("停车 (难|乱")
    page.locator("#expr-check").get_by_text("第 4 个字符处：左括号 ( 没有对应的右括号 )").wait_for()
    page.get_by_label("表达式").fill("停车 (难|乱|位太少)")
    page.locator("#expr-check").get_by_text("表达式正确").wait_for()
    page.get_by_role("button", name="预览（近7天的帖子）").click()
    figures = page.locator("#preview ul.figures")
    figures.wait_for()
    caught = int(figures.inner_text().split("修改后命中 ")[1].split(" 条")[0])
    assert caught >= 1
    page.get_by_label("修改原因").fill("群众反映停车难")
    page.get_by_role("button", name="保存为新版本").click()
    assert "已保存为第 1 版" in page.get_by_role("status").inner_text()

    # Changed, then the first version brought back.
    page.get_by_role("link", name="parking", exact=True).click()
    page.get_by_label("表达式").fill("停车 难")
    page.get_by_label("修改原因").fill("收窄")
    page.get_by_role("button", name="保存为新版本").click()
    page.get_by_role("link", name="历史版本").click()
    first = page.locator("section.version", has=page.get_by_role("heading", name="第 1 版"))
    first.get_by_label("恢复原因").fill("收窄后漏报")
    first.get_by_role("button", name="恢复为现行规则").click()
    assert "已保存为第 3 版" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="历史版本").click()
    assert "恢复自第 1 版" in page.locator("section.version").first.inner_text()
    assert "停车 (难|乱|位太少)" in page.locator("section.version").first.inner_text()

    before = hits_of(page, url, "parking")
    assert before[6] == "0"  # saved now, it matched nothing stored yet
    return caught
