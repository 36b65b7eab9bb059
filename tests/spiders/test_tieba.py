"""The 百度贴吧 spider on the recordings in tests/fixtures/tieba: forum lists hidden in HTML comments, thread
pages, 楼中楼 replies, forum search, a GBK page under a UTF-8 label, bad input, the security-verification
page, and two real patrols through the replay server in their own processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler

from config.env import PROJECT_ROOT, get_env
from config.errors import ConfigError
from config.loader import load_file
from config.models import SourceConfig, SourcesFile
from pipeline.items import SHANGHAI, AuthorKind, Post, Source, validate_post
from pipeline.replay import ReplayServer
from spiders.base.community import PageError
from spiders.base.tieba import (
    floor_post,
    forum_list_url,
    is_verification_page,
    pages_to_read,
    parse_forum_page,
    parse_ip_location,
    parse_reply_page,
    parse_search_page,
    parse_thread_page,
    parse_total_comment,
    reply_post,
    search_url,
    thread_post,
    trailing_pages,
)
from spiders.tieba import TiebaSpider

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tieba"
BLOCKED = FIXTURES / "blocked"
ROUND_1_AT = "2026-11-23T09:00:00+08:00"
ROUND_2_AT = "2026-11-23T11:30:00+08:00"
FORUMS = ["濮阳吧", "华龙区吧", "濮阳县吧", "清丰吧", "南乐吧", "范县吧", "台前吧"]

WAGES = "10290209066"  # 清丰吧: 60 workers unpaid for half a year; two pages; paid in round 2
WAGES_FLOOR_1 = "153860697600"
WAGES_FLOOR_2 = "153860707501"  # 12 楼中楼 replies in round 1 (13 in round 2)
DEMOLITION = "10290210066"  # 南乐吧: 元村镇 house pulled down; grows only by 楼中楼 replies in round 2
DEMOLITION_FLOOR_2 = "153860813101"
CANTEEN_REPLY = "10290215233"  # 华龙区吧: new thread in round 2
PINNED = "6412000637"  # 濮阳吧 rules, pinned since 2019
OLD_PHOTOS = "10287000286"  # 范县吧, last reply 11-19: older than 72 h
WAGES_IN_PUYANG = "10290195533"  # 濮阳吧, beyond the two list pages read; found by searching 欠薪
TAIQIAN_MUSEUM = "10290209466"  # on the GBK 台前吧 list

ROUND_1_POSTS = 104  # 22 threads, 61 floors, 21 楼中楼 replies
ROUND_2_IDS = {
    f"tieba:{CANTEEN_REPLY}",
    f"tieba:{CANTEEN_REPLY}:153861318661",
    f"tieba:{CANTEEN_REPLY}:153861331202",
    f"tieba:{WAGES}",  # again, with its new reply count
    f"tieba:{WAGES}:153861327933",
    f"tieba:{WAGES}:153861339154",
    f"tieba:{WAGES}:153861349715",
    f"tieba:{WAGES}:153861354336",
    f"tieba:{WAGES}:153861296942",  # 楼中楼 on the second page of floor 2's replies
    f"tieba:{DEMOLITION}",  # again, with its new reply count
    f"tieba:{DEMOLITION}:153861312772",
    f"tieba:{DEMOLITION}:153861324653",
}


def forum_url(forum: str, page: int = 1) -> str:
    return forum_list_url(forum, page)


def thread_url(tid: str, page: int = 1) -> str:
    return f"https://tieba.baidu.com/p/{tid}?pn={page}"


def total_comment_url(tid: str, fid: str, page: int = 1) -> str:
    return f"https://tieba.baidu.com/p/totalComment?tid={tid}&fid={fid}&pn={page}"


def index(directory: Path = FIXTURES, round_: int = 1) -> dict[str, dict]:
    entries = json.loads((directory / "index.json").read_text(encoding="utf-8"))["responses"]
    table: dict[str, dict] = {}
    for entry in sorted(entries, key=lambda e: e.get("round", 1)):
        if entry.get("round", 1) <= round_:
            table[entry["url"]] = entry
    return table


def recorded(url: str, round_: int = 1, directory: Path = FIXTURES) -> Response:
    """The recorded response, of the class and with the headers production would see."""
    entry = index(directory, round_)[url]
    body = (directory / entry["file"]).read_bytes()
    cls = responsetypes.from_args(headers=entry["headers"], url=url, body=body)
    return cls(url=url, status=entry["status"], headers=entry["headers"], body=body)


def text_of(url: str, round_: int = 1) -> str:
    return recorded(url, round_).body.decode("utf-8")


NOW = datetime.fromisoformat(ROUND_1_AT)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", ROUND_1_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL", "YUQING_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def make_spider(**options) -> TiebaSpider:
    source = SourceConfig(
        name="tieba",
        spider="tieba",
        start_urls=["https://tieba.baidu.com"],
        max_pages=options.pop("max_pages", 2),
        max_age_hours=72,
        options={"forums": FORUMS, "search_words": ["欠薪", "拆迁"], **options},
    )
    return TiebaSpider.from_crawler(get_crawler(TiebaSpider), source_config=source)


@pytest.fixture
def spider(env) -> TiebaSpider:
    return make_spider()


def stats(spider: TiebaSpider, prefix: str = "yuqing/source/tieba/") -> dict[str, int]:
    found = spider.crawler.stats.get_stats().items()
    return {k.removeprefix(prefix): v for k, v in found if k.startswith(prefix)}


def done(spider: TiebaSpider) -> dict[str, int]:
    return stats(spider, "yuqing/crawl/tieba/")


def requests_of(results) -> list[scrapy.Request]:
    return [r for r in results if isinstance(r, scrapy.Request)]


def posts_of(results) -> list[Post]:
    return [r for r in results if isinstance(r, Post)]


# Forum lists ---------------------------------------------------------------------------------------------


def test_forum_list_is_read_from_the_commented_out_pagelet():
    html = text_of(forum_url("清丰"))
    assert '<code class="pagelet_html" id="pagelet_html_frs-list/pagelet/thread_list"' in html
    assert '<!--\n\n<ul id="thread_list"' in html  # the list is a comment, invisible to a plain selector
    page = parse_forum_page(html, NOW)
    assert page.forum == "清丰"
    assert page.has_next is False
    assert page.bad_entries == []
    assert [t.tid for t in page.threads] == [WAGES, "10290207733"]
    wages = page.threads[0]
    assert wages.title == "清丰县城北工地60多个农民工讨薪半年了，有人管吗"
    assert wages.author == "老周在工地"  # the nickname shown, not the account name 清丰老周在工地
    assert wages.reply_num == 47
    assert wages.is_top is False
    assert wages.abstract.startswith("清丰县城北新区那个安置房工地，我们六十多个农民工")
    assert wages.last_reply_at == datetime(2026, 11, 23, 8, 40, tzinfo=SHANGHAI)


def test_pinned_threads_and_the_pager():
    first = parse_forum_page(text_of(forum_url("濮阳")), NOW)
    assert first.has_next is True
    pinned = first.threads[0]
    assert (pinned.tid, pinned.is_top) == (PINNED, True)
    assert pinned.last_reply_at == datetime(2019, 12, 31, 23, 59, tzinfo=SHANGHAI)  # "2019-12"
    assert not any(t.is_top for t in first.threads[1:])
    assert parse_forum_page(text_of(forum_url("濮阳", 2)), NOW).has_next is True


def test_a_gbk_page_labelled_utf8_is_read_from_its_bytes(spider):
    response = recorded(forum_url("台前"))
    assert response.encoding == "utf-8"  # what the server says
    assert "\ufffd" in response.text  # and what reading it that way gives
    fixed = spider.in_true_charset(response)
    assert fixed.encoding == "gb18030"
    page = parse_forum_page(fixed.text, NOW)
    assert page.forum == "台前"
    museum = next(t for t in page.threads if t.tid == TAIQIAN_MUSEUM)
    assert museum.title == "孙口镇将军渡纪念馆周末开放吗"
    assert museum.abstract.startswith("我是王喆，想周末带孩子去将军渡纪念馆看看")  # 喆: GBK, not GB2312
    assert stats(spider) == {"charset_mismatch": 1}


# Thread pages --------------------------------------------------------------------------------------------


def test_thread_page_every_field():
    page = parse_thread_page(text_of(thread_url(WAGES)), 1)
    assert (page.tid, page.page, page.forum, page.fid) == (WAGES, 1, "清丰", "397644")
    assert page.title == "清丰县城北工地60多个农民工讨薪半年了，有人管吗"
    assert (page.reply_num, page.total_pages) == (47, 2)
    assert page.bad_floors == []
    assert [f.post_no for f in page.floors] == list(range(1, 31))
    first = page.first_floor
    assert first is not None
    assert (first.pid, first.post_no, first.author) == (WAGES_FLOOR_1, 1, "老周在工地")
    assert first.text.split("\n") == [
        "清丰县城北新区那个安置房工地，我们六十多个农民工从五月干到现在，半年工资一分没拿到。",
        "包工头说开发商没给钱，开发商说钱早给了包工头。今天大家在工地门口等了一天，没有一个人出来说句话。",
        "马上过年了，家里老人孩子都等着钱用，求大家帮忙扩散，看看到底有没有人管。",
    ]
    assert first.published_at == datetime(2026, 11, 22, 18, 40, tzinfo=SHANGHAI)
    assert first.ip_location == "河南"
    assert first.comment_num == 2
    second = page.floors[1]
    assert (second.pid, second.author, second.comment_num) == (WAGES_FLOOR_2, "濮上行者", 12)
    assert second.text.startswith("可以先打12345市长热线反映")
    last = parse_thread_page(text_of(thread_url(WAGES, 2)), 2)
    assert [f.post_no for f in last.floors] == [31, 32, 33]
    assert last.first_floor is None


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("IP属地:河南", "河南"),
        ("IP属地：中国香港", "中国香港"),
        ("IP属地:美国 ", "美国"),
        ("来自iPhone客户端", None),
        ("2026-11-23 08:12", None),
    ],
)
def test_ip_location_in_the_tail(tail, expected):
    assert parse_ip_location(tail) == expected


def test_a_deleted_thread_and_a_changed_page_are_told_apart():
    with pytest.raises(PageError) as gone:
        parse_thread_page("<html><body><div class='page404'>很抱歉，该贴已被删除。</div></body></html>")
    assert gone.value.reason == "thread_gone"
    with pytest.raises(PageError) as changed:
        parse_thread_page("<html><body><div id='app'></div></body></html>")
    assert changed.value.reason == "layout_changed"


@pytest.mark.parametrize(
    ("total", "before", "now_count", "limit", "pages"),
    [
        (2, None, 47, 2, [2]),  # first visit: the newest pages after the first
        (9, None, 250, 2, [8, 9]),
        (2, 47, 52, 2, [2]),  # grown by 5: the last page, where they are
        (9, 250, 251, 5, [8, 9]),  # one new reply may start a page or finish the one before
        (1, 5, 7, 2, []),
        (5, 90, 90, 2, []),  # not grown
    ],
)
def test_pages_read_of_a_thread(total, before, now_count, limit, pages):
    assert trailing_pages(total, before, now_count, limit) == pages


def test_pages_to_read_stay_after_the_first():
    assert pages_to_read(1, 3) == []
    assert pages_to_read(3, 5) == [2, 3]


# 楼中楼 ---------------------------------------------------------------------------------------------------


def test_total_comment_gives_the_first_ten_replies_of_each_floor():
    blocks = parse_total_comment(recorded(total_comment_url(WAGES, "397644")).body)
    assert set(blocks) == {WAGES_FLOOR_1, WAGES_FLOOR_2}
    block = blocks[WAGES_FLOOR_2]
    assert (block.total, len(block.replies), block.pages) == (12, 10, 2)
    reply = block.replies[0]
    assert reply.cid == "153860714150"
    assert reply.pid == WAGES_FLOOR_2
    assert reply.author == "老周在工地"
    assert reply.text == "考勤都在班组长手机里，我们自己有微信记录"
    assert reply.published_at == datetime(2026, 11, 22, 19, 5, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"errno":0,"errmsg":"success","data":{"comment_list":{"1":{"comment_info":[', "bad_json"),
        (b'{"errno":220034,"errmsg":"\\u60a8\\u7684\\u64cd\\u4f5c\\u592a\\u5feb","data":[]}', "api_error"),
        (b'{"errno":0,"errmsg":"success","data":{"list":[]}}', "layout_changed"),
    ],
)
def test_bad_total_comment_answers_name_what_is_wrong(body, reason):
    with pytest.raises(PageError) as error:
        parse_total_comment(body)
    assert error.value.reason == reason


def test_no_replies_comes_as_an_empty_list():
    assert (
        parse_total_comment(b'{"errno":0,"errmsg":"success","data":{"comment_list":[],"user_list":[]}}') == {}
    )


def test_reply_page_beyond_the_first_ten():
    url = f"https://tieba.baidu.com/p/comment?tid={WAGES}&pid={WAGES_FLOOR_2}&pn=2"
    replies, pages = parse_reply_page(text_of(url), WAGES_FLOOR_2)
    assert pages == 2
    assert [(r.cid, r.author, r.text) for r in replies] == [
        ("153861212460", "老周在工地", "今天早上人社局的人来工地登记了，说三天内给答复"),
        ("153861228961", "六塔乡小王", "总算有人管了"),
    ]
    assert replies[1].published_at == datetime(2026, 11, 23, 8, 5, tzinfo=SHANGHAI)
    replies, _ = parse_reply_page(text_of(url, 2), WAGES_FLOOR_2)
    assert [r.cid for r in replies][-1] == "153861296942"


# Search --------------------------------------------------------------------------------------------------


def test_search_results_are_read_from_gbk(spider):
    response = spider.in_true_charset(recorded(search_url("清丰", "欠薪")))
    assert response.encoding == "gb18030"
    results = parse_search_page(response.text)
    assert (results.no_results, results.has_next) == (False, False)
    [hit] = results.hits
    assert (hit.tid, hit.pid) == (WAGES, "153860760970")
    assert hit.title == "回复:清丰县城北工地60多个农民工讨薪半年了，有人管吗"
    assert hit.text == "欠薪的事拖不得"
    assert (hit.forum, hit.author) == ("清丰", "清丰城北人")
    assert hit.published_at == datetime(2026, 11, 22, 20, 16, tzinfo=SHANGHAI)
    assert stats(spider) == {}  # the page said GBK and was GBK


def test_a_search_without_results_is_not_an_error(spider):
    response = spider.in_true_charset(recorded(search_url("范县", "拆迁")))
    results = parse_search_page(response.text)
    assert (results.hits, results.no_results) == ([], True)
    with pytest.raises(PageError) as error:
        parse_search_page("<html><body><div class='s_main'></div></body></html>")
    assert error.value.reason == "layout_changed"


# Posts ---------------------------------------------------------------------------------------------------


def test_posts_of_a_thread_its_floors_and_replies():
    page = parse_thread_page(text_of(thread_url(WAGES)), 1)
    crawled = datetime.fromisoformat(ROUND_1_AT)
    thread = thread_post(page, crawled, thread_url(WAGES))
    assert thread is not None
    assert validate_post(thread) is thread
    assert thread.id == f"tieba:{WAGES}" == Post.make_id(Source.TIEBA, WAGES)
    assert thread.url == f"https://tieba.baidu.com/p/{WAGES}"
    assert thread.title == page.title
    assert thread.text == page.floors[0].text
    assert thread.published_at == datetime(2026, 11, 22, 18, 40, tzinfo=SHANGHAI)
    assert (thread.author, thread.author_kind, thread.media) == ("老周在工地", AuthorKind.ORDINARY, "清丰吧")
    assert (thread.counts.comments, thread.ip_location, thread.parent_id) == (47, "河南", None)
    assert thread.raw_ref == thread_url(WAGES)
    floor = floor_post(page, page.floors[1], crawled, thread_url(WAGES))
    assert floor is not None
    assert floor.id == f"tieba:{WAGES}:{WAGES_FLOOR_2}"
    assert floor.parent_id == f"tieba:{WAGES}"
    assert floor.url == f"https://tieba.baidu.com/p/{WAGES}?pid={WAGES_FLOOR_2}#{WAGES_FLOOR_2}"
    assert (floor.title, floor.counts.comments, floor.ip_location) == (None, 12, "河南")
    blocks = parse_total_comment(recorded(total_comment_url(WAGES, "397644")).body)
    under_thread = reply_post(WAGES, blocks[WAGES_FLOOR_1].replies[0], "清丰", WAGES_FLOOR_1, crawled, "x://")
    under_floor = reply_post(WAGES, blocks[WAGES_FLOOR_2].replies[0], "清丰", WAGES_FLOOR_1, crawled, "x://")
    assert under_thread is not None
    assert under_floor is not None
    assert under_thread.parent_id == f"tieba:{WAGES}"  # replies to floor 1 answer the thread itself
    assert under_floor.id == f"tieba:{WAGES}:153860714150"
    assert under_floor.parent_id == f"tieba:{WAGES}:{WAGES_FLOOR_2}"
    assert under_floor.url.endswith(f"?pid={WAGES_FLOOR_2}&cid=153860714150#153860714150")


# The spider ----------------------------------------------------------------------------------------------


def test_first_list_page_asks_for_every_young_thread_and_the_next_page(spider):
    results = list(spider.parse_forum(recorded(forum_url("濮阳")), forum="濮阳", page=1))
    urls = [r.url for r in requests_of(results)]
    assert thread_url(PINNED) not in urls  # pinned since 2019
    assert urls[-1] == forum_url("濮阳", 2)
    assert len(urls) == 6
    assert done(spider)["too_old"] == 1


def test_the_list_stops_at_max_pages_and_at_old_threads(spider):
    second = requests_of(spider.parse_forum(recorded(forum_url("濮阳", 2)), forum="濮阳", page=2))
    assert forum_url("濮阳", 3) not in [r.url for r in second]  # max_pages 2
    old = requests_of(spider.parse_forum(recorded(forum_url("范县")), forum="范县", page=1))
    assert thread_url(OLD_PHOTOS) not in [r.url for r in old]


def crawl_thread(spider: TiebaSpider, tid: str, round_: int = 1) -> list[Post]:
    """What the spider makes of one thread: its pages, replies and reply pages, as the engine would run them."""
    spider.visits.pop(tid, None)
    pending = [spider._thread_request(tid, "?", 1)]
    posts = []
    while pending:
        request = pending.pop(0)
        results = list(request.callback(recorded(request.url, round_), **request.cb_kwargs))
        pending += requests_of(results)
        posts += posts_of(results)
    return posts


def test_a_thread_with_its_second_page_replies_and_reply_pages(spider):
    posts = crawl_thread(spider, WAGES)
    ids = [p.id for p in posts]
    assert ids[0] == f"tieba:{WAGES}"
    assert len(ids) == len(set(ids)) == 1 + 32 + 15  # the thread, floors 2-33, all 楼中楼 replies
    assert all(validate_post(p) is p for p in posts)
    assert {p.parent_id for p in posts[1:]} == {
        f"tieba:{WAGES}",
        f"tieba:{WAGES}:{WAGES_FLOOR_2}",
        f"tieba:{WAGES}:153861215730",
    }
    assert spider.state.seen[WAGES] == 47  # read completely: remembered with its reply count


def test_a_second_patrol_yields_only_what_is_new(env, monkeypatch):
    first = make_spider()
    for tid in (WAGES, "10290207733", DEMOLITION):
        crawl_thread(first, tid)
    first._save_state(first, "finished")

    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second = make_spider()
    listed = requests_of(second.parse_forum(recorded(forum_url("清丰"), 2), forum="清丰", page=1))
    assert [r.url for r in listed] == [thread_url(WAGES)]  # grown from 47 to 52; the other one is unchanged
    posts = crawl_thread(second, WAGES, 2)
    assert [p.id for p in posts] == [
        f"tieba:{WAGES}",
        f"tieba:{WAGES}:153861327933",
        f"tieba:{WAGES}:153861339154",
        f"tieba:{WAGES}:153861349715",
        f"tieba:{WAGES}:153861354336",
        f"tieba:{WAGES}:153861296942",
    ]
    assert posts[0].counts.comments == 52
    posts = crawl_thread(second, DEMOLITION, 2)
    assert [p.id for p in posts] == [
        f"tieba:{DEMOLITION}",
        f"tieba:{DEMOLITION}:153861312772",
        f"tieba:{DEMOLITION}:153861324653",
    ]
    assert {p.parent_id for p in posts[1:]} == {f"tieba:{DEMOLITION}:{DEMOLITION_FLOOR_2}"}


# Bad input -----------------------------------------------------------------------------------------------


def test_a_list_page_without_its_list_is_a_changed_layout(spider, caplog):
    url = forum_url("清丰")
    page = recorded(url)
    html = page.body.decode("utf-8")
    start = html.index('<code class="pagelet_html" id="pagelet_html_frs-list/pagelet/thread_list"')
    broken = page.replace(body=(html[:start] + "</body></html>").encode("utf-8"))
    assert list(spider.parse_forum(broken, forum="清丰", page=1)) == []
    assert stats(spider)["layout_changed"] == 1
    assert (
        f"tieba: layout_changed: {url}: 清丰吧列表页：页面上和 thread_list 分片里都没有帖子列表 ul#thread_list"
        in caplog.text
    )
    # The rest of the patrol goes on; the crawl then finishes naming the problem.
    assert len(requests_of(spider.parse_forum(recorded(forum_url("南乐")), forum="南乐", page=1))) == 2
    with pytest.raises(CloseSpider) as finish:
        spider._finish_with_health(spider)
    assert finish.value.reason == "layout_changed"


def test_an_empty_forum_list_is_counted_and_names_the_finish(spider):
    page = recorded(forum_url("清丰"))
    html = page.body.decode("utf-8")
    start, end = html.index('<ul id="thread_list"'), html.index("</ul>", html.index('<ul id="thread_list"'))
    empty = page.replace(
        body=(html[:start] + '<ul id="thread_list" class="threadlist_bright">' + html[end:]).encode()
    )
    assert list(spider.parse_forum(empty, forum="清丰", page=1)) == []
    assert stats(spider) == {"empty": 1}
    with pytest.raises(CloseSpider) as finish:
        spider._finish_with_health(spider)
    assert finish.value.reason == "empty"


def test_a_floor_without_its_time_costs_only_itself(spider, caplog):
    url = thread_url(WAGES, 2)
    page = recorded(url)
    html = page.body.decode("utf-8")
    broken = page.replace(body=html.replace("2026-11-23 08:12", "", 1).encode("utf-8"))
    spider.visits.pop(WAGES, None)
    request = spider._thread_request(WAGES, "清丰", 2)
    posts = posts_of(spider.parse_thread(broken, **request.cb_kwargs))
    assert [p.id for p in posts] == [f"tieba:{WAGES}:153861215730", f"tieba:{WAGES}:153861252032"]
    assert stats(spider) == {"bad_floor": 1}
    assert "floor pid 153861233551 (div.l_post[1]): no time" in caplog.text


def test_broken_replies_are_counted_and_the_thread_is_read_again_next_time(spider, caplog):
    url = total_comment_url(WAGES, "397644")
    spider.visits.pop(WAGES, None)
    thread = spider._thread_request(WAGES, "清丰", 1)
    results = list(spider.parse_thread(recorded(thread_url(WAGES)), **thread.cb_kwargs))
    replies = next(r for r in requests_of(results) if r.url == url)
    broken = recorded(url).replace(body=b'{"errno":0,"data":{"comment_list":{"1":')
    assert list(replies.callback(broken, **replies.cb_kwargs)) == []
    assert stats(spider) == {"bad_json": 1}
    assert f"tieba: bad_json: {url}: 帖子 {WAGES} 的楼中楼：不是 JSON" in caplog.text
    for request in requests_of(results):
        if request is not replies:
            list(request.callback(recorded(request.url), **request.cb_kwargs))
    assert WAGES not in spider.state.seen  # not wholly read: asked for again next patrol


# Blocked -------------------------------------------------------------------------------------------------


def blocked_entries() -> tuple[str, dict]:
    [(list_url, redirect)] = [(u, e) for u, e in index(BLOCKED).items() if e["status"] == 302]
    return list_url, redirect


def test_the_verification_page_is_recognised():
    list_url, redirect = blocked_entries()
    target = redirect["headers"]["Location"]
    page = recorded(target, directory=BLOCKED)
    assert is_verification_page(target, page.text)
    assert is_verification_page("https://tieba.baidu.com/f?kw=x", page.text)  # by its title alone
    assert not is_verification_page(thread_url(WAGES), text_of(thread_url(WAGES)))
    assert list_url == forum_url("濮阳")


def test_a_verification_page_ends_the_crawl_as_captcha(spider, caplog):
    list_url, redirect = blocked_entries()
    target = redirect["headers"]["Location"]
    page = recorded(target, directory=BLOCKED)
    request = scrapy.Request(target, meta={"redirect_urls": [list_url]})
    response = HtmlResponse(url=target, body=page.body, headers=page.headers, request=request)
    with pytest.raises(CloseSpider) as closed:
        list(spider.parse_forum(response, forum="濮阳", page=1))
    assert closed.value.reason == "captcha"
    assert stats(spider) == {"captcha": 1}
    assert f"tieba: captcha: {list_url}: 出现验证页 {target}" in caplog.text


def test_a_403_verification_page_is_a_captcha_too(spider):
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    list_url, redirect = blocked_entries()
    body = recorded(redirect["headers"]["Location"], directory=BLOCKED).body
    request = scrapy.Request(list_url)
    response = HtmlResponse(url=list_url, status=403, body=body, request=request, encoding="utf-8")
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    with pytest.raises(CloseSpider):
        spider.fetch_failed(failure)
    assert stats(spider) == {"captcha": 1}


# Config --------------------------------------------------------------------------------------------------


def test_the_shipped_config_patrols_the_city_and_county_forums():
    shipped = load_file(PROJECT_ROOT / "config" / "sources.yaml", SourcesFile)
    tieba = next(s for s in shipped.sources if s.name == "tieba")
    assert tieba.spider == "tieba"
    assert tieba.options["forums"] == FORUMS
    assert tieba.options["search_words"]
    recordings = index(FIXTURES, 2)
    for forum in tieba.options["forums"]:
        assert forum_url(forum.removesuffix("吧")) in recordings
        for word in tieba.options["search_words"]:
            assert search_url(forum.removesuffix("吧"), word) in recordings


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{forums: []}", "sources[0].options: forums: 至少要有 1 项，现有 0 项"),
        ("{forums: [濮阳吧, 濮阳]}", "forums: 贴吧“濮阳”重复出现（forums[0] 和 forums[1]）"),
        ("{forums: [濮阳], thread_pages: 0}", "thread_pages: 不能小于 1，收到整数 0"),
        (
            "{forums: [濮阳], serch_words: [拆迁]}",
            "serch_words: 不认识这个键（多半是键名拼错了，或放错了层级）",
        ),
    ],
)
def test_a_bad_tieba_config_names_file_line_and_key(tmp_path, options, message):
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sources:\n  - name: tieba\n    spider: tieba\n    start_urls: [https://tieba.baidu.com]\n"
        f"    options: {options}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_file(path, SourcesFile)
    assert str(error.value).startswith(f"{path}:5: sources[0].options:")
    assert message.split(": ", 1)[-1] in str(error.value)


# Real crawls ---------------------------------------------------------------------------------------------


@dataclass
class Crawl:
    """A `scrapy crawl` in its own process, its log in a file so a long log never blocks it."""

    process: subprocess.Popen
    log: Path
    returncode: int | None = None
    stderr: str = ""

    def wait(self) -> Crawl:
        self.returncode = self.process.wait(timeout=180)
        self.stderr = self.log.read_text(encoding="utf-8")
        return self


def start_crawl(tmp_path: Path, server: ReplayServer, now: str, out: Path, sources: str) -> Crawl:
    config = tmp_path / "config"
    if not config.exists():
        config.mkdir()
        for yaml_file in (PROJECT_ROOT / "config").glob("*.yaml"):
            shutil.copy(yaml_file, config)
    (config / "sources.yaml").write_text(sources, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    environment.update(
        YUQING_REPLAY_URL=server.base_url,
        YUQING_DATA_DIR=str(tmp_path / "data"),
        YUQING_CONFIG_DIR=str(config),
        YUQING_NOW=now,
    )
    command = [sys.executable, "-m", "scrapy", "crawl", "tieba", "-a", "source=tieba", "-O", str(out)]
    command += ["-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with out.with_suffix(".log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log)
    return Crawl(process, out.with_suffix(".log"))


def crawl(*args: Any) -> Crawl:
    return start_crawl(*args).wait()


SOURCES = f"""sources:
  - name: tieba
    spider: tieba
    start_urls: [https://tieba.baidu.com]
    max_pages: 2
    max_age_hours: 72
    options:
      forums: [{", ".join(FORUMS)}]
      search_words: [欠薪, 拆迁]
"""


def feed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_record(tmp_path: Path) -> dict:
    path = max((tmp_path / "data" / "runs").glob("tieba-*.json"))
    return json.loads(path.read_text(encoding="utf-8"))


BLOCKED_SOURCES = (
    "sources:\n  - name: tieba\n    spider: tieba\n    start_urls: [https://tieba.baidu.com]\n"
    "    options:\n      forums: [濮阳吧]\n"
)


def test_two_patrols_and_a_blocked_one_through_the_replay_server(tmp_path):
    blocked_dir = tmp_path / "blocked"
    blocked_dir.mkdir()
    # The blocked crawl runs beside the first patrol: each is a process of its own.
    with ReplayServer(BLOCKED) as blocked_server, ReplayServer(FIXTURES) as server:
        blocked = start_crawl(
            blocked_dir, blocked_server, ROUND_1_AT, blocked_dir / "out.jsonl", BLOCKED_SOURCES
        )
        finished = crawl(tmp_path, server, ROUND_1_AT, tmp_path / "round1.jsonl", SOURCES)
        blocked.wait()
        assert finished.returncode == 0, finished.stderr[-3000:]
        items = feed(tmp_path / "round1.jsonl")
        assert len(items) == ROUND_1_POSTS, finished.stderr[-3000:]
        assert len({item["id"] for item in items}) == ROUND_1_POSTS
        assert all(status == 200 for _, status, _ in server.served)
        served = [url for _, _, url in server.served]
        assert len(served) == len(set(served))  # nothing asked for twice
        assert forum_url("濮阳", 3) not in served
        assert thread_url(PINNED) not in served
        assert thread_url(WAGES_IN_PUYANG) in served  # found only by the search

        by_id = {item["id"]: item for item in items}
        wages = by_id[f"tieba:{WAGES}"]
        assert wages["url"] == f"https://tieba.baidu.com/p/{WAGES}"
        assert wages["raw_ref"] == thread_url(WAGES)  # the original, not the replay URL
        assert (wages["source"], wages["media"], wages["author"]) == ("tieba", "清丰吧", "老周在工地")
        assert wages["published_at"] == "2026-11-22T18:40:00+08:00"
        assert wages["crawled_at"] == ROUND_1_AT
        assert (wages["counts"]["comments"], wages["ip_location"]) == (47, "河南")
        for item in items:
            assert item["text"]
            assert item["ip_location"] == "河南" or item["parent_id"]  # 楼中楼 carry no IP属地
            if item["id"].count(":") == 2:
                assert item["parent_id"] in by_id
        record = run_record(tmp_path)
        assert record["finish_reason"] == "finished"
        assert record["stats"]["yuqing/source/tieba/charset_mismatch"] == 1  # the GBK 台前吧 list
        assert record["stats"]["yuqing/crawl/tieba/threads_read"] == 22
        state = json.loads((tmp_path / "data" / "state" / "tieba.json").read_text(encoding="utf-8"))
        assert state["seen"][WAGES] == 47

        server.round = 2
        before = len(server.served)
        finished = crawl(tmp_path, server, ROUND_2_AT, tmp_path / "round2.jsonl", SOURCES)
        assert finished.returncode == 0, finished.stderr[-3000:]
        items = feed(tmp_path / "round2.jsonl")
        assert {item["id"] for item in items} == ROUND_2_IDS
        assert len(items) == len(ROUND_2_IDS)
        by_id = {item["id"]: item for item in items}
        assert by_id[f"tieba:{WAGES}"]["counts"]["comments"] == 52
        assert by_id[f"tieba:{DEMOLITION}"]["counts"]["comments"] == 7
        threads = {url for _, _, url in server.served[before:] if "/p/" in url and "?pn=" in url}
        assert threads == {
            thread_url(WAGES),
            thread_url(WAGES, 2),
            thread_url(DEMOLITION),
            thread_url(CANTEEN_REPLY),
        }

    # Baidu's verification page: nothing yielded, the crawl ends as `captcha`, counted once.
    assert blocked.returncode == 0, blocked.stderr[-3000:]
    assert feed(blocked_dir / "out.jsonl") == []
    record = run_record(blocked_dir)
    assert record["finish_reason"] == "captcha"
    assert record["stats"]["yuqing/source/tieba/captcha"] == 1
    assert f"tieba: captcha: {forum_url('濮阳')}" in blocked.stderr
