"""The 网易 spider on tests/fixtures/netease: JSONP lists served as GBK, article pages, the public comment
threads with their reply chains, threads read again when they grow, and the API's error answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipeline.items import SHANGHAI, AuthorKind, validate_post
from spiders.netease_news import (
    NeteaseNewsSpider,
    comments_url,
    docid_of,
    page_url,
    parse_news_list,
)
from tests.spiders.portals import ROUND_2_AT, Recordings, env, follow, make_spider, stats

pytestmark = pytest.mark.usefixtures(env.__name__)

LIST = "https://news.163.com/special/cm_guonei/?callback=data_callback"
CANTEEN = "KH7Q2C4R000189FH"  # 华龙区 school canteen, 5 comments then 9
WATER = "KH7PVA1L000189FH"  # 2 comments
NETEASE = Recordings("netease")


def spider(**options) -> NeteaseNewsSpider:
    return make_spider(NeteaseNewsSpider, [LIST], options=options)


def patrol(round_: int = 1, **options):
    crawler = spider(**options)
    posts, made = follow(NETEASE, crawler.first_requests(), round_)
    return crawler, posts, made


@pytest.mark.parametrize(
    ("url", "page", "expected"),
    [
        (LIST, 2, "https://news.163.com/special/cm_guonei_02/?callback=data_callback"),
        (
            "https://news.163.com/special/cm_guonei_02/?callback=data_callback",
            10,
            "https://news.163.com/special/cm_guonei_10/?callback=data_callback",
        ),
        ("https://news.163.com/special/cm_guonei_03/?callback=data_callback", 1, LIST),
    ],
)
def test_list_pages(url, page, expected):
    assert page_url(url, page) == expected


def test_a_gbk_jsonp_list():
    body = NETEASE.file("cm_guonei_page1.js").read_bytes()
    assert body.startswith(b"data_callback([")
    entries, listings, errors = parse_news_list(body)
    assert (len(entries), len(listings), errors) == (6, 6, [])
    canteen = listings[0]
    assert canteen.native_id == CANTEEN == docid_of(canteen.url)
    assert canteen.title == "濮阳华龙区一小学食堂饭菜被指有异味 区教育局：已封存食材送检"
    assert (canteen.media, canteen.comments) == ("顶端新闻", 5)


def test_first_patrol_reads_articles_and_their_comments():
    crawler, posts, made = patrol()
    articles = [p for p in posts if p.parent_id is None]
    comments = [p for p in posts if p.parent_id is not None]
    assert (len(articles), len(comments)) == (9, 7)
    assert len({p.id for p in posts}) == 16
    assert [r.url for r in made if "comment.api" in r.url] == [comments_url(CANTEEN), comments_url(WATER)]
    assert stats(crawler) == {}
    assert stats(crawler, "crawl") == {"list_pages": 2, "too_old": 2, "posts": 9, "comments": 7}
    canteen = next(p for p in articles if p.id == f"netease:{CANTEEN}")
    assert canteen.published_at == datetime(2026, 11, 23, 8, 46, 21, tzinfo=SHANGHAI)
    assert (canteen.media, canteen.author, canteen.counts.comments) == ("顶端新闻", "郭琳", 5)
    assert canteen.text.startswith("11月22日，有家长反映，濮阳市华龙区一所小学食堂")
    assert len(canteen.text.split("\n")) == 3
    by_id = {p.id: p for p in comments}
    first = by_id[f"netease:{CANTEEN}-c9231440101"]
    assert first.parent_id == canteen.id
    assert (first.author, first.ip_location, first.counts.likes) == ("濮阳宝妈", "河南省濮阳市", 36)
    assert first.author_kind is AuthorKind.ORDINARY
    reply = by_id[f"netease:{CANTEEN}-c9231440355"]
    assert reply.parent_id == first.id  # "9231440101,9231440355": a reply to that comment
    assert by_id[f"netease:{CANTEEN}-c9231440207"].author == "网易网友"  # anonymous
    for post in posts:
        assert validate_post(post) is post
        assert post.published_at.utcoffset() == timedelta(hours=8)
        for furniture in ("责任编辑", "本文来源", "举报", "相关推荐", "分享至", "<"):
            assert furniture not in post.text


def test_second_patrol_reads_new_articles_and_the_threads_that_grew(monkeypatch):
    first, _, _ = patrol()
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second, posts, _ = patrol(2)
    articles = sorted(p.id for p in posts if p.parent_id is None)
    assert articles == ["netease:KH7U2D8N000189FH", "netease:KH7VE5QM000189FH"]
    comments = [p for p in posts if p.parent_id is not None]
    assert len(comments) == 9  # the canteen thread, now 9; the water thread did not grow
    assert {p.id.split("-")[0] for p in comments} == {f"netease:{CANTEEN}"}
    assert stats(second, "crawl")["threads_grown"] == 1


def test_comments_can_be_switched_off():
    _, posts, made = patrol(comments=False)
    assert all(p.parent_id is None for p in posts)
    assert not any("comment.api" in r.url for r in made)


def test_an_error_answer_from_the_comment_api_is_counted():
    crawler = spider()
    listing = parse_news_list(NETEASE.file("cm_guonei_page1.js").read_bytes())[1][0]
    request = crawler.comments_request(listing, 0)
    good = NETEASE.answer(request)
    refused = good.replace(body=b'getData(\n{"code":"42212","message":"Illegal pagination parameters"});')
    assert list(crawler.parse_comments(refused, listing, 0)) == []
    assert stats(crawler) == {"api_status": 1}
