"""The 凤凰网 spider on tests/fixtures/ifeng: the column page's embedded `allData`, the JSONP batches after
it, article pages read from `allData.docData`, and pages that lack it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import scrapy

from pipeline.items import SHANGHAI, validate_post
from spiders.ifeng_news import IfengNewsSpider
from spiders.parsing.layouts import AllDataError, parse_all_data
from tests.spiders.portals import ROUND_2_AT, Recordings, env, follow, make_spider, stats

pytestmark = pytest.mark.usefixtures(env.__name__)

COLUMN = "https://news.ifeng.com/shanklist/3-35191-/"
DEMOLITION = "8pQy3Vb2kXz"  # 南乐县元村镇
EDITORIAL = "8pQxqDf7Ljm"  # an original: empty source, byline 凤凰网资讯
IFENG = Recordings("ifeng")


def patrol(round_: int = 1):
    crawler = make_spider(IfengNewsSpider, [COLUMN])
    posts, made = follow(IFENG, crawler.first_requests(), round_)
    return crawler, posts, made


def test_all_data_is_read_whatever_follows_it():
    assert parse_all_data('<script>var allData = {"a": [1, "};"]};\nvar adKeys = [];</script>') == {
        "a": [1, "};"]
    }
    with pytest.raises(AllDataError, match="页面上没有 var allData = 脚本"):
        parse_all_data("<html></html>")
    with pytest.raises(AllDataError, match="不是有效的 JSON"):
        parse_all_data("var allData = {broken")


def test_first_patrol_reads_the_column_then_the_next_batch():
    crawler, posts, made = patrol()
    assert len(posts) == 6  # five on the column page (one more is a video), one in the next batch
    # The next batch is asked for after the last entry: its id and its time (2026-11-22 20:15:44) in ms.
    after_last = (
        "https://shankapi.ifeng.com/shanklist/_/getColumnInfo/_/dynamicFragment/7401903366027725854/"
        "1795349744000/20/3-35191-/getColumnInfoCallback?callback=getColumnInfoCallback"
    )
    assert [r.url for r in made if "shankapi" in r.url] == [after_last]
    assert not any("v.ifeng.com" in r.url for r in made)
    assert stats(crawler) == {}
    assert stats(crawler, "crawl") == {"list_pages": 2, "too_old": 2, "posts": 6}
    by_id = {p.id: p for p in posts}
    demolition = by_id[f"ifeng:{DEMOLITION}"]
    assert demolition.title == "南乐县元村镇拆迁户：补偿还没谈拢，房子夜里被推了"
    assert demolition.published_at == datetime(2026, 11, 23, 8, 44, 51, tzinfo=SHANGHAI)
    assert (demolition.media, demolition.author) == ("凤凰网河南", "刘畅")
    assert len(demolition.text.split("\n")) == 3
    editorial = by_id[f"ifeng:{EDITORIAL}"]
    assert (editorial.media, editorial.author) == ("凤凰网", "凤凰网资讯")
    for post in posts:
        assert validate_post(post) is post
        assert post.published_at.utcoffset() == timedelta(hours=8)
        for furniture in ("24小时热文", "凤凰网首页", "本文为凤凰网", "allData", "<"):
            assert furniture not in post.text


def test_second_patrol(monkeypatch):
    first, _, _ = patrol()
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    _, posts, _ = patrol(2)
    assert [p.id for p in posts] == ["ifeng:8pR1kLm5QaZ"]


def test_an_article_without_all_data_is_a_counted_layout_problem(caplog):
    crawler = make_spider(IfengNewsSpider, [COLUMN])
    listing = crawler.read_list(IFENG.answer(scrapy.Request(COLUMN)), 1).listings[0]
    page = IFENG.answer(scrapy.Request(listing.url))
    html = page.text
    start = html.index("var allData = ")
    stripped = page.replace(body=(html[:start] + html[html.index("var adKeys") :]).encode())
    [post] = list(crawler.parse_article(stripped, listing))  # the visible text is still there
    assert "拆迁补偿尚在协商" in post.text
    assert stats(crawler) == {"no_body": 1}
    assert "页面上没有 var allData = 脚本; the layout rule failed" in caplog.text
