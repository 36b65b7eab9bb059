"""The console on the demo's data, as a newcomer tries it right after `./yuqing demo`: accounts added with
`user add … --demo`, `yuqing console --demo`, and each page for each role — the duty officer's desk with
the demo's 重大突发事态 first and its case, the sign-off of the morning checkpoint, the 范县 unit claiming
its case from its inbox, the supervisor's board and audit trail, and an analyst kept off what is not theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.console.conftest import PASSWORD, serving
from tests.console.test_console import log_in, shot
from tests.helpers import office_env, run_demo, yuqing

pytestmark = pytest.mark.browser

PEOPLE = (
    ("管理员", "admin", None),
    ("李娜", "duty", None),
    ("李明", "unit", "范县县委宣传部"),
    ("陈静", "supervisor", "市委宣传部"),
    ("赵敏", "analyst", None),
)


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo's data with one account of each role, for the commands and the console."""
    env = office_env(tmp_path_factory.mktemp("demo") / "var")
    run_demo(env)
    for name, role, unit in PEOPLE:
        args = ["user", "add", name, "--role", role, "--password-stdin", "--demo"]
        args += ["--unit", unit] if unit else []
        args += ["--as", "管理员"] if name != "管理员" else []
        done = yuqing(*args, env=env, input=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="module")
def demo_console(demo_env: dict[str, str]) -> Iterator[str]:
    with serving(demo_env, "--demo") as url:
        yield url


def out(page) -> None:
    page.get_by_role("button", name="退出登录").click()


def test_each_role_on_the_demo(demo_console: str, page) -> None:
    url = demo_console
    # The duty officer: the crash first, its case, the morning checkpoint to sign.
    log_in(page, url, "李娜")
    rows = page.locator("table.feed tbody tr")
    assert rows.first.locator(".level").inner_text() == "重大突发事态"
    first = rows.filter(has_text="相撞").first
    assert first.locator(".level").inner_text() == "重大突发事态"
    shot(page, "demo-desk")
    first.locator("td").last.get_by_role("link").click()
    assert page.url.startswith(f"{url}/cases/")
    crash = page.url.rsplit("/", 1)[1]
    assert "范县县委宣传部" in page.locator("main").inner_text()
    page.get_by_role("link", name="巡查签收").click()
    # The demo's clock is 09:00: the 08:30 checkpoint is half an hour late, and may still be signed.
    assert "上午 08:30 已超时未签收" in page.locator("ul.checkpoints").inner_text()
    assert "相撞" in page.locator("form.signoff").inner_text()
    shot(page, "demo-signoff")
    assert page.goto(f"{url}/board").status == 403
    out(page)

    # The 范县 unit claims the crash from its inbox.
    log_in(page, url, "李明")
    page.get_by_role("link", name="单位待办").click()
    page.locator("table.cases").get_by_role("link", name=crash).click()
    page.get_by_role("button", name="认领").click()
    assert page.locator(".state").inner_text() == "已认领"
    shot(page, "demo-case-claimed")
    out(page)

    # The supervisor sees the rest waiting, and the claim on the audit trail.
    log_in(page, url, "陈静")
    page.get_by_role("link", name="督办看板").click()
    waiting = page.locator("main").inner_text()
    assert "待认领" in waiting
    assert crash not in page.locator("table.cases").first.inner_text()  # no longer overdue nor unclaimed
    shot(page, "demo-board")
    with page.expect_download() as download:
        page.locator(".downloads").get_by_role("link", name="Word").click()
    assert download.value.suggested_filename == "2026年第四季度政务舆情认领回应情况通报.docx"
    page.goto(f"{url}/audit?account=%E6%9D%8E%E6%98%8E")
    assert "认领" in page.locator("table.audit").inner_text()
    out(page)

    # An analyst reads the desk, and is kept off sign-off and the board.
    log_in(page, url, "赵敏")
    assert page.locator("table.feed tbody tr").count() > 0
    for path in ("/signoff", "/board", "/audit"):
        assert page.goto(f"{url}{path}").status == 403
    page.goto(f"{url}/cases/{crash}")
    assert page.get_by_role("heading", name="办理", exact=True).count() == 0
    shot(page, "demo-analyst")


def test_an_analyst_searches_as_rules_are_written_and_takes_the_results_away(demo_console: str, page) -> None:
    from io import BytesIO
    from urllib.parse import quote

    from openpyxl import load_workbook

    url = demo_console
    log_in(page, url, "赵敏")
    page.get_by_role("link", name="检索").click()
    page.get_by_label("检索式").fill("濮阳")
    page.get_by_role("button", name="检索").click()
    everything = int(page.get_by_role("status").inner_text().split("共 ")[1].split(" 条")[0])
    # A word after a minus leaves posts out, as in a rule: 濮阳's posts about a drill are gone.
    page.get_by_label("检索式").fill("濮阳 -演练")
    page.get_by_role("button", name="检索").click()
    count = page.get_by_role("status").inner_text()
    left = int(count.split("共 ")[1].split(" 条")[0])
    assert 0 < left < everything
    hits = page.locator("ol.hits li.hit")
    assert hits.count() == left
    assert "演练" not in page.locator("ol.hits").inner_text()
    assert hits.first.locator("mark").first.inner_text() == "濮阳"
    shot(page, "search")
    # Narrowed to one county, newest first: each result names it, and the times go down.
    page.get_by_label("县区").select_option("范县")
    page.get_by_label("排序").select_option("newest")
    page.get_by_role("button", name="检索").click()
    metas = page.locator("ol.hits .hit-meta").all_inner_texts()
    assert metas
    assert all("范县" in meta for meta in metas)
    assert [m.split(" · ")[0] for m in metas] == sorted((m.split(" · ")[0] for m in metas), reverse=True)

    # The results as Excel: one row per result under the query and the headings.
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel").click()
    sheet = load_workbook(BytesIO(download.value.path().read_bytes())).active
    assert sheet["A1"].value == "检索式：濮阳 -演练"
    assert [c.value for c in sheet[2]][:3] == ["发布时间", "级别", "属地"]
    assert sheet.max_row == 2 + len(metas)
    assert all(row[2].value == "范县" or "范县" in (row[2].value or "") for row in sheet.iter_rows(min_row=3))

    # A mistake is named where it is; markup typed in is shown as text.
    page.goto(f"{url}/search?q={quote('化工厂 (排污')}")
    assert (
        "检索式「化工厂 (排污」第 5 个字符处：左括号 ( 没有对应的右括号 )"
        in page.locator("main").inner_text()
    )
    page.goto(f"{url}/search?q={quote('<script>alert(1)</script>')}")
    assert page.get_by_label("检索式").input_value() == "<script>alert(1)</script>"
    assert page.locator("main script").count() == 0
    out(page)

    # A unit's account has its own cases, not every post.
    log_in(page, url, "李明")
    assert page.get_by_role("link", name="检索").count() == 0
    assert page.goto(f"{url}/search?q=%E6%BF%AE%E9%98%B3").status == 403


def test_an_analyst_writes_a_rule_sees_what_it_would_catch_and_saves_a_version(
    demo_console: str, page
) -> None:
    url = demo_console
    log_in(page, url, "赵敏")
    page.get_by_role("link", name="规则").click()
    rules = page.locator("table.rules tbody tr")
    total = rules.count()
    assert total > 40
    # The demo's crash matched the deaths rule within the last day.
    deaths = page.locator("table.rules tbody tr", has=page.get_by_role("link", name="emergency-deaths"))
    assert int(deaths.locator("td").nth(5).inner_text()) >= 1

    page.get_by_role("link", name="新增规则").click()
    page.get_by_label("编号").fill("parking-test")
    page.get_by_label("名称").fill("停车难")
    page.get_by_label("类别").fill("民生诉求")
    # Checked as it is typed: the mistake is named at its character.
    page.get_by_label("表达式").fill("停车 (难|乱")
    check = page.locator("#expr-check")
    check.get_by_text("第 4 个字符处：左括号 ( 没有对应的右括号 )").wait_for()
    assert check.locator("mark.bad").inner_text() == "("
    page.get_by_label("表达式").fill("停车 (难|乱|位太少)")
    check.get_by_text("表达式正确").wait_for()
    # Previewed on the stored posts of the last 7 days before it is saved.
    page.get_by_role("button", name="预览（近7天的帖子）").click()
    shown = page.locator("#preview section.preview")
    shown.wait_for()
    figures = shown.locator("ul.figures").inner_text()
    assert "修改后命中" in figures
    new = int(figures.split("新增命中 ")[1].split(" 条")[0])
    assert new >= 1
    assert shown.locator("ol.hits li").count() == min(new, 8)
    assert shown.locator("ol.hits mark").first.inner_text().startswith("停车")
    shot(page, "rule-preview")
    page.get_by_label("修改原因").fill("群众反映停车难")
    page.get_by_role("button", name="保存为新版本").click()
    assert "下一次巡查起生效" in page.get_by_role("status").inner_text()
    assert rules.count() == total + 1
    page.get_by_label("只看近7天从未命中的").check()
    page.get_by_role("button", name="筛选").click()
    assert "parking-test" in page.locator("table.rules").inner_text()
    page.get_by_role("link", name="历史版本").click()
    newest = page.locator("section.version").first
    assert "（现行）" in newest.inner_text()
    assert "群众反映停车难" in newest.inner_text()
    assert "parking-test" in newest.locator("table.diff").inner_text()
    out(page)

    # Duty staff read the rules but do not change them; a unit does not see them.
    log_in(page, url, "李娜")
    page.goto(f"{url}/rules")
    assert page.locator("table.rules tbody tr").count() == total + 1
    assert page.get_by_role("link", name="新增规则").count() == 0
    assert page.goto(f"{url}/rules/parking-test").status == 403
    out(page)
    log_in(page, url, "李明")
    assert page.goto(f"{url}/rules").status == 403


def test_an_analyst_marks_rule_hits_and_each_rule_gets_its_precision(demo_console: str, page) -> None:
    url = demo_console
    log_in(page, url, "赵敏")
    page.goto(f"{url}/search?q=%E5%8C%96%E5%B7%A5%E5%8E%82")  # 化工厂
    marks = page.locator("ul.rule-hits li .rule-mark")
    assert marks.count() >= 2
    first, second = marks.nth(0), marks.nth(1)
    first_rule, second_rule = (m.inner_text().split("「")[1].split("」")[0] for m in (first, second))
    first.get_by_role("button", name="标为误报").click()
    page.locator("ul.rule-hits li .rule-mark").nth(0).get_by_text("已标注：误报").wait_for()
    second.get_by_role("button", name="标为命中正确").click()
    page.locator("ul.rule-hits li .rule-mark").nth(1).get_by_text("已标注：命中正确").wait_for()
    # The marks stay with the posts.
    page.reload()
    assert "已标注：误报" in page.locator("ul.rule-hits li .rule-mark").nth(0).inner_text()
    shot(page, "search-marks")

    page.goto(f"{url}/rules")

    def precision(name: str) -> str:
        row = page.locator("table.rules tbody tr", has=page.get_by_text(name, exact=True))
        return row.locator("td").nth(8).inner_text()

    if first_rule == second_rule:  # one rule's hits on two posts: one right of two
        assert precision(first_rule) == "50%\n1/2 条标注"
    else:
        assert precision(first_rule) == "0%\n0/1 条标注"
        assert precision(second_rule) == "100%\n1/1 条标注"
    assert "未标注" in page.locator("table.rules").inner_text()
    out(page)
    log_in(page, url, "陈静")
    page.goto(f"{url}/audit?action=rule_mark")
    assert page.locator("table.audit tbody tr").count() == 2
    assert "赵敏" in page.locator("table.audit").inner_text()
    # Duty staff see the marks but do not mark.
    out(page)
    log_in(page, url, "李娜")
    page.goto(f"{url}/search?q=%E5%8C%96%E5%B7%A5%E5%8E%82")
    assert "已标注：误报" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="标为误报").count() == 0


def test_an_analyst_corrects_a_post_and_the_labels_train_the_model(
    demo_console: str, demo_env: dict[str, str], page
) -> None:
    url = demo_console
    log_in(page, url, "赵敏")
    page.goto(f"{url}/search?q=%E5%81%9C%E8%BD%A6")  # 停车
    page.get_by_role("link", name="研判详情").first.click()
    assert page.url.startswith(f"{url}/posts/")
    text = page.locator("article.post-text").inner_text()
    assert "停车" in text
    judged = page.locator("table.judged")
    sentiment = judged.locator("tr", has=page.get_by_role("rowheader", name="情感倾向"))
    model_said = sentiment.locator("td").nth(0).inner_text()
    assert "未更正" in sentiment.inner_text()
    assert "理由" in page.locator("section.analysis").inner_text()
    # The analyst reads it as neutral, and as 范县's; each is kept beside the model's judgement.
    sentiment.get_by_label("情感倾向更正为").select_option("neutral")
    sentiment.get_by_role("button", name="记录").click()
    assert page.get_by_role("status").inner_text() == "更正已记录"
    county = page.locator("table.judged tr", has=page.get_by_role("rowheader", name="属地县区"))
    county.get_by_label("属地县区更正为").select_option("范县")
    county.get_by_role("button", name="记录").click()
    sentiment = page.locator("table.judged tr", has=page.get_by_role("rowheader", name="情感倾向"))
    assert sentiment.locator("td").nth(0).inner_text() == model_said
    assert "中性" in sentiment.locator("td").nth(1).inner_text()
    assert "赵敏" in sentiment.locator("td").nth(1).inner_text()
    shot(page, "post-corrected")

    page.goto(f"{url}/labels")
    rows = page.locator("table.agreement tbody tr")
    assert rows.nth(0).locator("td").nth(0).inner_text() == "1"  # one post's sentiment labelled
    assert rows.nth(3).locator("td").nth(2).inner_text() == "尚无标注"  # no department labelled yet
    out(page)

    # The sentiment labels leave in the format `yuqing train sentiment --labels` reads.
    exported = yuqing("labels", "export", "--demo", env=demo_env)
    assert exported.returncode == 0, exported.stderr
    (line,) = [json.loads(x) for x in exported.stdout.splitlines()]
    assert line["label"] == "中性"
    assert "停车" in line["text"]
    # A unit's account neither reads nor corrects posts.
    log_in(page, url, "李明")
    assert page.goto(f"{url}/labels").status == 403


def test_a_post_page_shows_its_evidence_copy_and_whether_it_is_intact(
    demo_console: str, demo_env: dict[str, str], page
) -> None:
    import hashlib
    from pathlib import Path

    from config.env import Env
    from pipeline import evidence

    url = demo_console
    log_in(page, url, "李娜")
    page.goto(f"{url}/search?q=%E5%81%9C%E8%BD%A6")  # 停车
    page.get_by_role("link", name="研判详情").first.click()
    post_id = page.url.split("/posts/", 1)[1]
    assert "尚未存证" in page.locator("section.evidence").inner_text()

    # A copy as the evidence round leaves it (a PNG and the page's HTML, with their hashes).
    demo = Env(YUQING_DATA_DIR=Path(demo_env["YUQING_DATA_DIR"])).demo_dir
    folder = evidence.folder_of(Env(YUQING_DATA_DIR=demo), post_id)
    folder.mkdir(parents=True)
    html = "<html><body><script>alert(1)</script>濮阳县城区停车难</body></html>".encode()
    png = page.screenshot()
    (folder / "page.html").write_bytes(html)
    (folder / "screenshot.png").write_bytes(png)
    manifest = {
        "status": "ok",
        "post_id": post_id,
        "url": "https://liuyan.people.com.cn/threads/content?tid=1",
        "final_url": "https://liuyan.people.com.cn/threads/content?tid=1",
        "captured_at": "2026-11-23T09:05:00+08:00",
        "files": {
            "page.html": hashlib.sha256(html).hexdigest(),
            "screenshot.png": hashlib.sha256(png).hexdigest(),
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    page.reload()
    kept = page.locator("section.evidence").inner_text()
    assert "2026-11-23 09:05 截取自" in kept
    assert "文件与记录的 SHA-256 一致" in kept
    assert hashlib.sha256(html).hexdigest() in kept
    shot_url = page.get_by_role("link", name="查看", exact=True).get_attribute("href")
    answer = page.request.get(f"{url}{shot_url}")
    assert answer.headers["content-type"] == "image/png"
    assert answer.body() == png
    # The original's markup is handed over as a file, never shown as a page of the console.
    html_url = page.get_by_role("link", name="下载", exact=True).get_attribute("href")
    download = page.request.get(f"{url}{html_url}")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")
    (folder / "page.html").write_bytes(html + b"<!-- changed -->")
    page.reload()
    assert "文件与记录的 SHA-256 不一致，可能已被改动" in page.locator("section.evidence").inner_text()


def test_an_event_page_shows_its_posts_over_time_its_counties_alerts_and_case(
    demo_console: str, demo_env: dict[str, str], page
) -> None:
    from pathlib import Path

    from pipeline.events import EventStore

    url = demo_console
    # The 柳屯镇 discharge as the demo joined it: of the events its posts are in, the one with most posts
    # (which posts join first depends on the order the crawls bring them in).
    found = yuqing("search", "化工厂", "偷排", "--json", "--demo", env=demo_env).stdout.splitlines()
    events = EventStore(Path(demo_env["YUQING_DATA_DIR"]) / "demo" / "events.sqlite3")
    try:
        ids = {json.loads(line)["analysis"]["event_id"] for line in found}
        event = max(ids, key=lambda e: len(events.posts_of(e)))
    finally:
        events.close()
    log_in(page, url, "陈静")
    page.goto(f"{url}/search?q=%E5%8C%96%E5%B7%A5%E5%8E%82%20%E5%81%B7%E6%8E%92")  # 化工厂 偷排
    page.locator("ol.hits li.hit a[href^='/posts/']").first.click()
    page.goto(f"{url}/events/{event}")
    assert page.url.startswith(f"{url}/events/")
    main = page.locator("main")
    total = int(main.inner_text().split("共 ")[1].split(" 条信息")[0])
    assert total >= 2  # the 柳屯镇 discharge was reported by several sources
    assert "涉及县区 濮阳县" in main.inner_text()
    lines = page.locator("svg.curve polyline")
    table = page.locator("table.curve-table")
    sources = table.locator("thead th").count() - 1
    assert lines.count() == sources
    counted = sum(int(cell) for cell in table.locator("tbody td.num:not(:first-child)").all_inner_texts())
    assert counted == total
    assert page.locator("section[aria-label='信息'] ol.hits li").count() == total
    alerts = page.locator("section[aria-label='预警与案件'] li .level")
    assert alerts.count() >= 1
    case = page.locator("section[aria-label='预警与案件'] h3 a")
    assert case.count() == 1
    assert "立案" in page.locator("section[aria-label='预警与案件'] table.history").inner_text()
    shot(page, "event")
    from io import BytesIO

    from docx import Document

    with page.expect_download() as download:
        page.locator(".downloads").get_by_role("link", name="Word").click()
    report = [p.text for p in Document(BytesIO(download.value.path().read_bytes())).paragraphs]
    assert "濮阳市政务舆情专报" in report
    assert any(f"共发现相关信息 {total} 条" in line for line in report)
    case.click()
    assert page.url.startswith(f"{url}/cases/")

    # A name the event had before a later post showed it to be part of another: the link leads there.
    events = EventStore(Path(demo_env["YUQING_DATA_DIR"]) / "demo" / "events.sqlite3")
    try:
        events.merge(["event:example:earlier-name"], event)
    finally:
        events.close()
    page.goto(f"{url}/events/event:example:earlier-name")
    assert page.url == f"{url}/events/{event}"
    assert f"共 {total} 条信息" in page.locator("main").inner_text()


def test_the_days_log_downloads_as_word_for_the_office_and_its_own_for_a_unit(
    demo_console: str, page
) -> None:
    from io import BytesIO

    from docx import Document

    url = demo_console
    log_in(page, url, "李娜")
    with page.expect_download() as download:
        page.locator(".downloads").get_by_role("link", name="Word").click()
    assert download.value.suggested_filename == "政务舆情日志-20261123.docx"
    document = Document(BytesIO(download.value.path().read_bytes()))
    texts = [p.text for p in document.paragraphs]
    assert "濮阳市政务舆情日志" in texts
    assert "相撞" in "".join(texts)
    assert page.request.get(f"{url}/log.docx?date=2026-11-32").status == 400
    with page.expect_download() as pdf:
        page.locator(".downloads").get_by_role("link", name="PDF").click()
    assert pdf.value.suggested_filename == "政务舆情日志-20261123.pdf"
    assert pdf.value.path().read_bytes().startswith(b"%PDF-")
    out(page)
    # A unit gets its own log: its own cases only.
    log_in(page, url, "李明")
    with page.expect_download() as download:
        page.locator(".downloads", has_text="本单位今日舆情日志").get_by_role("link", name="Word").click()
    assert download.value.suggested_filename == "范县县委宣传部政务舆情日志-20261123.docx"
    own = [p.text for p in Document(BytesIO(download.value.path().read_bytes())).paragraphs]
    assert "范县县委宣传部政务舆情日志" in own
    assert "清丰" not in "".join(own)


def test_the_dashboard_counts_the_alerts_the_desk_lists(demo_console: str, page) -> None:
    url = demo_console
    log_in(page, url, "陈静")
    page.get_by_role("link", name="看板", exact=True).click()
    main = page.locator("main")
    total = int(main.inner_text().split("共 ")[1].split(" 条涉本地预警")[0])
    table = page.locator("table.day-table tbody td.num:not(:first-child)").all_inner_texts()
    assert sum(int(cell) for cell in table) == total > 0
    assert page.locator("svg.chart rect").count() >= 1
    tile = page.locator("svg.tiles g", has=page.locator("text", has_text="范县"))
    fan = int(tile.locator("text").last.text_content() or "")
    page.goto(f"{url}/desk?county=%E8%8C%83%E5%8E%BF")  # 范县
    assert page.locator("table.feed tbody tr").count() == fan
    page.goto(f"{url}/dashboard?days=30")
    assert "近 30 天共" in page.locator("main").inner_text()
    busiest = page.locator("ol.busiest li a")
    assert busiest.count() >= 1
    busiest.first.click()
    assert page.url.startswith(f"{url}/events/")
    shot(page, "dashboard-event")
    out(page)
    log_in(page, url, "李明")
    assert page.goto(f"{url}/dashboard").status == 403
