"""The 新浪 rolling-news spider on the recordings in tests/fixtures/sina: list parsing, article fields, bad
input, incremental patrols, and a real crawl through the replay server in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import scrapy
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler

from config.env import PROJECT_ROOT, get_env
from config.loader import load_file
from config.models import SourceConfig, SourcesFile
from pipeline.items import SHANGHAI, AuthorKind, Post, Source, validate_post
from pipeline.replay import ReplayServer
from spiders.base.news_portal import Listing
from spiders.middlewares import ORIGINAL_URL
from spiders.sina_news import (
    SinaNewsSpider,
    native_id_of,
    parse_roll_entry,
    parse_roll_page,
    with_page,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sina"
ROLL = "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page={}"
ROUND_1_AT = "2026-11-23T09:00:00+08:00"
ROUND_2_AT = "2026-11-23T11:30:00+08:00"

CHEMICAL_PLANT = "nhysupf2818662"  # 濮阳县 discharge complaint, 大河报, 3,862 comments
CRASH = "nhjebkv6734067"  # 范县 collision, 中国新闻网
CANTEEN = "nhucdnu4104575"  # 华龙区 canteen, page without article:published_time
FLOOD_DRILL = "nhmqlsu6608884"  # 台前县 drill, lottery spam as last paragraph
DEMOLITION = "nheivdw6835244"  # 南乐县 拆迁, body printed twice
SKILLS_GBK = "nhmkizt4405553"  # GBK page, 王喆
TOO_OLD = {"nhjeyvk1639919", "nhtgyrz5921492"}
ROUND_2_NEW = ["nhjwlzf0004976", "nhdsabg0760632", "nhbmlky8435819"]

# Text that is on every article page but never part of an article.
PAGE_FURNITURE = [
    "新浪首页",
    "文章关键词",
    "新浪声明",
    "猜你喜欢",
    "新闻排行",
    "SINA Corporation",
    "版权所有",
    "海量资讯",
    "新浪新闻客户端",
    "下载领红包",
    "新浪河南 房产团购",
    "责任编辑",
    "ARTICLE_DATA",
    "function",
    "window.",
    "suda_count",
    "评论",
    "分享到",
]


def index(round_: int = 1) -> dict[str, dict]:
    """URL -> recorded entry, as the replay server would answer at that round."""
    entries = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))["responses"]
    table: dict[str, dict] = {}
    for entry in sorted(entries, key=lambda e: e.get("round", 1)):
        if entry.get("round", 1) <= round_:
            table[entry["url"]] = entry
    return table


def recorded(url: str, round_: int = 1) -> Response:
    """The recorded response, of the class and with the headers production would see."""
    entry = index(round_)[url]
    body = (FIXTURES / entry["file"]).read_bytes()
    cls = responsetypes.from_args(headers=entry["headers"], url=url, body=body)
    return cls(url=url, status=entry["status"], headers=entry["headers"], body=body)


def article_url(native_id: str) -> str:
    return next(url for url in index(2) if native_id in url and "roll" not in url)


def listing_of(native_id: str, round_: int = 2) -> Listing:
    for page in (1, 2):
        for entry in parse_roll_page(recorded(ROLL.format(page), round_).body).entries:
            if entry["docid"] == f"comos:{native_id}":
                return parse_roll_entry(entry)
    raise LookupError(native_id)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", ROUND_1_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def make_spider(**config) -> SinaNewsSpider:
    source = SourceConfig(
        name="sina_news",
        spider="sina_news",
        start_urls=[ROLL.format(1)],
        max_pages=config.pop("max_pages", 3),
        max_age_hours=72,
        **config,
    )
    return SinaNewsSpider.from_crawler(get_crawler(SinaNewsSpider), source_config=source)


@pytest.fixture
def spider(env) -> SinaNewsSpider:
    return make_spider()


def stats(spider: SinaNewsSpider, prefix: str = "yuqing/source/sina_news/") -> dict[str, int]:
    """The problems counted (or, with prefix `yuqing/crawl/sina_news/`, what the patrol did)."""
    found = spider.crawler.stats.get_stats().items()
    return {k.removeprefix(prefix): v for k, v in found if k.startswith(prefix)}


def done(spider: SinaNewsSpider) -> dict[str, int]:
    return stats(spider, "yuqing/crawl/sina_news/")


def split(results) -> tuple[list[scrapy.Request], list[scrapy.Request]]:
    """Article requests and list-page requests, in the order the spider made them."""
    results = list(results)
    articles = [r for r in results if r.callback.__name__ == "parse_article"]
    return articles, [r for r in results if r.callback.__name__ == "parse_list"]


def crawl_articles(spider: SinaNewsSpider, requests: list[scrapy.Request], round_: int = 1) -> list[Post]:
    posts = []
    for request in requests:
        posts.extend(spider.parse_article(recorded(request.url, round_), **request.cb_kwargs))
    return posts


# The roll API ------------------------------------------------------------------------------------------


def test_roll_entry_fields():
    roll = parse_roll_page(recorded(ROLL.format(1)).body)
    assert len(roll.entries) == 14
    assert roll.total == 4017
    listing = parse_roll_entry(roll.entries[1])
    assert listing == Listing(
        native_id=CHEMICAL_PLANT,
        url=f"https://news.sina.com.cn/s/2026-11-23/doc-i{CHEMICAL_PLANT}.shtml",
        title="濮阳县一化工企业被指夜间偷排废水 村民：河沟泛白沫、气味刺鼻",
        published_at=datetime(2026, 11, 23, 8, 41, 7, tzinfo=SHANGHAI),
        modified_at=datetime(2026, 11, 23, 8, 48, 7, tzinfo=SHANGHAI),
        media="大河报",
        intro=listing.intro,
        comments=3862,
    )
    assert listing.intro.startswith("近日，有濮阳县柳屯镇村民反映")


def test_first_list_page_requests_every_article_and_the_next_page(spider):
    articles, lists = split(spider.parse_list(recorded(ROLL.format(1))))
    assert len(articles) == 14
    assert articles[1].url == f"https://news.sina.com.cn/s/2026-11-23/doc-i{CHEMICAL_PLANT}.shtml"
    assert articles[1].cb_kwargs["listing"].comments == 3862
    assert all(r.errback == spider.fetch_failed for r in articles + lists)
    assert [r.url for r in lists] == [ROLL.format(2)]


def test_second_list_page_skips_old_items_and_stops(spider):
    articles, lists = split(spider.parse_list(recorded(ROLL.format(2))))
    assert len(articles) == 11
    assert not {r.cb_kwargs["listing"].native_id for r in articles} & TOO_OLD
    assert lists == []  # the page reaches items older than max_age_hours: page 3 can hold nothing new
    assert done(spider) == {"list_pages": 1, "too_old": 2}
    assert stats(spider) == {}


def test_max_pages_bounds_the_listing(env):
    spider = make_spider(max_pages=1)
    _, lists = split(spider.parse_list(recorded(ROLL.format(1))))
    assert lists == []


@pytest.mark.parametrize(
    ("url", "page", "expected"),
    [
        (ROLL.format(1), 2, ROLL.format(2)),
        (ROLL.format(2), 3, ROLL.format(3)),
        (
            "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510",
            2,
            "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&page=2",
        ),
    ],
)
def test_with_page_keeps_every_other_parameter(url, page, expected):
    assert with_page(url, page) == expected


@pytest.mark.parametrize(
    ("docid", "url", "expected"),
    [
        ("comos:nhysupf2818662", "", "nhysupf2818662"),
        ("", "https://news.sina.com.cn/s/2026-11-23/doc-inhysupf2818662.shtml", "nhysupf2818662"),
        (None, "https://hen.sina.cn/news/2026-11-22/detail-inhmkizt4405553.d.html", "nhmkizt4405553"),
        ("slidenews-album-1234", "", "slidenews-album-1234"),
        (None, "https://news.sina.com.cn/roll/", None),
    ],
)
def test_native_id_of(docid, url, expected):
    assert native_id_of(docid, url) == expected


# Article pages -----------------------------------------------------------------------------------------


def test_chemical_plant_article(spider):
    [post] = crawl_articles(
        spider,
        [scrapy.Request(article_url(CHEMICAL_PLANT), cb_kwargs={"listing": listing_of(CHEMICAL_PLANT)})],
    )
    assert post.id == f"sina:{CHEMICAL_PLANT}" == Post.make_id(Source.SINA, CHEMICAL_PLANT)
    assert post.source is Source.SINA
    assert post.url == post.raw_ref == article_url(CHEMICAL_PLANT)
    assert post.title == "濮阳县一化工企业被指夜间偷排废水 村民：河沟泛白沫、气味刺鼻"
    assert post.published_at == datetime(2026, 11, 23, 8, 41, 7, tzinfo=SHANGHAI)
    assert post.crawled_at == datetime.fromisoformat(ROUND_1_AT)
    assert post.media == "大河报"
    assert post.author == "刘德宾"
    assert post.author_kind is AuthorKind.UNKNOWN
    assert post.counts.comments == 3862
    paragraphs = post.text.split("\n")
    assert paragraphs[0] == "原标题：濮阳县一化工企业被指夜间偷排废水 村民：河沟泛白沫、气味刺鼻"
    assert paragraphs[2].startswith("“一到半夜就有味儿，呛得人睡不着觉。”11月22日，濮阳县柳屯镇")
    assert paragraphs[-1] == "大河报·豫视频将持续关注。"
    assert len(paragraphs) == 6


def test_central_media_is_official(spider):
    [post] = crawl_articles(
        spider, [scrapy.Request(article_url(CRASH), cb_kwargs={"listing": listing_of(CRASH)})]
    )
    assert post.media == "中国新闻网"
    assert post.author_kind is AuthorKind.OFFICIAL_MEDIA
    assert "3人死亡、2人受伤" in post.text


def test_minute_precision_page_takes_the_list_time(spider):
    listing = listing_of(CANTEEN)
    [post] = crawl_articles(spider, [scrapy.Request(article_url(CANTEEN), cb_kwargs={"listing": listing})])
    assert post.published_at == listing.published_at == datetime(2026, 11, 23, 7, 12, 3, tzinfo=SHANGHAI)
    assert post.media == "顶端新闻"  # a media without a site is a span.source, not a link


def test_gbk_page_decodes_as_in_production(spider):
    response = recorded(article_url(SKILLS_GBK))
    assert response.encoding == "gb18030"  # declared gb2312; read as its superset so 喆 survives
    [post] = crawl_articles(
        spider, [scrapy.Request(response.url, cb_kwargs={"listing": listing_of(SKILLS_GBK)})]
    )
    assert post.title == "濮阳经开区举办冬季职工技能比武 王喆等12人获“技术能手”称号"
    assert "王喆等12人" in post.text
    assert post.published_at == datetime(2026, 11, 22, 16, 20, tzinfo=SHANGHAI)
    assert post.media == "濮阳日报"
    assert post.author == "赵彬"
    assert "房产团购" not in post.text  # hidden ad block


def test_a_body_printed_twice_is_kept_once(spider):
    [post] = crawl_articles(
        spider, [scrapy.Request(article_url(DEMOLITION), cb_kwargs={"listing": listing_of(DEMOLITION)})]
    )
    assert post.text.count("南乐县元村镇村民李某") == 1
    assert len(post.text.split("\n")) == 5
    assert stats(spider)["body_repeated"] == 1


def test_an_injected_spam_line_is_kept_for_the_spam_classifier(spider):
    [post] = crawl_articles(
        spider, [scrapy.Request(article_url(FLOOD_DRILL), cb_kwargs={"listing": listing_of(FLOOD_DRILL)})]
    )
    assert post.text.split("\n")[-1].startswith("今晚香港开什么码？")
    assert post.text.split("\n")[-2] == "（记者 赵红旗 通讯员 李晓燕）"


def test_every_recorded_article(spider):
    requests = []
    for page in (1, 2):
        articles, _ = split(spider.parse_list(recorded(ROLL.format(page))))
        requests += articles
    posts = crawl_articles(spider, requests)
    assert len(posts) == 25
    assert len({p.id for p in posts}) == 25
    for post, request in zip(posts, requests, strict=True):
        listing = request.cb_kwargs["listing"]
        assert validate_post(post) is post
        assert post.id == f"sina:{listing.native_id}"
        assert post.url == request.url
        assert post.published_at.utcoffset() == timedelta(hours=8)
        assert abs(post.published_at - listing.published_at) < timedelta(minutes=1)
        assert post.title == listing.title
        assert post.media == listing.media
        assert post.author
        assert len(post.text) > 80
        for furniture in PAGE_FURNITURE:
            assert furniture not in post.text, (post.id, furniture)
        assert "<" not in post.text
        assert "\u3000" not in post.text
    puyang = [
        p for p in posts if "濮阳" in p.text or any(c in p.text for c in ("清丰", "南乐", "范县", "台前"))
    ]
    assert len(puyang) == 10
    # Parsing the same pages again names the same posts.
    again = crawl_articles(make_spider(), requests)
    assert [p.id for p in again] == [p.id for p in posts]


# Bad input ---------------------------------------------------------------------------------------------


def json_response(body: bytes) -> Response:
    return recorded(ROLL.format(1)).replace(body=body)


def test_malformed_json_is_counted_and_named(spider, caplog):
    assert list(spider.parse_list(json_response(b'{"result": {"status": {"code": 0}, "data": ['))) == []
    assert stats(spider) == {"bad_json": 1}
    assert f"sina_news: bad_json: {ROLL.format(1)}: 不是 JSON" in caplog.text


def test_a_non_zero_status_is_counted_and_named(spider, caplog):
    body = b'{"result":{"status":{"code":-1,"msg":"\\u53c2\\u6570\\u9519\\u8bef"},"data":[]}}'
    assert list(spider.parse_list(json_response(body))) == []
    assert stats(spider) == {"api_status": 1}
    assert "api_status" in caplog.text
    assert "status code -1: '参数错误'" in caplog.text


def test_a_bad_entry_costs_only_itself(spider, caplog):
    roll = json.loads(recorded(ROLL.format(1)).body)
    del roll["result"]["data"][0]["url"]
    roll["result"]["data"][2]["ctime"] = "soon"  # with no intime either, the entry has no usable time
    del roll["result"]["data"][2]["intime"]
    articles, lists = split(spider.parse_list(json_response(json.dumps(roll).encode())))
    assert len(articles) == 12
    assert len(lists) == 1
    assert stats(spider)["bad_entry"] == 2
    assert "data[0]" in caplog.text
    assert "data[2]" in caplog.text


def test_an_empty_first_page_is_a_problem(spider, caplog):
    body = b'{"result":{"status":{"code":0,"msg":"succ"},"top":[],"data":[],"total":0,"lid":2510}}'
    assert list(spider.parse_list(json_response(body))) == []
    assert stats(spider) == {"empty_list": 1}
    assert "lid 是否仍在使用？" in caplog.text


def test_jsonp_answers_are_read_too():
    body = b"try{feedCardJsonpCallback(" + recorded(ROLL.format(1)).body + b");}catch(e){};"
    assert len(parse_roll_page(body).entries) == 14


def test_a_page_without_body_is_counted_and_named(spider, caplog):
    url = article_url(CHEMICAL_PLANT)
    page = recorded(url)
    html = page.text
    start = html.index('<div class="article" id="article">')
    end = html.index("<!-- 正文 end -->")
    without = page.replace(body=(html[:start] + html[end:]).encode("utf-8"))
    empty = page.replace(
        body=(html[:start] + '<div class="article" id="article"><p> </p></div>' + html[end:]).encode()
    )
    listing = listing_of(CHEMICAL_PLANT)
    assert list(spider.parse_article(without, listing)) == []
    assert list(spider.parse_article(empty, listing)) == []
    assert stats(spider) == {"no_body": 2}
    assert f"sina_news: no_body: {url}: 页面上没有 div#article、div#artibody 中的任何一个" in caplog.text
    assert f"sina_news: no_body: {url}: 正文区域里没有文字" in caplog.text
    # Not fetched successfully, so not remembered: the next patrol tries again.
    assert spider.state.is_new(CHEMICAL_PLANT, 10**10)


def test_a_failed_fetch_is_counted_and_named(spider, caplog):
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    url = article_url(CRASH)
    request = scrapy.Request("http://127.0.0.1:1/replay?url=x", meta={ORIGINAL_URL: url})
    response = Response(url=url, status=404, request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    spider.fetch_failed(failure)
    assert stats(spider) == {"http_404": 1}
    assert f"sina_news: http_404: {url}: HTTP 404" in caplog.text


def test_an_unforeseen_page_costs_only_its_item(spider, monkeypatch, caplog):
    def broken(response, listing):
        raise AttributeError("'NoneType' object has no attribute 'css'")

    monkeypatch.setattr(spider, "article_post", broken)
    url = article_url(CRASH)
    assert list(spider.parse_article(recorded(url), listing_of(CRASH))) == []
    assert stats(spider) == {"parse_error": 1}
    assert f"sina_news: parse_error: {url}" in caplog.text
    assert "AttributeError" in caplog.text


# Incremental patrols -----------------------------------------------------------------------------------


def test_second_patrol_fetches_only_the_new_items(env, monkeypatch):
    first = make_spider()
    requests = []
    for page in (1, 2):
        requests += split(first.parse_list(recorded(ROLL.format(page))))[0]
    crawl_articles(first, requests)
    first._save_state(first, "finished")

    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second = make_spider()
    assert len(second.state.seen) == 25
    articles, lists = split(second.parse_list(recorded(ROLL.format(1), 2)))
    assert [r.cb_kwargs["listing"].native_id for r in articles] == ROUND_2_NEW
    assert [r.url for r in lists] == [ROLL.format(2)]  # the page was not wholly old
    articles, lists = split(second.parse_list(recorded(ROLL.format(2), 2)))
    assert (articles, lists) == ([], [])
    assert done(second)["seen"] == 24


def test_a_changed_item_is_fetched_again(spider):
    requests = split(spider.parse_list(recorded(ROLL.format(1))))[0]
    crawl_articles(spider, requests)
    roll = json.loads(recorded(ROLL.format(1)).body)
    entry = roll["result"]["data"][1]
    entry["mtime"] = str(int(entry["mtime"]) + 600)
    articles, _ = split(spider.parse_list(json_response(json.dumps(roll).encode())))
    assert [r.cb_kwargs["listing"].native_id for r in articles] == [CHEMICAL_PLANT]


# The shipped config and a real crawl -------------------------------------------------------------------


def test_the_shipped_config_asks_for_the_recorded_list():
    shipped = load_file(PROJECT_ROOT / "config" / "sources.yaml", SourcesFile)
    sina = next(s for s in shipped.sources if s.name == "sina_news")
    assert sina.spider == "sina_news"
    assert sina.start_urls == [ROLL.format(1)]
    assert ROLL.format(1) in index()


def crawl(tmp_path: Path, server: ReplayServer, now: str, out: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    environment.update(
        YUQING_REPLAY_URL=server.base_url,
        YUQING_DATA_DIR=str(tmp_path / "data"),
        YUQING_CONFIG_DIR=str(tmp_path / "config"),
        YUQING_NOW=now,
    )
    command = [sys.executable, "-m", "scrapy", "crawl", "sina_news", "-a", "source=sina_news", "-O", str(out)]
    command += ["-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=180, check=False
    )


def feed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_two_patrols_through_the_replay_server(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "sources.yaml").write_text(
        "sources:\n  - name: sina_news\n    spider: sina_news\n    start_urls:\n"
        f"      - {ROLL.format(1)}\n    max_pages: 3\n    max_age_hours: 72\n",
        encoding="utf-8",
    )
    with ReplayServer(FIXTURES) as server:
        finished = crawl(tmp_path, server, ROUND_1_AT, tmp_path / "round1.jsonl")
        assert finished.returncode == 0, finished.stderr[-3000:]
        items = feed(tmp_path / "round1.jsonl")
        assert len(items) == 25, finished.stderr[-3000:]
        served = [url for _, _, url in server.served]
        assert all(status == 200 for _, status, _ in server.served)
        assert served[0] == ROLL.format(1)
        assert ROLL.format(2) in served
        assert ROLL.format(3) not in served
        assert len(served) == len(set(served)) == 27

        by_id = {item["id"]: item for item in items}
        plant = by_id[f"sina:{CHEMICAL_PLANT}"]
        assert (
            plant["url"] == plant["raw_ref"] == article_url(CHEMICAL_PLANT)
        )  # the original, not the replay URL
        assert plant["source"] == "sina"
        assert plant["published_at"] == "2026-11-23T08:41:07+08:00"
        assert plant["crawled_at"] == ROUND_1_AT
        assert plant["media"] == "大河报"
        assert plant["author_kind"] == "unknown"
        assert plant["counts"]["comments"] == 3862
        assert by_id[f"sina:{CRASH}"]["author_kind"] == "official_media"
        assert "王喆" in by_id[f"sina:{SKILLS_GBK}"]["text"]
        for item in items:
            assert datetime.fromisoformat(item["published_at"]).utcoffset() == timedelta(hours=8)
            assert item["text"]
            assert item["title"]
        assert "'yuqing/crawl/sina_news/too_old': 2" in finished.stderr
        assert "'yuqing/crawl/sina_news/posts': 25" in finished.stderr
        # The one problem of the recordings: the page that prints its body twice.
        assert finished.stderr.count("'yuqing/source/sina_news/") == 1
        assert "'yuqing/source/sina_news/body_repeated': 1" in finished.stderr

        state = json.loads((tmp_path / "data" / "state" / "sina_news.json").read_text(encoding="utf-8"))
        assert len(state["seen"]) == 25
        assert state["newest_at"] == "2026-11-23T08:52:31+08:00"

        server.round = 2
        before = len(server.served)
        finished = crawl(tmp_path, server, ROUND_2_AT, tmp_path / "round2.jsonl")
        assert finished.returncode == 0, finished.stderr[-3000:]
        assert sorted(item["id"] for item in feed(tmp_path / "round2.jsonl")) == sorted(
            f"sina:{i}" for i in ROUND_2_NEW
        )
        served = [url for _, _, url in server.served[before:]]
        assert served[0] == ROLL.format(1)
        assert sorted(served[1:]) == sorted([ROLL.format(2), *map(article_url, ROUND_2_NEW)])
