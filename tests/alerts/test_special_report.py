"""The 专报 of one event (`yuqing special EVENT --out …docx`), on the demo's 柳屯镇 discharge: the four
sections in order, every figure counted from the event's stored posts, every quote taken from one of them,
all of them in the appendix with their ids, the posts-per-hour chart, and the handling as the case records
it; an unknown event is refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from docx import Document

from pipeline.events import EventStore
from pipeline.store.sqlite import SqliteStore
from tests.helpers import office_env, run_demo, yuqing


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = office_env(tmp_path_factory.mktemp("special") / "var")
    run_demo(env)
    return env


def discharge_event(env: dict[str, str]) -> str:
    found = yuqing("search", "化工厂", "偷排", "--json", "--demo", env=env)
    ids = {json.loads(line)["analysis"]["event_id"] for line in found.stdout.splitlines()}
    events = EventStore(Path(env["YUQING_DATA_DIR"]) / "demo" / "events.sqlite3")
    try:
        return max(ids, key=lambda e: len(events.posts_of(e)))
    finally:
        events.close()


def test_an_events_special_report_is_made_of_its_stored_posts_and_its_case(
    demo: dict[str, str], tmp_path: Path
) -> None:
    event = discharge_event(demo)
    data = Path(demo["YUQING_DATA_DIR"]) / "demo"
    events = EventStore(data / "events.sqlite3")
    try:
        listed = events.posts_of(event)
    finally:
        events.close()
    assert len(listed) >= 3

    target = tmp_path / "专报.docx"
    done = yuqing("special", event, "--out", str(target), "--demo", env=demo)
    assert done.returncode == 0, done.stderr
    document = Document(str(target))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:2] == ["内部资料　注意保存", "濮阳市政务舆情专报"]
    headings = [t for t in texts if re.match(r"^[一二三四]、", t)]
    assert headings == ["一、舆情概况", "二、传播情况", "三、内容分析", "四、处置情况与建议"]
    overview = texts[texts.index("一、舆情概况") + 1]
    assert f"共发现相关信息 {len(listed)} 条" in overview
    assert "涉及濮阳县" in overview
    assert len(document.inline_shapes) == 1  # the posts-per-hour chart

    # Every quote is a post's own words; every post is in the appendix, with its id in the store.
    store = SqliteStore(data / "store" / "posts.sqlite3", read_only=True)
    try:
        posts = {post_id: store.get(post_id) for post_id, _, _ in listed}
    finally:
        store.close()
    flat = [" ".join((doc or {}).get("text", "").split()) for doc in posts.values()]
    analysis = texts[texts.index("三、内容分析") + 1 : texts.index("四、处置情况与建议")]
    quotes = [q.removesuffix("……") for line in analysis for q in re.findall(r"「(.+?)」（", line)]
    assert quotes
    assert all(any(q in text for text in flat) for q in quotes)
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows][1:]
    assert sorted(row[5] for row in rows) == sorted(posts)
    assert all(posts[row[5]] is not None and posts[row[5]]["url"] == row[4] for row in rows)

    handling = texts[texts.index("四、处置情况与建议") + 1 :]
    assert handling[0].startswith("案件 ")
    assert any(line.startswith("认领时限") for line in handling)
    assert any(line.startswith("按规定应做到：责任单位在") for line in handling)


def test_an_unknown_event_is_refused(demo: dict[str, str], tmp_path: Path) -> None:
    done = yuqing("special", "event:none", "--out", str(tmp_path / "专报.docx"), "--demo", env=demo)
    assert done.returncode == 2
    assert "没有事件 event:none" in done.stderr
    assert not (tmp_path / "专报.docx").exists()


def test_the_review_of_a_major_event_holds_each_deadline_against_when_it_was_met(tmp_path: Path) -> None:
    env = office_env(tmp_path / "var")
    run_demo(env)
    for args in (
        ("管理员", "--role", "admin"),
        ("李明", "--role", "unit", "--unit", "范县县委宣传部", "--as", "管理员"),
    ):
        assert yuqing("user", "add", *args, "--demo", env=env).returncode == 0
    cases = [json.loads(line) for line in yuqing("cases", "--json", "--demo", env=env).stdout.splitlines()]
    # The 范县 crash: a 重大突发事态 that 范县县委宣传部 claims (the demo may hold other major cases).
    crash = next(
        c
        for c in cases
        if c["level"] == "重大突发事态" and "范县县委宣传部" in json.dumps(c, ensure_ascii=False)
    )
    # Claimed ten minutes in, well before 09:30; the first release twenty minutes after its 10:00 limit.
    at = {**env, "YUQING_NOW": "2026-11-23T09:10:00+08:00"}
    assert yuqing("claim", crash["short_id"], "--as", "李明", "--demo", env=at).returncode == 0
    late = {**env, "YUQING_NOW": "2026-11-23T10:20:00+08:00"}
    release = (
        "respond",
        crash["short_id"],
        "--kind",
        "first_release",
        "--url",
        "https://www.puyang.gov.cn/1",
    )
    done = yuqing(*release, "--as", "李明", "--demo", env=late)
    assert done.returncode == 0, done.stderr

    target = tmp_path / "总结评估.docx"
    event = crash["alerts"][0].split("@")[0]
    made = yuqing("special", event, "--review", "--out", str(target), "--demo", env=late)
    assert made.returncode == 0, made.stderr
    texts = [p.text for p in Document(str(target)).paragraphs if p.text]
    assert texts[1] == "濮阳市重大政务舆情总结评估"
    timeline = texts[texts.index("一、事件经过") + 1 : texts.index("二、时限执行情况")]
    assert timeline[0].endswith("首发相关信息。")
    assert any("认领（李明·范县县委宣传部）" in line for line in timeline)
    deadlines = texts[texts.index("二、时限执行情况") + 1 : texts.index("三、评估")]
    assert "认领：时限 11-23 09:30；11-23 09:10 由范县县委宣传部完成，按时。" in deadlines
    assert "首次发布：时限 11-23 10:00；11-23 10:20 由范县县委宣传部完成，逾期 20 分。" in deadlines
    verdict = texts[texts.index("三、评估") + 1]
    assert "按时完成：认领。" in verdict
    assert "逾期或未完成：首次发布。" in verdict
