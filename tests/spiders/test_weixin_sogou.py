"""The 微信公众号 spider (搜狗 WeChat search) on the recordings in tests/fixtures/weixin: result fields, the
antispider page, bad input, and two real patrols through the replay server in their own processes."""

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
from config.loader import load_file
from config.models import SourceConfig, SourcesFile
from pipeline.items import SHANGHAI, AuthorKind, Post, Source, validate_post
from pipeline.replay import ReplayServer
from spiders.base.community import PageError
from spiders.base.weixin import article_post, is_antispider_page, parse_result_page, search_url
from spiders.weixin_sogou import WeixinSogouSpider

FIXTURES = Path(__file__).parents[1] / "fixtures" / "weixin"
BLOCKED = FIXTURES / "blocked"
ROUND_1_AT = "2026-11-23T09:00:00+08:00"
ROUND_2_AT = "2026-11-23T11:30:00+08:00"
QUERIES = ["濮阳", "清丰县 欠薪", "南乐县 拆迁"]
PREFIX = "ab735a258a90e8e1-6bee54fcbd896b2a-"

RUMOUR = PREFIX + "ab84bf6396a1ebc79c7ccdb067012988"  # 濮阳交警 on the 单双号限行 rumour
WORKERS = PREFIX + "c1f5a5df14b9ff474c339f12bbc059fb"  # 濮阳身边事, found by two queries
PEOPLES_DAILY = PREFIX + "0994ef3fa03c4d2c8632a5399bc29efe"
PAID = PREFIX + "79b7680175f4783819e55aeec4ad8525"  # round 2, found by two queries
CANTEEN_NOTICE = PREFIX + "de1789896f9488cd54c11a507d91cfd2"  # round 2
ROUND_1_POSTS = 13  # 17 results: 3 older than 72 h, 1 found twice


def index(directory: Path = FIXTURES, round_: int = 1) -> dict[str, dict]:
    entries = json.loads((directory / "index.json").read_text(encoding="utf-8"))["responses"]
    table: dict[str, dict] = {}
    for entry in sorted(entries, key=lambda e: e.get("round", 1)):
        if entry.get("round", 1) <= round_:
            table[entry["url"]] = entry
    return table


def recorded(url: str, round_: int = 1, directory: Path = FIXTURES) -> Response:
    entry = index(directory, round_)[url]
    body = (directory / entry["file"]).read_bytes()
    cls = responsetypes.from_args(headers=entry["headers"], url=url, body=body)
    return cls(url=url, status=entry["status"], headers=entry["headers"], body=body)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", ROUND_1_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL", "YUQING_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def make_spider() -> WeixinSogouSpider:
    source = SourceConfig(
        name="weixin",
        spider="weixin_sogou",
        start_urls=["https://weixin.sogou.com"],
        max_pages=2,
        max_age_hours=72,
        options={"queries": QUERIES},
    )
    return WeixinSogouSpider.from_crawler(get_crawler(WeixinSogouSpider), source_config=source)


@pytest.fixture
def spider(env) -> WeixinSogouSpider:
    return make_spider()


def stats(spider: WeixinSogouSpider, prefix: str = "yuqing/source/weixin/") -> dict[str, int]:
    found = spider.crawler.stats.get_stats().items()
    return {k.removeprefix(prefix): v for k, v in found if k.startswith(prefix)}


def test_result_page_every_field():
    page = parse_result_page(recorded(search_url("濮阳")).text)
    assert (page.no_results, page.has_next, page.bad_entries) == (False, True, [])
    assert len(page.articles) == 8
    rumour = page.articles[0]
    assert rumour.doc_id == RUMOUR
    assert rumour.title == "关于网传“明天起全城单双号限行”的说明"  # the highlighted 濮阳 is plain text again
    assert rumour.summary.startswith("近日，网传“濮阳明天起全城单双号限行”的消息，经核实")
    assert rumour.account == "濮阳交警"
    assert rumour.published_at == datetime(2026, 11, 23, 8, 30, tzinfo=SHANGHAI)
    assert rumour.link.startswith(
        "https://weixin.sogou.com/link?url=dn9a_-gY295K0Rci_xozVXfdMkSQTLW6cwJThYul"
    )
    assert "&type=2&query=%E6%BF%AE%E9%98%B3&token=" in rumour.link


def test_an_article_as_a_post():
    page = parse_result_page(recorded(search_url("濮阳")).text)
    crawled = datetime.fromisoformat(ROUND_1_AT)
    article = next(a for a in page.articles if a.doc_id == PEOPLES_DAILY)
    post = article_post(article, crawled, search_url("濮阳"))
    assert post is not None
    assert validate_post(post) is post
    assert post.id == f"weixin:{PEOPLES_DAILY}" == Post.make_id(Source.WEIXIN, PEOPLES_DAILY)
    assert (post.source, post.url, post.raw_ref) == (Source.WEIXIN, article.link, search_url("濮阳"))
    assert (post.title, post.text) == ("河南濮阳：冬小麦田间管理正当时", article.summary)
    assert (post.author, post.media, post.author_kind) == ("人民日报", "人民日报", AuthorKind.OFFICIAL_MEDIA)
    assert post.published_at == datetime(2026, 11, 22, 9, 0, tzinfo=SHANGHAI)
    other = next(a for a in page.articles if a.doc_id == RUMOUR)
    assert article_post(other, crawled, "x://").author_kind is AuthorKind.UNKNOWN


def test_the_older_result_layout_with_an_account_link_is_read_too():
    html = recorded(search_url("濮阳")).text.replace(
        '<span class="all-time-y2">濮阳交警</span>',
        '<a class="account" target="_blank" i="oIWsFt">濮阳交警</a>',
    )
    assert parse_result_page(html).articles[0].account == "濮阳交警"


def test_first_patrol_skips_old_results_and_reads_the_next_page(spider):
    results = list(spider.parse_results(recorded(search_url("濮阳")), query="濮阳", page=1))
    posts = [r for r in results if isinstance(r, Post)]
    requests = [r for r in results if isinstance(r, scrapy.Request)]
    assert len(posts) == 7  # one of the eight is from 11-15
    assert [r.url for r in requests] == [search_url("濮阳", 2)]
    again = list(spider.parse_results(recorded(search_url("清丰县 欠薪")), query="清丰县 欠薪", page=1))
    assert WORKERS not in {p.id.removeprefix("weixin:") for p in again if isinstance(p, Post)}
    assert len([p for p in again if isinstance(p, Post)]) == 1  # one new, one already found, one too old


def test_a_second_patrol_yields_only_new_articles(env, monkeypatch):
    first = make_spider()
    for query in QUERIES:
        list(first.parse_results(recorded(search_url(query)), query=query, page=1))
    list(first.parse_results(recorded(search_url("濮阳", 2)), query="濮阳", page=2))
    first._save_state(first, "finished")
    monkeypatch.setenv("YUQING_NOW", ROUND_2_AT)
    second = make_spider()
    new = []
    for query in QUERIES:
        new += list(second.parse_results(recorded(search_url(query), 2), query=query, page=1))
    assert sorted(p.id for p in new if isinstance(p, Post)) == sorted(
        [f"weixin:{PAID}", f"weixin:{CANTEEN_NOTICE}"]
    )


def test_a_page_without_results_is_not_an_error_but_a_changed_one_is(spider, caplog):
    empty = (
        "<html><body><div class='news-box'><p>暂无与“濮阳 烂尾楼”相关的微信公众号文章</p></div></body></html>"
    )
    assert parse_result_page(empty).no_results is True
    response = recorded(search_url("濮阳"))
    changed = response.replace(body=response.body.replace(b'class="news-list"', b'class="news-grid"'))
    assert list(spider.parse_results(changed, query="濮阳", page=1)) == []
    assert stats(spider) == {"layout_changed": 1}
    assert "检索「濮阳」：页面上没有结果列表 ul.news-list" in caplog.text
    with pytest.raises(CloseSpider) as finish:
        spider._finish_with_health(spider)
    assert finish.value.reason == "layout_changed"
    with pytest.raises(PageError):
        parse_result_page(changed.text)


def test_an_entry_without_a_time_costs_only_itself(spider, caplog):
    response = recorded(search_url("南乐县 拆迁"))
    body = response.body.replace(b"document.write(timeConvert('1795395000'))", b"", 1)
    body = body.replace(b't="1795395000"', b"", 1)
    posts = list(spider.parse_results(response.replace(body=body), query="南乐县 拆迁", page=1))
    assert len(posts) == 1
    assert stats(spider) == {"bad_entry": 1}
    assert "no time in div.s-p" in caplog.text


def test_the_antispider_page_ends_the_crawl_as_captcha(spider, caplog):
    [(query_url, redirect)] = [(u, e) for u, e in index(BLOCKED).items() if e["status"] == 302]
    target = redirect["headers"]["Location"]
    page = recorded(target, directory=BLOCKED)
    assert is_antispider_page(target, page.text)
    assert is_antispider_page(query_url, page.text)  # by its captcha form alone
    assert not is_antispider_page(query_url, recorded(search_url("濮阳")).text)
    request = scrapy.Request(target, meta={"redirect_urls": [query_url]})
    response = HtmlResponse(url=target, body=page.body, headers=page.headers, request=request)
    with pytest.raises(CloseSpider) as closed:
        list(spider.parse_results(response, query="濮阳", page=1))
    assert closed.value.reason == "captcha"
    assert stats(spider) == {"captcha": 1}
    assert f"weixin: captcha: {query_url}: 出现反爬验证页 {target}" in caplog.text


def test_the_shipped_config_searches_the_recorded_queries():
    shipped = load_file(PROJECT_ROOT / "config" / "sources.yaml", SourcesFile)
    weixin = next(s for s in shipped.sources if s.spider == "weixin_sogou")
    assert weixin.options["queries"] == QUERIES
    assert all(search_url(query) in index() for query in QUERIES)


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


def start_crawl(tmp_path: Path, server: ReplayServer, now: str, out: Path, queries: list[str]) -> Crawl:
    config = tmp_path / "config"
    if not config.exists():
        config.mkdir()
        for yaml_file in (PROJECT_ROOT / "config").glob("*.yaml"):
            shutil.copy(yaml_file, config)
    (config / "sources.yaml").write_text(
        "sources:\n  - name: weixin\n    spider: weixin_sogou\n    start_urls: [https://weixin.sogou.com]\n"
        f"    max_pages: 2\n    options:\n      queries: [{', '.join(queries)}]\n",
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    environment.update(
        YUQING_REPLAY_URL=server.base_url,
        YUQING_DATA_DIR=str(tmp_path / "data"),
        YUQING_CONFIG_DIR=str(config),
        YUQING_NOW=now,
    )
    command = [sys.executable, "-m", "scrapy", "crawl", "weixin_sogou", "-a", "source=weixin", "-O", str(out)]
    command += ["-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    with out.with_suffix(".log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=log)
    return Crawl(process, out.with_suffix(".log"))


def crawl(*args: Any) -> Crawl:
    return start_crawl(*args).wait()


def feed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_record(tmp_path: Path) -> dict:
    path = max((tmp_path / "data" / "runs").glob("weixin-*.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_two_patrols_and_a_blocked_one_through_the_replay_server(tmp_path):
    blocked_dir = tmp_path / "blocked"
    blocked_dir.mkdir()
    # The blocked crawl runs beside the first patrol: each is a process of its own.
    with ReplayServer(BLOCKED) as blocked_server, ReplayServer(FIXTURES) as server:
        blocked = start_crawl(blocked_dir, blocked_server, ROUND_1_AT, blocked_dir / "out.jsonl", ["濮阳"])
        finished = crawl(tmp_path, server, ROUND_1_AT, tmp_path / "round1.jsonl", QUERIES)
        blocked.wait()
        assert finished.returncode == 0, finished.stderr[-3000:]
        items = feed(tmp_path / "round1.jsonl")
        assert len(items) == len({i["id"] for i in items}) == ROUND_1_POSTS, finished.stderr[-3000:]
        assert all(item["source"] == "weixin" and item["title"] and item["text"] for item in items)
        rumour = next(item for item in items if item["id"] == f"weixin:{RUMOUR}")
        assert (rumour["author"], rumour["published_at"]) == ("濮阳交警", "2026-11-23T08:30:00+08:00")
        assert rumour["raw_ref"] == search_url("濮阳")
        assert run_record(tmp_path)["finish_reason"] == "finished"
        served = [url for _, _, url in server.served]
        assert sorted(served) == sorted([*map(search_url, QUERIES), search_url("濮阳", 2)])

        server.round = 2
        finished = crawl(tmp_path, server, ROUND_2_AT, tmp_path / "round2.jsonl", QUERIES)
        assert finished.returncode == 0, finished.stderr[-3000:]
        assert sorted(item["id"] for item in feed(tmp_path / "round2.jsonl")) == sorted(
            [f"weixin:{PAID}", f"weixin:{CANTEEN_NOTICE}"]
        )

    # Sogou's antispider page: nothing yielded, the crawl ends as `captcha`, counted once.
    assert blocked.returncode == 0, blocked.stderr[-3000:]
    assert feed(blocked_dir / "out.jsonl") == []
    record = run_record(blocked_dir)
    assert record["finish_reason"] == "captcha"
    assert record["stats"]["yuqing/source/weixin/captcha"] == 1
