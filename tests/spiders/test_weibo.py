"""The 微博 source: field parsers (times, counts, IP属地, verification, text, long text) on real answers and on
the recordings in tests/fixtures/weibo, the search and timeline spiders on those recordings, refusals (login
wall, captcha, 432) and bad input, and real crawls through the replay server in their own processes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from config.env import PROJECT_ROOT, get_env
from config.errors import ConfigError
from config.loader import load_file
from config.models import SourceConfig, SourcesFile
from pipeline.items import SHANGHAI, AuthorKind, Post, Source, validate_post
from pipeline.replay import ReplayServer
from spiders.base.weibo import (
    WeiboBlocked,
    author_kind,
    check_answer,
    comments_url,
    extend_url,
    is_available,
    needs_long_text,
    parse_card_list,
    parse_comment_page,
    parse_count,
    parse_extend,
    parse_ip_location,
    post_from_comment,
    post_from_mblog,
    search_url,
    timeline_url,
    weibo_text,
)
from spiders.weibo_search import WeiboSearchSpider
from spiders.weibo_timeline import WeiboTimelineSpider
from tests.helpers import crawl, feed, recorded, run_record

FIXTURES = Path(__file__).parents[1] / "fixtures" / "weibo"
BLOCKED = FIXTURES / "blocked"
REAL = FIXTURES / "real"
BASE = "https://m.weibo.cn"
ROUND_1_AT = "2026-11-23T09:00:00+08:00"
ROUND_2_AT = "2026-11-23T11:30:00+08:00"
NOW = datetime.fromisoformat(ROUND_1_AT)
KEYWORDS = ["濮阳", "华龙区", "濮阳县", "清丰", "南乐", "范县", "台前"]
ACCOUNTS = [("7712300001", "濮阳发布"), ("7712300002", "濮阳日报"), ("7712300004", "濮阳身边事")]

PLANT = "5302043889664515"  # 濮阳县 discharge, ordinary user, 4 pictures, 1,286 comments on two pages
FORWARD = "5302170561921184"  # 濮阳身边事 forwards PLANT
NOTICE = "5302184402510091"  # 濮阳发布's 情况通报
DAHE = "5302181707366652"  # 大河报, long text
CRASH_VIDEO = "5302176326402233"  # 范县 collision video, 532 comments
CRASH_REPORT = "5302172978001716"  # 濮阳日报: 3 dead, 2 injured; in search and in the paper's timeline
WAGES = "5302166558208513"
CANTEEN = "5302162893181836"
ROUND_1_SEARCH_POSTS = {
    PLANT,
    FORWARD,
    NOTICE,
    DAHE,
    CRASH_VIDEO,
    CRASH_REPORT,
    WAGES,
    CANTEEN,
    "5301953340004615",  # 南乐 demolition video
    "5301909018062117",  # 台前 drill
    "5302136104681537",  # lottery spam
    "5302019445770758",  # tourist, IP 北京
    "5301997301114089",  # skills contest
}
PLANT_COMMENTS = {
    "5302046120010001",
    "5302047990010011",  # reply inside the first comment
    "5302049120010012",  # reply inside the first comment
    "5302163300010002",  # 濮阳县生态环境分局
    "5302048800010003",
    "5302052210010004",
    "5302090170010005",
    "5302101230010006",  # page 2
    "5302140010010007",
    "5302151200010008",
}
CRASH_COMMENTS = {
    "5302178100020001",
    "5302179200020011",
    "5302178800020002",
    "5302179900020003",
    "5302181000020004",
}
ROUND_2_NEW = {"5302218950000101", "5302207600000202", "5302195880000303", "5302211900000404"}
ROUND_2_GROWN = {PLANT, NOTICE, DAHE}
ROUND_2_COMMENTS = {
    "5302046120010001",
    "5302220100010009",
    "5302222310010010",
}  # one with more likes, two new


def weibo_ids(natives: set[str]) -> set[str]:
    return {f"weibo:{native}" for native in natives}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", ROUND_1_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL", "YUQING_WEIBO_COOKIE", "YUQING_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def search_source(**options) -> SourceConfig:
    return SourceConfig(
        name="weibo_search",
        spider="weibo_search",
        start_urls=[BASE],
        max_pages=2,
        max_age_hours=72,
        options={"keywords": KEYWORDS, **options},
    )


def make_search(**options) -> WeiboSearchSpider:
    return WeiboSearchSpider.from_crawler(
        get_crawler(WeiboSearchSpider), source_config=search_source(**options)
    )


def make_timeline() -> WeiboTimelineSpider:
    source = SourceConfig(
        name="weibo_timeline",
        spider="weibo_timeline",
        start_urls=[BASE],
        max_pages=2,
        options={
            "accounts": [{"uid": uid, "name": name} for uid, name in ACCOUNTS],
            "comment_keywords": KEYWORDS,
        },
    )
    return WeiboTimelineSpider.from_crawler(get_crawler(WeiboTimelineSpider), source_config=source)


@pytest.fixture
def spider(env) -> WeiboSearchSpider:
    return make_search()


def stats(spider, prefix: str | None = None) -> dict[str, int]:
    prefix = prefix or f"yuqing/source/{spider.source_name}/"
    found = spider.crawler.stats.get_stats().items()
    return {k.removeprefix(prefix): v for k, v in found if k.startswith(prefix)}


def done(spider) -> dict[str, int]:
    return stats(spider, f"yuqing/crawl/{spider.source_name}/")


def search_page(keyword: str, page: int = 1, round_: int = 1, directory: Path = FIXTURES) -> Response:
    return recorded(directory, search_url(BASE, keyword, page), round_)


def mblogs_of(response: Response) -> dict[str, dict]:
    """Every mblog on a recorded list, forwarded originals included, by mid."""
    found = {}
    for mblog in parse_card_list(json.loads(response.body)).mblogs:
        found[mblog["mid"]] = mblog
        if isinstance(mblog.get("retweeted_status"), dict):
            found[mblog["retweeted_status"]["mid"]] = mblog["retweeted_status"]
    return found


def split(results) -> tuple[list[Post], list[scrapy.Request]]:
    results = list(results)
    return [r for r in results if isinstance(r, Post)], [r for r in results if isinstance(r, scrapy.Request)]


def by_callback(requests: list[scrapy.Request], name: str) -> list[scrapy.Request]:
    return [r for r in requests if r.callback.__name__ == name]


def natives(posts) -> list[str]:
    return [p.id.removeprefix("weibo:") for p in posts]


# Field parsers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        ("3,862", 3862),
        ("1.2万", 12_000),
        ("1.15万", 11_500),
        ("38.6万", 386_000),
        ("100万+", 1_000_000),
        ("2.5亿", 250_000_000),
        ("转发 28", 28),
        ("评论", 0),
        ("", 0),
        (None, 0),
        (-3, 0),
        (True, 0),
    ],
)
def test_parse_count(value, expected):
    assert parse_count(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("发布于 河南", "河南"),
        ("发布于 中国香港", "中国香港"),
        ("来自河南", "河南"),
        ("来自 北京", "北京"),
        ("IP属地：河南", "河南"),
        ("IP属地:美国", "美国"),
        ("来自iPhone客户端", None),  # a client, not a place
        ("来自华为手机", None),
        ("微博 weibo.com", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_ip_location(value, expected):
    assert parse_ip_location(value) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"verified": True, "verified_type": 1}, AuthorKind.GOVERNMENT),
        ({"verified": True, "verified_type": 3}, AuthorKind.OFFICIAL_MEDIA),
        ({"verified": True, "verified_type": 0, "verified_type_ext": 1}, AuthorKind.VERIFIED),
        ({"verified": True, "verified_type": 2}, AuthorKind.VERIFIED),
        ({"verified": True, "verified_type": 7}, AuthorKind.VERIFIED),
        ({"verified": True, "verified_type": "0"}, AuthorKind.VERIFIED),
        ({"verified": False, "verified_type": 0}, AuthorKind.ORDINARY),
        ({"verified": False, "verified_type": 220}, AuthorKind.ORDINARY),
        ({"verified": False, "verified_type": -1}, AuthorKind.ORDINARY),
        ({"screen_name": "someone"}, AuthorKind.ORDINARY),
        ({}, AuthorKind.UNKNOWN),
        (None, AuthorKind.UNKNOWN),
    ],
)
def test_author_kind_from_verified_type(user, expected):
    assert author_kind(user) is expected


def test_weibo_text_reads_html_as_a_reader_sees_it():
    html = (
        '<a  href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D%23濮阳身边事%23" data-hide="">'
        '<span class="surl-text">#濮阳身边事#</span></a>河沟里全是白沫&amp;臭味'
        '<span class="url-icon"><img alt=[怒] src="https://h5.sinaimg.cn/d_nu.png" /></span><br />向'
        "<a href='/n/濮阳发布'>@濮阳发布</a> 反映\u200b\u200b好几次了 "
        "<a href=\"/p/index\"><span class='url-icon'><img src='location.png'></span>"
        '<span class="surl-text">濮阳·柳屯镇</span></a> ...<a href="/status/5302043889664515">全文</a>'
    )
    assert weibo_text(html) == "#濮阳身边事#河沟里全是白沫&臭味[怒]\n向@濮阳发布 反映好几次了 濮阳·柳屯镇 ..."
    assert weibo_text("唉，聊天记录。 \u200b\u200b\u200b") == "唉，聊天记录。"
    assert weibo_text("第一行\n\n\n\n第二行") == "第一行\n\n第二行"
    assert weibo_text("") == ""
    assert weibo_text(None) == ""


# Real answers (Apache-2.0 captures) --------------------------------------------------------------------


def test_a_real_profile_timeline_answer():
    data = json.loads((REAL / "profile_statuses.json").read_text(encoding="utf-8"))
    cards = parse_card_list({"ok": 1, "data": data})
    assert len(cards.mblogs) == 20
    assert cards.other_cards == 2  # the memories and scheduled-post cards
    assert cards.since_id == "4943704232301510"
    assert cards.total == 503

    forward = post_from_mblog(cards.mblogs[0], now=NOW, raw_ref="real")
    assert forward.id == "weibo:5124557977684716"
    assert forward.url == "https://m.weibo.cn/detail/5124557977684716"
    assert forward.text == "转发微博"
    assert forward.published_at == datetime(2025, 1, 19, 15, 54, 54, tzinfo=SHANGHAI)
    assert forward.author == "Shapooooofficial"
    assert forward.author_kind is AuthorKind.ORDINARY
    assert forward.ip_location == "湖北"
    assert forward.author_location == "湖北 武汉"
    assert forward.repost_of == "weibo:5118411677896648"
    assert forward.counts.reads == 662

    original = post_from_mblog(cards.mblogs[0]["retweeted_status"], now=NOW, raw_ref="real")
    assert original.author == "钢雷欧"
    assert original.author_kind is AuthorKind.VERIFIED  # verified_type 0
    assert original.ip_location == "北京"
    assert original.author_location is None  # "其他" says nothing
    assert (original.counts.reposts, original.counts.comments, original.counts.likes) == (374, 53, 724)
    assert len(original.images) == 9
    assert original.images[0] == "https://wx3.sinaimg.cn/large/6c82c033ly1hx6hv6wxnaj20g11cx78e.jpg"
    assert needs_long_text(cards.mblogs[0]["retweeted_status"])

    pictures = post_from_mblog(cards.mblogs[4], now=NOW, raw_ref="real")
    assert pictures.text == "唉，聊天记录。"
    assert len(pictures.images) == 6
    assert all(url.startswith("https://wx") and "/large/" in url for url in pictures.images)
    assert pictures.has_video is False

    hidden = cards.mblogs[2]["retweeted_status"]  # 此微博已不可见: no author, no time
    assert not is_available(hidden)
    assert post_from_mblog(cards.mblogs[2], now=NOW, raw_ref="real").repost_of == "weibo:5064371311217013"


def test_a_real_status_carries_its_long_text():
    status = json.loads((REAL / "statuses_show.json").read_text(encoding="utf-8"))
    assert status["isLongText"] is True
    assert not needs_long_text(status)  # the full text is in `longText` already: no extend request
    post = post_from_mblog(status, now=NOW, raw_ref="real")
    assert len(post.text) > 500 > len(weibo_text(status["text"]))
    assert post.text.startswith("#国家卫健委叫停阿尔茨海默病手术# 这个“颈深淋巴管/结—静脉吻合术”手术")
    assert post.text.endswith("Nature (2025).")
    assert post.published_at == datetime(2025, 7, 9, 20, 51, 35, tzinfo=SHANGHAI)
    assert post.ip_location == "北京"
    assert post.author_kind is AuthorKind.VERIFIED
    assert (post.counts.reposts, post.counts.comments, post.counts.likes) == (28, 20, 119)
    assert post.images == ["https://wx1.sinaimg.cn/large/53899d01ly1i382orcetoj215o0rsdw8.jpg"]


# The recordings, parsed ----------------------------------------------------------------------------------


def test_every_field_a_post_offers():
    mblogs = mblogs_of(search_page("濮阳"))
    post = post_from_mblog(mblogs[PLANT], now=NOW, raw_ref=search_url(BASE, "濮阳", 1))
    assert validate_post(post) is post
    assert post.id == f"weibo:{PLANT}" == Post.make_id(Source.WEIBO, PLANT)
    assert post.source is Source.WEIBO
    assert post.url == f"https://m.weibo.cn/detail/{PLANT}"
    assert post.title is None
    assert post.text == (
        "#濮阳身边事#濮阳县柳屯镇的化工厂又在半夜偷排了！河沟里全是白沫，味道呛得人睡不着，孩子一直咳嗽[怒]\n"
        "向@濮阳发布 @濮阳县生态环境分局 反映好几次了，到现在也没人管，求扩散！濮阳·柳屯镇"
    )
    assert post.published_at == datetime(2026, 11, 22, 23, 41, 19, tzinfo=SHANGHAI)
    assert post.crawled_at == NOW
    assert post.author == "柳屯镇的老李"
    assert post.author_kind is AuthorKind.ORDINARY
    assert post.media is None
    assert (post.counts.reposts, post.counts.comments, post.counts.likes) == (3410, 1286, 5620)
    assert post.ip_location == "河南"
    assert len(post.images) == 4
    assert post.has_video is False
    assert post.repost_of is None
    assert post.parent_id is None
    assert post.raw_ref == search_url(BASE, "濮阳", 1)

    forward = post_from_mblog(mblogs[FORWARD], now=NOW, raw_ref="")
    assert forward.repost_of == f"weibo:{PLANT}"
    assert forward.text == "转发扩散，希望有关部门尽快处理[怒]"
    assert forward.author_kind is AuthorKind.VERIFIED

    video = post_from_mblog(mblogs[CRASH_VIDEO], now=NOW, raw_ref="")
    assert video.has_video is True
    assert video.images == []

    report = post_from_mblog(mblogs_of(search_page("范县"))[CRASH_REPORT], now=NOW, raw_ref="")
    assert report.author_kind is AuthorKind.OFFICIAL_MEDIA
    assert report.media == "濮阳日报"
    assert "造成3人死亡、2人受伤" in report.text

    notice = post_from_mblog(mblogs[NOTICE], now=NOW, raw_ref="")
    assert notice.author_kind is AuthorKind.GOVERNMENT
    assert notice.media is None


def test_long_text_from_the_extend_answer():
    mblog = mblogs_of(search_page("濮阳"))[DAHE]
    assert needs_long_text(mblog)
    truncated = post_from_mblog(mblog, now=NOW, raw_ref="")
    assert truncated.text.endswith("记者23日凌晨赶到现场看到 ...")  # the "全文" link is not text
    full_text = parse_extend(json.loads(recorded(FIXTURES, extend_url(BASE, DAHE)).body))
    post = post_from_mblog(mblog, now=NOW, raw_ref="", full_text=full_text)
    assert post.text.startswith(truncated.text.removesuffix(" ..."))
    assert "村民李先生说，这种情况已经持续了两个多月" in post.text
    assert post.text.endswith("大河报·豫视频将持续关注。")
    assert "全文" not in post.text
    assert "<" not in post.text


def test_comments_and_their_replies():
    answer = parse_comment_page(json.loads(recorded(FIXTURES, comments_url(BASE, PLANT)).body))
    assert answer.max_id == 139587201234567
    assert answer.total == 1286
    assert len(answer.comments) == 5
    first = answer.comments[0]
    post = post_from_comment(first, post_mid=PLANT, parent_id=f"weibo:{PLANT}", now=NOW, raw_ref="x")
    assert validate_post(post) is post
    assert post.id == "weibo:5302046120010001"
    assert post.parent_id == f"weibo:{PLANT}"
    assert post.url == f"https://m.weibo.cn/detail/{PLANT}#comment-5302046120010001"
    assert post.text == "我家就在旁边村，晚上那味儿真的受不了，窗户都不敢开"
    assert post.author == "柳屯打工人"
    assert post.ip_location == "河南"
    assert (post.counts.likes, post.counts.comments) == (2311, 46)
    assert post.published_at == datetime(2026, 11, 22, 23, 52, 8, tzinfo=SHANGHAI)
    reply = post_from_comment(first["comments"][1], post_mid=PLANT, parent_id=post.id, now=NOW, raw_ref="x")
    assert reply.text == "回复@柳屯打工人:建议直接打12369环保举报热线"
    assert reply.ip_location == "北京"
    assert reply.parent_id == post.id
    official = post_from_comment(answer.comments[1], post_mid=PLANT, parent_id="p", now=NOW, raw_ref="x")
    assert official.author == "濮阳县生态环境分局"
    assert official.author_kind is AuthorKind.GOVERNMENT
    last = parse_comment_page(json.loads(recorded(FIXTURES, comments_url(BASE, PLANT, 139587201234567)).body))
    assert (len(last.comments), last.max_id) == (3, 0)


# The spiders on the recordings -------------------------------------------------------------------------


def test_a_search_page_yields_posts_and_asks_for_long_text_comments_and_the_next_page(spider):
    posts, requests = split(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    # The forwarded original comes before the post forwarding it.
    assert natives(posts) == [NOTICE, CRASH_VIDEO, PLANT, FORWARD, CANTEEN]
    assert [r.url for r in by_callback(requests, "parse_extend")] == [extend_url(BASE, DAHE)]
    # Only the hot posts that name a keyword: 1,286 and 532 comments; the others have fewer than 100.
    assert [r.url for r in by_callback(requests, "parse_comments")] == [
        comments_url(BASE, CRASH_VIDEO),
        comments_url(BASE, PLANT),
    ]
    assert [r.url for r in by_callback(requests, "parse_search")] == [search_url(BASE, "濮阳", 2)]
    for request in requests:
        assert request.headers["Referer"].startswith(b"https://m.weibo.cn/")
        assert b"iPhone" in request.headers["User-Agent"]
        assert "Cookie" not in request.headers
        assert request.meta["yuqing_expects"] == "json"
    comments = by_callback(requests, "parse_comments")[1]
    assert comments.headers["Referer"] == f"https://m.weibo.cn/detail/{PLANT}".encode()
    assert done(spider) == {"list_pages": 1, "posts": 5}
    assert stats(spider) == {}


def test_the_second_page_stops_at_posts_older_than_max_age(spider):
    posts, requests = split(spider.parse_search(search_page("濮阳", 2), keyword="濮阳", page=2))
    assert len(posts) == 3
    assert requests == []  # the page reached a post of 2026-11-19, older than 72 h
    assert done(spider)["too_old"] == 1


def test_a_finished_search_says_so(spider):
    assert list(spider.parse_search(search_page("南乐", 2), keyword="南乐", page=2)) == []
    assert done(spider) == {"list_pages": 1, "last_page": 1}
    assert stats(spider) == {}


def test_max_pages_bounds_a_first_patrol(env):
    spider = make_search()
    spider.source_config = spider.source_config.model_copy(update={"max_pages": 1})
    _, requests = split(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    assert by_callback(requests, "parse_search") == []


def test_a_post_found_under_two_keywords_is_yielded_once(spider):
    list(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    again, requests = split(spider.parse_search(search_page("濮阳县"), keyword="濮阳县", page=1))
    assert natives(again) == []  # NOTICE, DAHE and PLANT were all taken under 濮阳
    assert by_callback(requests, "parse_extend") == []
    assert done(spider)["repeated"] == 3


def test_the_extend_answer_completes_the_post(spider):
    _, requests = split(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    [request] = by_callback(requests, "parse_extend")
    posts, more = split(spider.parse_extend(recorded(FIXTURES, request.url), **request.cb_kwargs))
    assert natives(posts) == [DAHE]
    assert posts[0].text.endswith("大河报·豫视频将持续关注。")
    assert posts[0].media == "大河报"
    assert more == []  # 96 comments: below comments_min
    assert spider.state.seen[DAHE] == 210 + 96 + 1865


def test_a_failed_long_text_keeps_the_truncated_post_and_retries_next_time(spider, caplog):
    _, requests = split(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    [request] = by_callback(requests, "parse_extend")
    broken = recorded(FIXTURES, request.url).replace(body=b'{"ok":1,"data":{"ok":1,"longTextCont')
    posts, _ = split(spider.parse_extend(broken, **request.cb_kwargs))
    assert natives(posts) == [DAHE]
    assert posts[0].text.endswith("记者23日凌晨赶到现场看到 ...")
    assert stats(spider) == {"bad_json": 1}
    assert f"weibo_search: bad_json: {request.url}: 不是 JSON" in caplog.text
    assert spider.state.seen[DAHE] == -1  # remembered below any count: the next patrol asks again
    assert spider.state.is_new(DAHE, 0)


def test_comment_pages_are_read_until_nothing_new(spider):
    posts, requests = split(
        spider.parse_comments(recorded(FIXTURES, comments_url(BASE, PLANT)), mid=PLANT, page=1)
    )
    assert len(posts) == 7  # 5 comments, 2 replies inside the first
    assert {p.parent_id for p in posts} == {f"weibo:{PLANT}", "weibo:5302046120010001"}
    [next_page] = requests
    assert next_page.url == comments_url(BASE, PLANT, 139587201234567)
    posts, requests = split(spider.parse_comments(recorded(FIXTURES, next_page.url), **next_page.cb_kwargs))
    assert len(posts) == 3
    assert requests == []  # max_id 0: the last page
    assert set(natives(posts)) < PLANT_COMMENTS


def test_a_timeline_skips_its_pinned_post_and_pages_by_since_id(env):
    spider = make_timeline()
    response = recorded(FIXTURES, timeline_url(BASE, "7712300001"))
    account = spider.options.accounts[0]
    posts, requests = split(spider.parse_timeline(response, account=account, page=1))
    assert natives(posts) == [NOTICE, "5301990000123420"]  # the pinned post of October is too old
    assert by_callback(requests, "parse_timeline") == []  # reached a post older than 72 h
    response = recorded(FIXTURES, timeline_url(BASE, "7712300004"))
    posts, requests = split(spider.parse_timeline(response, account=spider.options.accounts[2], page=1))
    assert natives(posts) == [WAGES, "5302168044910124", PLANT, FORWARD]
    [next_page] = by_callback(requests, "parse_timeline")
    assert next_page.url == timeline_url(BASE, "7712300004", "5302170561921183")
    # Posts of the accounts are matched against comment_keywords too: the plant post is hot and names 濮阳县.
    assert [r.url for r in by_callback(requests, "parse_comments")] == [comments_url(BASE, PLANT)]


def test_the_cookie_is_sent_when_configured(env, monkeypatch):
    monkeypatch.setenv("YUQING_WEIBO_COOKIE", "SUB=_2A25secret; SUBP=0033WrSX")
    get_env.cache_clear()
    spider = make_search()
    _, requests = split(spider.parse_search(search_page("濮阳"), keyword="濮阳", page=1))
    assert requests
    assert all(r.headers["Cookie"] == b"SUB=_2A25secret; SUBP=0033WrSX" for r in requests)


# Incremental patrols -------------------------------------------------------------------------------------


def test_a_second_patrol_yields_new_posts_and_grown_counts_only(env, monkeypatch):
    first = make_search()
    for keyword in ("濮阳", "濮阳县"):
        _, requests = split(first.parse_search(search_page(keyword), keyword=keyword, page=1))
        for request in by_callback(requests, "parse_extend"):
            list(first.parse_extend(recorded(FIXTURES, request.url), **request.cb_kwargs))
    first._save_state(first, "finished")

    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second = make_search()
    posts, requests = split(second.parse_search(search_page("濮阳", round_=2), keyword="濮阳", page=1))
    assert natives(posts) == ["5302218950000101", "5302207600000202", "5302195880000303", NOTICE]
    assert posts[-1].counts.comments == 97  # was 86
    assert by_callback(requests, "parse_search") == []  # reached posts seen in the first patrol
    assert [r.url for r in by_callback(requests, "parse_extend")] == [
        extend_url(BASE, DAHE)
    ]  # its counts grew
    assert done(second)["seen"] == 1  # the crash video, unchanged

    posts, requests = split(second.parse_search(search_page("濮阳县", round_=2), keyword="濮阳县", page=1))
    assert natives(posts) == [PLANT]
    assert posts[0].counts.comments == 2034
    assert [r.url for r in by_callback(requests, "parse_comments")] == [comments_url(BASE, PLANT)]
    assert done(second)["refreshed"] == 2


# Refusals and bad input ----------------------------------------------------------------------------------


def test_ok_minus_100_is_a_login_wall(spider, caplog):
    response = recorded(BLOCKED, comments_url(BASE, PLANT))
    with pytest.raises(CloseSpider) as stopped:
        list(spider.parse_comments(response, mid=PLANT, page=1))
    assert stopped.value.reason == "login_wall"
    assert stats(spider) == {"login_wall": 1}
    assert f"weibo_search: login_wall: {comments_url(BASE, PLANT)}: ok -100：要求登录" in caplog.text
    assert "没有设置 Cookie：请把已登录账号的 m.weibo.cn Cookie 填入 YUQING_WEIBO_COOKIE" in caplog.text
    detail = spider.crawler.stats.get_value("yuqing/health/weibo_search/detail")
    assert detail.startswith("ok -100：要求登录（https://passport.weibo.cn/signin/welcome")


def test_an_expired_cookie_is_named_as_such(env, monkeypatch, caplog):
    monkeypatch.setenv("YUQING_WEIBO_COOKIE", "SUB=_2A25expired")
    get_env.cache_clear()
    spider = make_search()
    with pytest.raises(CloseSpider) as stopped:
        list(spider.parse_comments(recorded(BLOCKED, comments_url(BASE, PLANT)), mid=PLANT, page=1))
    assert stopped.value.reason == "login_wall"
    assert "YUQING_WEIBO_COOKIE 中的 Cookie 已失效" in caplog.text
    assert "_2A25expired" not in caplog.text


@pytest.mark.parametrize(
    ("round_", "reason", "detail"),
    [
        (3, "captcha", "返回的是验证码页（微博-安全验证），不是 JSON"),
        (4, "blocked", "HTTP 432"),
    ],
)
def test_refusals_stop_the_source_with_their_reason(spider, caplog, round_, reason, detail):
    response = search_page("濮阳", round_=round_, directory=BLOCKED)
    with pytest.raises(CloseSpider) as stopped:
        list(spider.parse_search(response, keyword="濮阳", page=1))
    assert stopped.value.reason == reason
    assert stats(spider) == {reason: 1}
    assert f"weibo_search: {reason}: {search_url(BASE, '濮阳', 1)}: {detail}" in caplog.text


def test_the_login_page_a_redirect_ends_on_is_a_login_wall(spider):
    passport = json.loads((BLOCKED / "index.json").read_text(encoding="utf-8"))["responses"]
    url = next(e["url"] for e in passport if e["url"].startswith("https://passport.weibo.com/"))
    page = recorded(BLOCKED, url)
    assert isinstance(page, HtmlResponse)
    with pytest.raises(CloseSpider) as stopped:
        list(spider.parse_search(page, keyword="濮阳", page=1))
    assert stopped.value.reason == "login_wall"
    # The same page served under the API's own address is still recognised.
    with pytest.raises(WeiboBlocked) as refused:
        check_answer(page.replace(url=search_url(BASE, "濮阳", 1)))
    assert (refused.value.reason, refused.value.detail) == (
        "login_wall",
        "返回的是登录页（微博登录），不是 JSON",
    )


def test_too_frequent_is_blocked(spider):
    response = search_page("濮阳").replace(body='{"ok":0,"msg":"请求过于频繁，歇歇吧"}'.encode())
    with pytest.raises(CloseSpider) as stopped:
        list(spider.parse_search(response, keyword="濮阳", page=1))
    assert stopped.value.reason == "blocked"


def test_malformed_json_costs_only_its_page(spider, caplog):
    broken = search_page("濮阳").replace(body=b'{"ok":1,"data":{"cards":[{"card_type":9,"mblog":{')
    assert list(spider.parse_search(broken, keyword="濮阳", page=1)) == []
    posts, _ = split(spider.parse_search(search_page("范县"), keyword="范县", page=1))
    assert natives(posts) == [CRASH_VIDEO, CRASH_REPORT]
    assert stats(spider) == {"bad_json": 1}
    assert f"weibo_search: bad_json: {search_url(BASE, '濮阳', 1)}: 不是 JSON，开头为" in caplog.text


def test_a_post_without_a_time_costs_only_itself(spider, caplog):
    data = json.loads(search_page("范县").body)
    del data["data"]["cards"][1]["mblog"]["created_at"]
    posts, _ = split(
        spider.parse_search(search_page("范县").replace(body=json.dumps(data).encode()), "范县", 1)
    )
    assert natives(posts) == [CRASH_VIDEO]
    assert stats(spider) == {"bad_item": 1}
    assert "cards[1]: mid '5302172978001716', created_at None" in caplog.text


def test_an_answer_in_the_wrong_encoding_is_read_and_counted(spider, caplog):
    text = search_page("范县").body.decode()
    gbk = json.dumps(json.loads(text), ensure_ascii=False).encode("gbk")  # declared utf-8, sent as GBK
    posts, _ = split(spider.parse_search(search_page("范县").replace(body=gbk), keyword="范县", page=1))
    assert natives(posts) == [CRASH_VIDEO, CRASH_REPORT]
    assert "范县濮城镇S209省道" in posts[0].text
    assert stats(spider) == {"bad_encoding": 1}
    assert "the answer is not UTF-8; read as GB18030" in caplog.text


def test_a_changed_layout_and_an_empty_source_end_with_their_reason(env):
    changed = make_search()
    moved = search_page("濮阳").replace(body=b'{"ok":1,"data":{"items":[]}}')
    assert list(changed.parse_search(moved, keyword="濮阳", page=1)) == []
    assert stats(changed) == {"layout_changed": 1}
    with pytest.raises(CloseSpider) as stopped:
        changed._check_outcome(changed)
    assert stopped.value.reason == "layout_changed"
    assert stats(changed) == {"layout_changed": 2}

    empty = make_search()
    nothing = search_page("濮阳").replace(body=b'{"ok":1,"data":{"cardlistInfo":{"total":0},"cards":[]}}')
    assert list(empty.parse_search(nothing, keyword="濮阳", page=1)) == []
    with pytest.raises(CloseSpider) as stopped:
        empty._check_outcome(empty)
    assert stopped.value.reason == "empty"
    assert stats(empty) == {"empty": 1}

    fine = make_search()
    list(fine.parse_search(search_page("范县"), keyword="范县", page=1))
    fine._check_outcome(fine)  # posts were read: the crawl finishes normally


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("keywords: []", "sources[0].options: keywords: 至少要有 1 项，现有 0 项"),
        (
            "keywords: [濮阳]\n      comments_min: many",
            'sources[0].options: comments_min: 应为整数，收到字符串 "many"',
        ),
        (
            "keywords: [濮阳]\n      keyword: [范县]",
            "sources[0].options: keyword: 不认识这个键",
        ),
    ],
)
def test_bad_search_options_are_named_with_file_and_line(tmp_path, options, message):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: weibo_search\n    spider: weibo_search\n    start_urls: [https://m.weibo.cn]\n"
        f"    options:\n      {options}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_file(path, SourcesFile)
    assert str(error.value).startswith(f"{path}:6: ")  # the line under `options:`
    assert message in str(error.value)


def test_an_account_uid_must_be_digits(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: weibo_timeline\n    spider: weibo_timeline\n    start_urls: [https://m.weibo.cn]\n"
        "    options:\n      accounts:\n        - {uid: puyangfabu, name: 濮阳发布}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError,
        match=r"sources\[0\]\.options: accounts\[0\]\.uid: 应为微博 uid（5 到 12 位数字），收到字符串 \"puyangfabu\"",
    ):
        load_file(path, SourcesFile)


# The shipped config and real crawls ----------------------------------------------------------------------


def test_the_shipped_config_asks_for_what_is_recorded():
    shipped = {s.name: s for s in load_file(PROJECT_ROOT / "config" / "sources.yaml", SourcesFile).sources}
    search = shipped["weibo_search"]
    assert search.options["keywords"] == KEYWORDS
    for keyword in KEYWORDS:
        assert recorded(FIXTURES, search_url(search.start_urls[0], keyword, 1)).status == 200
    timeline = shipped["weibo_timeline"]
    assert [(a["uid"], a["name"]) for a in timeline.options["accounts"]] == ACCOUNTS
    for uid, _ in ACCOUNTS:
        assert recorded(FIXTURES, timeline_url(timeline.start_urls[0], uid)).status == 200
    # Weibo bans fast clients for hours.
    assert search.download_delay >= 3
    assert search.concurrency == 1


def test_two_search_patrols_through_the_replay_server(tmp_path):
    data = tmp_path / "data"
    with ReplayServer(FIXTURES) as server:
        first = crawl(
            "weibo_search",
            "weibo_search",
            server=server,
            data_dir=data,
            config_dir=None,
            now=ROUND_1_AT,
            out=tmp_path / "round1.jsonl",
        )
        assert first.returncode == 0, first.stderr[-3000:]
        items = feed(tmp_path / "round1.jsonl")
        assert {i["id"] for i in items if i["parent_id"] is None} == weibo_ids(ROUND_1_SEARCH_POSTS)
        assert {i["id"] for i in items if i["parent_id"]} == weibo_ids(PLANT_COMMENTS | CRASH_COMMENTS)
        assert len(items) == 28  # each once
        assert all(status == 200 for _, status, _ in server.served), server.served
        served = [url for _, _, url in server.served]
        assert len(served) == len(set(served)) == 13  # 9 lists, 1 long text, 3 comment pages
        by_id = {i["id"]: i for i in items}
        dahe = by_id[f"weibo:{DAHE}"]
        assert dahe["text"].endswith("大河报·豫视频将持续关注。")
        assert dahe["author_kind"] == "official_media"
        assert dahe["url"] == f"https://m.weibo.cn/detail/{DAHE}"
        plant = by_id[f"weibo:{PLANT}"]
        assert plant["published_at"] == "2026-11-22T23:41:19+08:00"
        assert plant["crawled_at"] == ROUND_1_AT
        assert plant["counts"] == {"reposts": 3410, "comments": 1286, "likes": 5620, "reads": 0}
        assert plant["ip_location"] == "河南"
        assert len(plant["images"]) == 4
        assert plant["raw_ref"] in (search_url(BASE, "濮阳", 1), search_url(BASE, "濮阳县", 1))
        assert by_id[f"weibo:{FORWARD}"]["repost_of"] == f"weibo:{PLANT}"
        assert by_id[f"weibo:{CRASH_VIDEO}"]["has_video"] is True
        assert by_id["weibo:5302019445770758"]["ip_location"] == "北京"
        for item in items:
            assert datetime.fromisoformat(item["published_at"]).utcoffset() == timedelta(hours=8)
            assert item["text"]
            assert "<" not in item["text"]
            assert item["author"]
            assert item["source"] == "weibo"
        assert "'finish_reason': 'finished'" in first.stderr
        assert "'yuqing/source/weibo_search/" not in first.stderr  # no problem in the recordings
        state = json.loads((data / "state" / "weibo_search.json").read_text(encoding="utf-8"))
        assert len(state["seen"]) == 28

        server.round = 2
        before = len(server.served)
        second = crawl(
            "weibo_search",
            "weibo_search",
            server=server,
            data_dir=data,
            config_dir=None,
            now=ROUND_2_AT,
            out=tmp_path / "round2.jsonl",
        )
        assert second.returncode == 0, second.stderr[-3000:]
        again = feed(tmp_path / "round2.jsonl")
        assert {i["id"] for i in again} == weibo_ids(ROUND_2_NEW | ROUND_2_GROWN | ROUND_2_COMMENTS)
        grown = {i["id"]: i["counts"] for i in again}
        assert grown[f"weibo:{PLANT}"]["comments"] == 2034
        assert grown[f"weibo:{DAHE}"]["likes"] == 2911
        assert grown["weibo:5302046120010001"]["likes"] == 3520  # the hot comment, liked more
        # Every list stops at the first post of the first patrol: no second page is asked for.
        assert not any("page=2" in url for _, _, url in server.served[before:])


def test_timelines_through_the_replay_server_share_ids_with_search(tmp_path):
    data = tmp_path / "data"
    with ReplayServer(FIXTURES) as server:
        first = crawl(
            "weibo_timeline",
            "weibo_timeline",
            server=server,
            data_dir=data,
            config_dir=None,
            now=ROUND_1_AT,
            out=tmp_path / "round1.jsonl",
        )
        assert first.returncode == 0, first.stderr[-3000:]
        items = feed(tmp_path / "round1.jsonl")
        posts = {i["id"] for i in items if i["parent_id"] is None}
        assert posts == weibo_ids(
            {
                NOTICE,
                "5301990000123420",
                CRASH_REPORT,
                "5301997301114089",
                WAGES,
                "5302168044910124",
                PLANT,
                FORWARD,
                "5301500000000025",
            }
        )
        assert posts & weibo_ids(ROUND_1_SEARCH_POSTS) == weibo_ids(
            {NOTICE, CRASH_REPORT, "5301997301114089", WAGES, PLANT, FORWARD}
        )
        assert {i["id"] for i in items if i["parent_id"]} == weibo_ids(PLANT_COMMENTS)
        assert timeline_url(BASE, "7712300004", "5302170561921183") in [u for _, _, u in server.served]

        server.round = 2
        second = crawl(
            "weibo_timeline",
            "weibo_timeline",
            server=server,
            data_dir=data,
            config_dir=None,
            now=ROUND_2_AT,
            out=tmp_path / "round2.jsonl",
        )
        assert second.returncode == 0, second.stderr[-3000:]
        assert {i["id"] for i in feed(tmp_path / "round2.jsonl")} == weibo_ids({"5302218950000101", NOTICE})


def test_a_login_wall_ends_the_patrol_named_and_keeps_what_was_read(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    for shipped in (PROJECT_ROOT / "config").glob("*.yaml"):
        if shipped.name != "sources.yaml":  # the health alert reads the duty staff of units.yaml
            (config / shipped.name).write_bytes(shipped.read_bytes())
    (config / "sources.yaml").write_text(
        "sources:\n  - name: weibo_search\n    spider: weibo_search\n    start_urls: [https://m.weibo.cn]\n"
        "    options:\n      keywords: [濮阳]\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    cookie = {"YUQING_WEIBO_COOKIE": "SUB=_2A25secretcookievalue"}
    with ReplayServer(BLOCKED) as server:
        # The comments of the hot post ask for a login: the posts already read are kept.
        first = crawl(
            "weibo_search",
            "weibo_search",
            server=server,
            data_dir=data,
            config_dir=config,
            now=ROUND_1_AT,
            out=tmp_path / "round1.jsonl",
            extra_env=cookie,
        )
        assert first.returncode == 0, first.stderr[-3000:]
        assert {i["id"] for i in feed(tmp_path / "round1.jsonl")} == weibo_ids({CANTEEN, PLANT})
        record = run_record(data, "weibo_search")
        assert record["finish_reason"] == "login_wall"
        assert record["stats"]["yuqing/source/weibo_search/login_wall"] == 1
        assert record["stats"]["yuqing/health/alerted"] == 1  # duty staff are told the source stopped
        assert "YUQING_WEIBO_COOKIE 中的 Cookie 已失效" in first.stderr
        assert "_2A25secretcookievalue" not in first.stderr

        # The next patrol is sent to the login page before it reads anything.
        server.round = 2
        second = crawl(
            "weibo_search",
            "weibo_search",
            server=server,
            data_dir=data,
            config_dir=config,
            now=ROUND_2_AT,
            out=tmp_path / "round2.jsonl",
            extra_env=cookie,
        )
        assert second.returncode == 0, second.stderr[-3000:]
        assert feed(tmp_path / "round2.jsonl") == []
        record = run_record(data, "weibo_search")
        assert record["finish_reason"] == "login_wall"
        assert record["stats"]["yuqing/source/weibo_search/login_wall"] == 1
        assert "passport.weibo.com/sso/signin" in second.stderr
        assert "_2A25secretcookievalue" not in second.stderr
