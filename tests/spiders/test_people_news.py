"""The 人民网 spider on tests/fixtures/people: the rolling list, the keyword search (a signed-free POST),
GBK article pages in both templates, mislabelled charsets, incremental patrols and bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import scrapy

from pipeline.items import SHANGHAI, AuthorKind, validate_post
from spiders.people_news import (
    SEARCH_API,
    PeopleNewsSpider,
    content_id_of,
    parse_rolling,
    parse_search,
    search_body,
    with_cache_buster,
)
from tests.spiders.portals import ROUND_2_AT, Recordings, env, follow, make_spider, stats

# Every test runs with its own data dir and the clock at the first patrol.
pytestmark = pytest.mark.usefixtures(env.__name__)

ROLLING = "http://news.people.com.cn/210801/211150/index.js"
WINDOW = "40630118"  # 经开区 service window, new template
DRILL = "40630071"  # 台前县 flood drill, old template, editors 王喆、宋䶮
SEARCH_ONLY = "40625510"  # found by the search, no longer rolling
ROUND_2_NEW = ["40630388", "40630301"]
ROUND_1_IDS = {
    "40630118",
    "40630095",
    "40630071",
    "40630052",
    "40630020",
    "40629987",
    "40629950",
    SEARCH_ONLY,
}
PEOPLE = Recordings("people")


def spider(**options) -> PeopleNewsSpider:
    return make_spider(PeopleNewsSpider, [ROLLING], options=options)


def patrol(round_: int = 1, **options) -> tuple[PeopleNewsSpider, list, list]:
    crawler = spider(**options)
    posts, made = follow(PEOPLE, crawler.first_requests(), round_)
    return crawler, posts, made


def test_the_rolling_url_carries_the_patrol_time_as_the_site_adds_it():
    moment = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    assert with_cache_buster(ROLLING, moment) == f"{ROLLING}?_=1795395600000"
    assert with_cache_buster(f"{ROLLING}?_=1", moment) == f"{ROLLING}?_=1795395600000"


@pytest.mark.parametrize(
    ("url", "fallback", "expected"),
    [
        ("http://henan.people.com.cn/n2/2026/1123/c351638-40630118.html", None, "40630118"),
        ("http://politics.people.com.cn/n1/2026/1123/c1001-40630095.html", "1", "40630095"),
        ("http://v.people.cn/n1/2026/1123/video.html", 40611299, "40611299"),
        ("http://v.people.cn/n1/2026/1123/video.html", None, None),
    ],
)
def test_content_ids(url, fallback, expected):
    assert content_id_of(url, fallback) == expected


def test_rolling_entries():
    body = PEOPLE.file("rolling_round1.json").read_bytes()
    items, listings, errors = parse_rolling(body)
    assert (len(items), len(listings), errors) == (8, 8, [])
    first = listings[0]
    assert first.native_id == WINDOW
    assert first.title == "濮阳经开区纪工委通报政务服务窗口“吃拿卡要”问题调查进展"
    assert first.published_at == datetime(2026, 11, 23, 8, 48, 12, tzinfo=SHANGHAI)


def test_search_records_lose_their_highlighting():
    records, listings, errors, pages = parse_search(PEOPLE.file("search_puyang_round1.json").read_bytes())
    assert (len(records), errors, pages) == (5, [], 1)
    assert "<em>" in records[0]["title"]
    assert listings[0].title == "濮阳经开区纪工委通报政务服务窗口“吃拿卡要”问题调查进展"
    assert listings[0].media == "人民网-河南频道"
    assert listings[-1].native_id == SEARCH_ONLY


def test_the_search_body_covers_the_patrol_window():
    end = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    body = json.loads(search_body("濮阳", 2, end - timedelta(hours=72), end))
    assert body == {
        "key": "濮阳",
        "page": 2,
        "limit": 10,
        "hasTitle": True,
        "hasContent": True,
        "isFuzzy": False,
        "type": 0,
        "sortType": 2,
        "startTime": 1795136400000,
        "endTime": 1795395600000,
    }


def test_first_patrol_reads_the_rolling_list_and_the_search():
    crawler, posts, made = patrol(search_keywords=["濮阳"])
    assert {p.id for p in posts} == {f"people:{i}" for i in ROUND_1_IDS}
    assert [r.method for r in made].count("POST") == 1
    assert stats(crawler) == {}
    assert stats(crawler, "crawl") == {"list_pages": 2, "search_pages": 1, "too_old": 1, "posts": 8}
    by_id = {p.id: p for p in posts}
    window = by_id[f"people:{WINDOW}"]
    assert window.title == "濮阳经开区纪工委通报政务服务窗口“吃拿卡要”问题调查进展"
    assert window.published_at == datetime(2026, 11, 23, 8, 48, 12, tzinfo=SHANGHAI)
    assert window.media == "人民网－河南频道"
    assert window.author_kind is AuthorKind.OFFICIAL_MEDIA
    assert window.author == "李昊、张文"
    assert window.text.split("\n")[0].startswith("人民网郑州11月23日电 11月22日晚，濮阳经济技术开发区纪工委")
    drill = by_id[f"people:{DRILL}"]
    assert drill.author == "王喆、宋䶮"  # GBK and GB18030-only characters survive
    assert drill.media == "人民网-河南频道"
    for post in posts:
        assert validate_post(post) is post
        assert post.published_at.utcoffset() == timedelta(hours=8)
        for furniture in ("责编", "热门推荐", "返回河南频道", "版权所有", "分享到", "\ufffd", "<"):
            assert furniture not in post.text, (post.id, furniture)


def test_without_keywords_there_is_no_search():
    _, posts, made = patrol()
    assert all(r.method == "GET" for r in made)
    assert len(posts) == 7


def test_second_patrol_reads_only_what_is_new(monkeypatch):
    first, _, _ = patrol(search_keywords=["濮阳"])
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second, posts, _ = patrol(2, search_keywords=["濮阳"])
    assert [p.id for p in posts] == [f"people:{i}" for i in ROUND_2_NEW]
    assert stats(second, "crawl")["seen"] == 12  # 7 rolling + 5 found by the search


def test_a_page_declaring_gb2312_over_utf8_bytes_is_read_as_utf8():
    crawler = spider()
    listing = parse_rolling(PEOPLE.file("rolling_round1.json").read_bytes())[1][0]
    request = scrapy.Request(listing.url, callback=crawler.parse_article, cb_kwargs={"listing": listing})
    saved = PEOPLE.file("saved/article_40630118_browser_saved.html")
    response = Recordings.response(request, saved, {"Content-Type": "text/html"})
    assert response.encoding == "gb18030"  # what the page says
    [post] = list(crawler.parse_article(response, listing))
    assert post.text.startswith("人民网郑州11月23日电")
    assert stats(crawler) == {"charset_mismatch": 1}


def test_a_changed_template_falls_back_to_the_generic_extractor_and_is_counted(caplog):
    crawler = spider()
    listing = parse_rolling(PEOPLE.file("rolling_round1.json").read_bytes())[1][0]
    request = scrapy.Request(listing.url, callback=crawler.parse_article, cb_kwargs={"listing": listing})
    original = PEOPLE.answer(request)
    changed = original.replace(body=original.body.replace(b'class="rm_txt_con cf"', b'class="article_body"'))
    [post] = list(crawler.parse_article(changed, listing))
    assert "不动产登记窗口一名工作人员存在故意刁难办事群众" in post.text
    assert post.title == listing.title
    assert stats(crawler) == {"no_body": 1}
    assert stats(crawler, "crawl") == {"generic_extract": 1, "posts": 1}
    assert "people_news: no_body: " + listing.url in caplog.text
    assert "the layout rule failed, the generic extractor read" in caplog.text


def test_broken_answers_are_counted_and_named(caplog):
    crawler = spider()
    good = PEOPLE.answer(scrapy.Request(f"{ROLLING}?_=1795395600000"))
    assert list(crawler.parse_list(good.replace(body=b'{"items": [{"id": "1"'), page=1)) == []
    data = json.loads(good.body)
    data["items"][0]["date"] = "yesterday"
    del data["items"][1]["url"]
    requests = list(crawler.parse_list(good.replace(body=json.dumps(data).encode()), page=1))
    assert len(requests) == 5  # 8 entries, 2 broken, 1 too old
    search = scrapy.Request(SEARCH_API, method="POST", meta={"keyword": "濮阳"})
    busy = Recordings.response(search, PEOPLE.file("search_puyang_round1.json"), {}).replace(
        body='{"code":"500","message":"系统繁忙","data":null}'.encode()
    )
    assert list(crawler.parse_list(busy, page=1)) == []
    assert stats(crawler) == {"bad_json": 1, "bad_entry": 2, "api_status": 1}
    assert "items[0]: " in caplog.text
    assert "has no usable date ('yesterday')" in caplog.text
    assert "code '500': '系统繁忙'" in caplog.text
