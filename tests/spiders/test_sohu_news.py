"""The 搜狐 spider on tests/fixtures/sohu: the channel feed, article pages, paging and incremental patrols."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipeline.items import SHANGHAI, validate_post
from spiders.sohu_news import SohuNewsSpider, parse_feed, with_page
from tests.spiders.portals import ROUND_2_AT, Recordings, env, follow, make_spider, stats

pytestmark = pytest.mark.usefixtures(env.__name__)

FEED = "https://v2.sohu.com/public-api/feed?scene=CHANNEL&sceneId=10&page=1&size=20"
CRASH = "902118734"  # 范县 collision
SOHU = Recordings("sohu")


def patrol(round_: int = 1):
    crawler = make_spider(SohuNewsSpider, [FEED])
    posts, made = follow(SOHU, crawler.first_requests(), round_)
    return crawler, posts, made


def test_feed_entries():
    entries, listings, errors = parse_feed(SOHU.file("feed_scene10_page1.json").read_bytes())
    assert (len(entries), len(listings), errors) == (5, 5, [])
    crash = listings[0]
    assert crash.native_id == CRASH
    assert crash.url == "https://www.sohu.com/a/902118734_121106991"
    assert crash.published_at == datetime(2026, 11, 23, 8, 52, 10, tzinfo=SHANGHAI)
    assert crash.media == "濮阳网"


def test_paging_keeps_the_other_parameters():
    assert with_page(FEED, 2) == FEED.replace("page=1", "page=2")


def test_first_patrol():
    crawler, posts, made = patrol()
    assert len(posts) == 7
    assert [r.url for r in made if "public-api" in r.url] == [FEED, with_page(FEED, 2)]
    assert stats(crawler) == {}
    assert stats(crawler, "crawl") == {"list_pages": 2, "too_old": 2, "posts": 7}
    crash = next(p for p in posts if p.id == f"sohu:{CRASH}")
    assert crash.title == "范县货车与面包车相撞致3死2伤 当地成立事故调查组"
    assert crash.published_at == datetime(2026, 11, 23, 8, 52, 10, tzinfo=SHANGHAI)  # the feed's seconds
    assert (crash.media, crash.author) == ("濮阳网", "王莹")
    assert crash.text.split("\n")[0].startswith("11月22日下午，范县境内一货车与一辆面包车相撞")
    assert len(crash.text.split("\n")) == 3
    for post in posts:
        assert validate_post(post) is post
        assert post.published_at.utcoffset() == timedelta(hours=8)
        for furniture in ("返回搜狐", "责任编辑", "平台声明", "推荐阅读", "24小时热文", "<"):
            assert furniture not in post.text


def test_second_patrol(monkeypatch):
    first, _, _ = patrol()
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    _, posts, _ = patrol(2)
    assert [p.id for p in posts] == ["sohu:902124506"]


def test_an_error_object_instead_of_the_list_is_counted(caplog):
    crawler = make_spider(SohuNewsSpider, [FEED])
    good = SOHU.answer(next(crawler.first_requests()))
    refused = good.replace(body='{"code":403,"msg":"访问受限"}'.encode())
    assert list(crawler.parse_list(refused, page=1)) == []
    assert stats(crawler) == {"api_status": 1}
    assert "expected a list, got {'code': 403, 'msg': '访问受限'}" in caplog.text
