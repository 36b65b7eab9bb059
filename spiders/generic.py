"""The configurable spider for the many local sites an office also watches (message boards, county news,
local forums): `scrapy crawl generic -a source=<name>`, everything else in that source's `options`.

A list page is read with the source's selectors (`GenericSiteOptions`): each entry's link, title, date,
author and summary; the next page by a link or a URL template; optionally each article page for its body.
What was fetched before is skipped (`SourceState`). A first list page without entries is reported as
`empty` (the list container is there but holds nothing) or `layout_changed` (the selectors match nothing
on a page that has content), and the crawl then finishes with that reason for `yuqing doctor` and the alert.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any, Self
from urllib.parse import urldefrag, urljoin

import scrapy
from parsel import SelectorList
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse

from config.errors import ConfigError
from config.models import GenericSiteOptions, SourceConfig
from pipeline.clock import now
from pipeline.health import REASONS
from pipeline.items import AuthorKind, Post, Source
from spiders.base.source import SourceSpider
from spiders.health import EXPECTS, SourceUnavailable, note_fetch_failure, report_problem
from spiders.middlewares import ORIGINAL_URL
from spiders.parsing.reader import read_article
from spiders.parsing.selectors import body_paragraphs, first_text, select
from spiders.parsing.times import parse_time

# More replacement characters than this in a page means it was decoded with the wrong charset.
MAX_REPLACEMENT_CHARS = 8
# A page with less visible text than this holds no list, whatever its selectors say.
BLANK_PAGE_CHARS = 40


def native_id_of(url: str) -> str:
    """A stable id from the entry's address: the same page is the same post whichever list showed it."""
    address = re.sub(r"^https?://", "", urldefrag(url)[0])
    if len(address) <= 120:
        return address
    return f"{address[:80]}~{hashlib.sha1(address.encode()).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a list page."""

    url: str
    title: str
    published_at: datetime | None = None
    author: str | None = None
    summary: str | None = None
    version: int = 0  # what the list said (its date), so a later patrol knows the entry was read

    @property
    def latest(self) -> datetime | None:
        """The latest moment the entry can be from: a date without a time may be any time that day."""
        moment = self.published_at
        if moment is not None and moment.timetz().replace(tzinfo=None) == time():
            return moment + timedelta(days=1, seconds=-1)
        return moment

    @property
    def native_id(self) -> str:
        return native_id_of(self.url)


class GenericSpider(SourceSpider):
    name = "generic"

    options_model = GenericSiteOptions

    def __init__(
        self, source: str | None = None, *, source_config: SourceConfig | None = None, **kwargs: Any
    ) -> None:
        if source_config is None and not source:
            raise ConfigError(
                "sources.yaml", "-", "say which source to crawl: scrapy crawl generic -a source=<name>"
            )
        super().__init__(source, source_config=source_config, **kwargs)
        self.site: GenericSiteOptions = self.options
        self.health: dict[str, str] = {}  # reason -> first detail, for the finish reason
        self.articles_read = 0
        self.articles_without_body = 0
        self.judged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._finish, signal=signals.spider_idle)
        return spider

    # Counting -----------------------------------------------------------------------------------------------

    def problem(self, reason: str, url: str, detail: str, level: int = logging.WARNING) -> None:
        """A counted, logged problem; a health reason also decides how the crawl finishes."""
        report_problem(self.crawler, self.source_name, reason, url, detail, level=level)
        if reason in REASONS:
            self.health.setdefault(reason, detail)

    def fetch_failed(self, failure: Any) -> None:
        request = failure.request
        if failure.check(SourceUnavailable):
            return  # counted by the health middleware, which is closing the crawl
        url = request.meta.get(ORIGINAL_URL, request.url)
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else None
        is_first_list = request.callback == self.parse_list and request.cb_kwargs.get("page") == 1
        if is_first_list and status in (404, 410):
            self.problem("layout_changed", url, f"列表页返回 HTTP {status}：是否已改版或迁址？")
        elif status is not None:
            self.problem(f"http_{status}", url, f"HTTP {status}")
        else:
            # No answer at all: counted, named and judged by the health middleware for every spider alike.
            note_fetch_failure(failure, self.source_name, self.logger)

    # Crawl ---------------------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s, skipping items older than %s (%s)",
            self.source_name,
            self.patrol_at.isoformat(),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
        )
        for url in self.start_urls:
            yield self.list_request(url, url, 1)

    def list_request(self, url: str, list_url: str, page: int) -> scrapy.Request:
        meta: dict[str, Any] = {EXPECTS: "list"}
        if self.source_config.render:
            # A list filled in by XHR is complete once the network has been quiet for a moment.
            meta["playwright_page_goto_kwargs"] = {"wait_until": "networkidle"}
        return scrapy.Request(
            url,
            callback=self.parse_list,
            errback=self.fetch_failed,
            cb_kwargs={"list_url": list_url, "page": page},
            meta=meta,
            priority=10,
        )

    def decoded(self, response: TextResponse) -> TextResponse:
        """The page in the source's `encoding` when one is configured; a wrongly decoded page is counted."""
        if self.site.encoding:
            response = response.replace(encoding=self.site.encoding)
        broken = response.text.count("\ufffd")
        if broken > MAX_REPLACEMENT_CHARS:
            self.problem(
                "bad_encoding",
                response.url,
                f"有 {broken} 个字符无法按 {response.encoding} 解码：请设置 options.encoding（gbk？）",
            )
        return response

    def parse_list(self, response: Response, list_url: str, page: int) -> Iterator[scrapy.Request | Post]:
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not a page")
            return
        response = self.decoded(response)
        self.stat("list_pages")
        nodes = select(response, self.site.items)
        if not nodes:
            if page == 1:
                self._judge_missing_list(response)
            self.logger.info("%s: list page %d of %s: no entries; stop", self.source_name, page, list_url)
            return
        entries = self._entries(response, nodes)
        if page == 1 and not entries:
            self.problem(
                "layout_changed",
                response.url,
                f"items 匹配到 {len(nodes)} 个条目，但没有一个有标题和链接：options.fields 已不再匹配",
            )
            return
        wanted = [entry for entry in entries if self._is_wanted(entry)]
        for entry in wanted:
            if self.site.article is not None:
                yield scrapy.Request(
                    entry.url,
                    callback=self.parse_article,
                    errback=self.fetch_failed,
                    cb_kwargs={"entry": entry},
                )
            else:
                yield self._post(entry, response.url, text=entry.summary or entry.title)
        oldest = min((e.latest for e in entries if e.latest), default=None)
        stop = self._stop_reason(page, len(wanted), oldest)
        next_url = None if stop else self._next_page(response, list_url, page)
        self.logger.info(
            "%s: list page %d of %s: %d entries, %d new%s",
            self.source_name,
            page,
            list_url,
            len(entries),
            len(wanted),
            f"; stop ({stop or 'no next page'})" if next_url is None else "",
        )
        if next_url is not None:
            yield self.list_request(next_url, list_url, page + 1)

    def _judge_missing_list(self, response: TextResponse) -> None:
        container = self.site.container
        if container is not None and select(response, container):
            self.problem("empty", response.url, f"页面上有列表（{container}），但其中没有条目")
            return
        visible = re.sub(
            r"\s+",
            "",
            "".join(
                response.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()
            ),
        )
        if len(visible) < BLANK_PAGE_CHARS:
            self.problem("empty", response.url, f"页面是空白的（只有 {len(visible)} 个字）")
        elif container is not None:
            self.problem("layout_changed", response.url, f"页面上找不到列表区域 {container}")
        else:
            self.problem("layout_changed", response.url, f"items {self.site.items} 在页面上什么也没匹配到")

    def _entries(self, response: TextResponse, nodes: SelectorList) -> list[Entry]:
        fields = self.site.fields
        entries: list[Entry] = []
        dated = 0
        for position, node in enumerate(nodes):
            href = first_text(node, fields.url)
            title = first_text(node, fields.title)
            if not href or not title:
                missing = " and ".join(
                    name for name, value in (("link", href), ("title", title)) if not value
                )
                self.problem("bad_entry", response.url, f"entry {position + 1}: no {missing}")
                continue
            url = response.urljoin(href)
            if not url.startswith(("http://", "https://")):
                self.problem("bad_entry", response.url, f"entry {position + 1}: {href!r} is not a page link")
                continue
            date_text = first_text(node, fields.date) if fields.date else None
            published = parse_time(date_text, self.patrol_at, self.site.date_formats)
            if fields.date and published is None:
                self.problem(
                    "bad_date", response.url, f"entry {position + 1}: cannot read a date in {date_text!r}"
                )
            dated += published is not None
            entries.append(
                Entry(
                    url=url,
                    title=title,
                    published_at=published,
                    author=first_text(node, fields.author) if fields.author else None,
                    summary=first_text(node, fields.summary) if fields.summary else None,
                    version=int(published.timestamp()) if published else 0,
                )
            )
        if fields.date and entries and not dated:
            self.problem(
                "layout_changed",
                response.url,
                f"没有一个条目的日期能按 {self.site.date_formats or '常见格式'} 读出"
                f"（options.fields.date {'、'.join(fields.date)}）",
            )
        return entries

    def _is_wanted(self, entry: Entry) -> bool:
        if entry.latest is not None and entry.latest < self.cutoff:
            self.stat("too_old")
            return False
        if not self.state.is_new(entry.native_id, entry.version):
            self.stat("seen")
            return False
        return True

    def _stop_reason(self, page: int, wanted: int, oldest: datetime | None) -> str | None:
        """Why not to read the next list page; None to read it. Lists are newest first."""
        if wanted == 0:
            return "whole page already seen or too old"
        if oldest is not None and oldest < self.cutoff:
            return f"reached items older than {self.source_config.max_age_hours} h"
        if page >= self.source_config.max_pages:
            return f"max_pages {self.source_config.max_pages}"
        return None

    def _next_page(self, response: TextResponse, list_url: str, page: int) -> str | None:
        pagination = self.site.pagination
        if pagination is None:
            return None
        if pagination.next_page is not None:
            href = first_text(response, (pagination.next_page,))
            if not href:
                return None
            url = response.urljoin(href)
            return url if url.startswith(("http://", "https://")) else None
        assert pagination.page_url is not None
        # Page 2 is numbered page_start (index_1.html on TRS sites, where page 1 is index.html).
        return urljoin(list_url, pagination.page_url.format(page=pagination.page_start + page - 1))

    def parse_article(self, response: Response, entry: Entry) -> Iterator[Post]:
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not a page")
            yield self._post(entry, response.url, text=entry.summary or entry.title)
            return
        response = self.decoded(response)
        article = self.site.article
        assert article is not None
        self.articles_read += 1
        published = entry.published_at
        if article.body:
            paragraphs, _ = body_paragraphs(response, article.body, article.drop)
            if not paragraphs:
                self.articles_without_body += 1
                self.problem("no_body", response.url, f"none of {', '.join(article.body)} holds text")
        else:
            reading = read_article(response.text, response.url)
            paragraphs = reading.paragraphs
            if not paragraphs:
                self.articles_without_body += 1
                self.problem(
                    "no_body", response.url, f"the generic reader found no article: {reading.missing}"
                )
            moment = reading.published_at
            # The page prints the minutes the list leaves out; a different day is another time (an update).
            if moment is not None and (published is None or moment.date() == published.date()):
                published = moment
        if article.date:
            page_date = parse_time(first_text(response, article.date), self.patrol_at, self.site.date_formats)
            # The page usually has the minutes the list leaves out.
            published = page_date or published
        yield self._post(
            replace(
                entry,
                title=(first_text(response, article.title) if article.title else None) or entry.title,
                published_at=published,
                author=(first_text(response, article.author) if article.author else None) or entry.author,
            ),
            response.url,
            text="\n".join(paragraphs) or entry.summary or entry.title,
        )

    def _post(self, entry: Entry, page_url: str, text: str) -> Post:
        published = entry.published_at
        if published is None:
            self.problem(
                "no_time", page_url, "no publication date on the list or the page; the patrol time is used"
            )
            published = self.patrol_at
        self.state.remember(entry.native_id, int(published.timestamp()), entry.version)
        self.stat("posts")
        return Post(
            id=Post.make_id(Source.LOCAL, f"{self.source_name}:{entry.native_id}"),
            source=Source.LOCAL,
            url=entry.url,
            title=entry.title,
            text=text,
            published_at=published,
            crawled_at=now(),
            author=entry.author,
            author_kind=AuthorKind(self.site.author_kind),
            media=self.site.media or self.source_name,
            raw_ref=page_url,
        )

    # End ------------------------------------------------------------------------------------------------------

    def _finish(self, spider: scrapy.Spider) -> None:
        """On idle: a crawl that met a health problem finishes with it as its reason."""
        if spider is not self:
            return
        if not self.judged and self.articles_read and self.articles_without_body == self.articles_read:
            assert self.site.article is not None
            self.problem(
                "layout_changed",
                self.start_urls[0],
                f"读取的 {self.articles_read} 篇文章页都没有正文"
                f"（{'、'.join(self.site.article.body) or '通用读法'}）",
            )
        self.judged = True
        reason = next((reason for reason in REASONS if reason in self.health), None)
        if reason is not None:
            raise CloseSpider(reason)
