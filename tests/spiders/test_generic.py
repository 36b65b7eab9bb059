"""The configurable spider on the recordings in tests/fixtures/local_gov: a site added by configuration alone
(濮阳市人民政府 政务动态, as shipped in config/sources.yaml), its dates, pages and incremental patrols, bad
configuration and bad pages, and the proxy hook through a real proxy on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from config.env import PROJECT_ROOT, get_env
from config.errors import ConfigError
from config.loader import DEFAULT_DIR, load_config
from config.models import SourceConfig
from pipeline.items import SHANGHAI, AuthorKind, Source, validate_post
from pipeline.replay import ReplayServer
from spiders.generic import Entry, GenericSpider
from spiders.parsing.times import parse_time

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_gov"
LIST = "https://www.puyang.gov.cn/zwdt/index.html"
LIST_2 = "https://www.puyang.gov.cn/zwdt/index_1.html"
PATROL_AT = "2026-11-23T09:00:00+08:00"
TODAY = datetime.fromisoformat(PATROL_AT)


def shipped_source() -> SourceConfig:
    return next(s for s in load_config(DEFAULT_DIR).sources.sources if s.name == "puyang_gov_zwdt")


def recorded(url: str, directory: Path = FIXTURES) -> HtmlResponse:
    entries = json.loads((directory / "index.json").read_text(encoding="utf-8"))["responses"]
    entry = next(e for e in entries if e["url"] == url)
    body = (directory / entry["file"]).read_bytes()
    return HtmlResponse(url=url, status=entry["status"], headers=entry["headers"], body=body)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", PATROL_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL", "YUQING_REDIS_URL", "YUQING_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def make_spider(source: SourceConfig | None = None, **changes) -> GenericSpider:
    source = source or shipped_source()
    if changes:
        source = source.model_copy(update=changes)
    return GenericSpider.from_crawler(get_crawler(GenericSpider), source_config=source)


def counted(spider: GenericSpider, prefix: str) -> dict[str, int]:
    stats = spider.crawler.stats.get_stats()
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}


def problems(spider: GenericSpider) -> dict[str, int]:
    return counted(spider, f"yuqing/source/{spider.source_name}/")


def parse_list(spider: GenericSpider, response: HtmlResponse, page: int = 1) -> list:
    return list(spider.parse_list(response, list_url=LIST, page=page))


# Dates ------------------------------------------------------------------------------------------------------


def test_a_date_without_a_time_may_be_any_time_that_day():
    entry = Entry(url="https://x.gov.cn/1.html", title="t", published_at=parse_time("2026-11-20", TODAY))
    assert entry.latest.isoformat() == "2026-11-20T23:59:59+08:00"


# The shipped example ----------------------------------------------------------------------------------------


def test_the_list_page_gives_entries_with_links_titles_and_dates(env):
    spider = make_spider()
    requests = parse_list(spider, recorded(LIST))
    articles = [r for r in requests if r.callback == spider.parse_article]
    assert [r.url for r in articles][:2] == [
        "https://www.puyang.gov.cn/zwdt/202611/t20261123_2046181.html",
        "https://www.puyang.gov.cn/zwdt/202611/t20261122_2046105.html",
    ]
    assert len(articles) == 6
    # The title comes from the link's title attribute, not the shortened text shown in the list.
    heating = articles[3].cb_kwargs["entry"]
    assert heating.title == "全市集中供热运行平稳 供热服务热线24小时受理群众诉求"
    assert heating.published_at == datetime(2026, 11, 21, tzinfo=SHANGHAI)
    # The oldest entry is from 2026-11-20, which may still be within 72 h: the next page is read.
    [next_page] = [r for r in requests if r.callback == spider.parse_list]
    assert next_page.url == LIST_2
    assert next_page.cb_kwargs == {"list_url": LIST, "page": 2}
    assert problems(spider) == {}


def test_the_second_page_stops_at_entries_older_than_max_age(env):
    spider = make_spider()
    requests = parse_list(spider, recorded(LIST_2), page=2)
    assert [r.url for r in requests] == ["https://www.puyang.gov.cn/zwdt/202611/t20261120_2045811.html"]
    assert counted(spider, "yuqing/crawl/puyang_gov_zwdt/")["too_old"] == 5


def test_an_article_page_gives_its_body_exact_time_and_publisher(env):
    spider = make_spider()
    entry = next(
        r.cb_kwargs["entry"] for r in parse_list(spider, recorded(LIST)) if r.callback == spider.parse_article
    )
    [post] = spider.parse_article(recorded(entry.url), entry=entry)
    validate_post(post)
    assert post.id == "local:puyang_gov_zwdt:www.puyang.gov.cn/zwdt/202611/t20261123_2046181.html"
    assert post.source is Source.LOCAL
    assert post.title == "市政府召开全市冬季安全生产工作会议"
    assert post.published_at == datetime(2026, 11, 23, 8, 20, tzinfo=SHANGHAI)
    assert post.author == "濮阳市人民政府办公室"
    assert (post.media, post.author_kind) == ("濮阳市人民政府", AuthorKind.GOVERNMENT)
    paragraphs = post.text.split("\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("11月22日下午，市政府召开全市冬季安全生产工作会议")
    # Style rules, share bar, editor credit and footer are not part of the article.
    for furniture in ("TRS_Editor", "margin-top", "分享到", "打印本页", "责任编辑", "网站标识码"):
        assert furniture not in post.text


def test_a_crawl_of_the_shipped_site_through_the_replay_server_then_an_incremental_patrol(env):
    def crawl(out: Path) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
        environment.update(
            YUQING_REPLAY_URL=server.base_url, YUQING_DATA_DIR=str(env / "data"), YUQING_NOW=PATROL_AT
        )
        command = [sys.executable, "-m", "scrapy", "crawl", "generic", "-a", "source=puyang_gov_zwdt"]
        command += ["-O", str(out), "-s", "ITEM_PIPELINES={}", "-s", "DOWNLOAD_DELAY=0"]
        command += ["-s", "AUTOTHROTTLE_ENABLED=False"]
        return subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    with ReplayServer(FIXTURES) as server:
        first = crawl(env / "first.jsonl")
        assert first.returncode == 0, first.stderr[-3000:]
        items = [json.loads(line) for line in (env / "first.jsonl").read_text(encoding="utf-8").splitlines()]
        served = [url for _, _, url in server.served]
        assert len(served) == len(set(served)) == 9  # two list pages, seven articles, each once
        assert {status for _, status, _ in server.served} == {200}

        server.served.clear()
        second = crawl(env / "second.jsonl")
        assert second.returncode == 0, second.stderr[-3000:]
        assert (env / "second.jsonl").read_text(encoding="utf-8") == ""
        # Nothing new: the first list page is read, and nothing else is fetched.
        assert [url for _, _, url in server.served] == [LIST]

    assert len(items) == 7
    # Articles arrive in whatever order the server answers; the newest is the top of the list.
    assert max(items, key=lambda item: item["published_at"])["title"] == "市政府召开全市冬季安全生产工作会议"
    by_url = {item["url"]: item for item in items}
    zone = by_url["https://www.puyang.gov.cn/zwdt/202611/t20261120_2045811.html"]
    assert zone["title"] == "濮阳经开区第四季度重点项目集中开工"
    assert zone["published_at"] == "2026-11-20T10:40:00+08:00"
    assert zone["author"] == "濮阳经济技术开发区管理委员会"
    assert all(item["source"] == "local" and item["text"] for item in items)
    run = json.loads(next((env / "data" / "runs").glob("puyang_gov_zwdt-*.json")).read_text(encoding="utf-8"))
    assert run["health"]["state"] == "ok"


# Bad pages --------------------------------------------------------------------------------------------------


def test_a_broken_entry_is_counted_and_the_others_are_kept(env):
    page = recorded(LIST)
    body = page.text.replace(
        '<a href="./202611/t20261122_2046077.html" target="_blank" title="我市启动根治欠薪冬季专项行动">'
        "我市启动根治欠薪冬季专项行动</a>",
        "我市启动根治欠薪冬季专项行动",
    )
    # Cut off in the middle of the last entry, as a dropped connection leaves a page.
    body = body[: body.index("南乐县仓颉文化园")]
    spider = make_spider()
    requests = parse_list(spider, page.replace(body=body.encode("utf-8")))
    assert len([r for r in requests if r.callback == spider.parse_article]) == 4
    assert problems(spider) == {"bad_entry": 2}


def test_a_page_in_another_charset_than_it_declares(env):
    page = recorded(LIST)
    gbk = page.replace(body=page.text.encode("gbk"), headers={"Content-Type": "text/html; charset=utf-8"})
    garbled = make_spider()
    parse_list(garbled, gbk)
    assert problems(garbled)["bad_encoding"] == 1

    site = shipped_source()
    fixed = make_spider(site.model_copy(update={"options": {**site.options, "encoding": "gbk"}}))
    requests = parse_list(fixed, gbk)
    assert requests[0].cb_kwargs["entry"].title == "市政府召开全市冬季安全生产工作会议"
    assert "bad_encoding" not in problems(fixed)


def test_an_article_without_body_selectors_is_read_by_the_generic_reader(env):
    # An office that writes only the list's selectors still gets each article's body and its minute.
    shipped = shipped_source()
    options = dict(shipped.options, article={})
    spider = make_spider(shipped.model_copy(update={"options": options}))
    entry = next(
        r.cb_kwargs["entry"] for r in parse_list(spider, recorded(LIST)) if r.callback == spider.parse_article
    )
    [post] = spider.parse_article(recorded(entry.url), entry=entry)
    assert entry.published_at == datetime(2026, 11, 23, tzinfo=SHANGHAI)  # the list prints the day
    assert post.published_at == datetime(2026, 11, 23, 8, 20, tzinfo=SHANGHAI)  # the page, the minute
    [by_selectors] = make_spider().parse_article(recorded(entry.url), entry=entry)
    assert post.text == by_selectors.text
    assert problems(spider) == {}


def test_article_pages_without_their_body_keep_the_post_and_finish_as_layout_changed(env):
    spider = make_spider()
    entry = next(
        r.cb_kwargs["entry"] for r in parse_list(spider, recorded(LIST)) if r.callback == spider.parse_article
    )
    page = recorded(entry.url)
    redesigned = page.replace(body=page.body.replace(b'class="TRS_Editor"', b'class="article-body"'))
    [post] = spider.parse_article(redesigned, entry=entry)
    assert post.text == entry.title  # kept, with what the list said
    with pytest.raises(CloseSpider) as closed:
        spider._finish(spider)
    assert closed.value.reason == "layout_changed"
    assert problems(spider) == {"no_body": 1, "layout_changed": 1}


def test_entries_whose_dates_no_longer_parse_are_a_layout_change(env):
    page = recorded(LIST)
    spider = make_spider()
    # The site now prints day.month.year, which neither the configured format nor the usual forms read.
    body = re.sub(r"<span>(\d{4})-(\d\d)-(\d\d)</span>", r"<span>\3.\2.\1</span>", page.text)
    parse_list(spider, page.replace(body=body.encode("utf-8")))
    assert problems(spider)["bad_date"] == 6
    assert problems(spider)["layout_changed"] == 1


# Configuration ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "key", "reason"),
    [
        ("items: 'ul.list > li['", "items", "不是有效的选择器"),
        ("items: li\n      date_formats: ['%Y-%M-%d']", "date_formats[0]", "日期格式 %Y-%M-%d 里没有月"),
        (
            "items: li\n      pagination: {next_page: a.next, page_url: 'index_{page}.html'}",
            "pagination",
            "要写其中一个，且只写一个",
        ),
        ("items: li\n      pagination: {page_url: index.html}", "pagination.page_url", "要含有 {page}"),
        ("items: li\n      encoding: gbkk", "encoding", "不认识的编码 gbkk"),
        (
            "items: li\n      article: {body: 'div[['}",
            "article.body[0]",
            "不是有效的选择器（CSS 或以 / 开头的 XPath）：div[[",
        ),
        ("fields: {url: a::attr(href)}", "items", "缺少这一项，必须填写"),
    ],
)
def test_a_bad_site_config_fails_at_load_naming_file_line_key_and_reason(tmp_path, options, key, reason):
    shutil.copytree(DEFAULT_DIR, tmp_path / "config", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp_path / "config" / "sources.yaml").write_text(
        "sources:\n"
        "  - name: county_news\n"
        "    spider: generic\n"
        "    start_urls: [https://www.qingfeng.gov.cn/xwzx/index.html]\n"
        "    options:\n"
        f"      {options}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "config")
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'config' / 'sources.yaml'}:")
    assert "sources[0].options" in message
    assert key in message
    assert reason in message


def test_a_source_of_another_spider_is_refused(env):
    with pytest.raises(ConfigError, match="写的是 'sina_news'，但这个爬虫是 'generic'"):
        make_spider(spider="sina_news")


# The proxy hook ---------------------------------------------------------------------------------------------


class _Proxy(ThreadingHTTPServer):
    """A forward proxy: takes the absolute URL of each request and fetches it, recording what passed."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
                with urllib.request.urlopen(self.path, timeout=10) as answer:
                    body = answer.read()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", "text/html"))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_a_source_with_proxy_env_goes_through_that_proxy_and_never_logs_its_password(tmp_path):
    proxy = _Proxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        config = tmp_path / "config"
        shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        text = (config / "sources.yaml").read_text(encoding="utf-8")
        (config / "sources.yaml").write_text(
            text.replace(
                "  - name: puyang_gov_zwdt\n", "  - name: puyang_gov_zwdt\n    proxy_env: COUNTY_PROXY\n"
            ),
            encoding="utf-8",
        )
        with ReplayServer(FIXTURES) as server:
            environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
            environment.update(
                YUQING_REPLAY_URL=server.base_url,
                YUQING_DATA_DIR=str(tmp_path / "data"),
                YUQING_CONFIG_DIR=str(config),
                YUQING_NOW=PATROL_AT,
                COUNTY_PROXY=f"http://duty:s3cret-Pw@127.0.0.1:{proxy.server_address[1]}",
            )
            command = [sys.executable, "-m", "scrapy", "crawl", "generic", "-a", "source=puyang_gov_zwdt"]
            command += [
                "-s",
                "ITEM_PIPELINES={}",
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
            ]
            done = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            missing = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env={k: v for k, v in environment.items() if k != "COUNTY_PROXY"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(proxy.seen) == 9
    assert all(path.startswith(f"{server.base_url}/replay?url=") for path, _ in proxy.seen)
    assert all(auth and auth.startswith("Basic ") for _, auth in proxy.seen)
    assert "s3cret-Pw" not in done.stdout + done.stderr
    # Named but not set: the crawl does not silently go out without the proxy.
    assert missing.returncode != 0
    assert "puyang_gov_zwdt.proxy_env: names the environment variable COUNTY_PROXY, which is not set" in (
        missing.stderr
    )


def test_a_list_page_that_is_gone_is_a_changed_layout_and_an_unanswered_fetch_is_left_to_the_middleware(env):
    spider = make_spider()
    first = Request(LIST, callback=spider.parse_list, cb_kwargs={"list_url": LIST, "page": 1})
    gone = HtmlResponse(url=LIST, status=404, body=b"", request=first)
    spider.fetch_failed(_failure(HttpError(gone), first))
    # Counted, named and judged by spiders.health.SourceHealthMiddleware for every spider alike
    # (tests/spiders/test_fetch_failures.py); the errback neither counts it again nor decides the health.
    spider.fetch_failed(_failure(DNSLookupError("www.puyang.gov.cn"), first))
    article = Request("https://www.puyang.gov.cn/zwdt/202611/t1.html", callback=spider.parse_article)
    spider.fetch_failed(
        _failure(HttpError(HtmlResponse(url=article.url, status=500, request=article)), article)
    )
    assert problems(spider) == {"layout_changed": 1, "http_500": 1}
    with pytest.raises(CloseSpider) as closed:
        spider._finish(spider)
    assert closed.value.reason == "layout_changed"


def _failure(error: Exception, request: Request) -> Failure:
    failure = Failure(error)
    failure.request = request
    return failure
