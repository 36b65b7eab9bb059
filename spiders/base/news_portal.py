"""What every news-portal spider shares: its source config, incremental state, problem counting, and turning
an article page into a `Post`.

A portal spider lists articles (roll API, channel page), decides which are new with `SourceState`, and hands
each article page to `article_post` with what the list said about it. Field parsers are plain functions on
strings so they can be table-tested.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from scrapy.http import TextResponse

# The text clean-up (classifiers.text), field parsers, times and page layouts (spiders.parsing, which the
# `yuqing extract` command reads pages with too) stay importable from here for the portal spiders.
from classifiers.text import clean_text
from pipeline.clock import now
from pipeline.items import AuthorKind, Counts, Post, Source
from spiders.base.source import SourceSpider, load_source_config
from spiders.health import note_fetch_failure
from spiders.middlewares import ORIGINAL_URL
from spiders.parsing.extract import decode_html, fill_from_generic, generic_page, normalise_charset
from spiders.parsing.fields import dedupe_paragraphs, parse_editor
from spiders.parsing.layouts import COMMON_DROP, ArticleLayout, ArticlePage, extract_article
from spiders.parsing.times import parse_time
from spiders.state import DEFAULT_LIMIT

__all__ = [
    "COMMON_DROP",
    "ArticleLayout",
    "ArticlePage",
    "Listing",
    "NewsPortalSpider",
    "author_kind_of",
    "clean_text",
    "dedupe_paragraphs",
    "extract_article",
    "load_source_config",
    "parse_count",
    "parse_editor",
    "parse_time",
]

_MINUTE = timedelta(minutes=1)

# Central media whose reports weigh as 官方媒体; a name matches when it starts with one of these
# (人民日报客户端, 新华社客户端, 央视新闻客户端 ...).
CENTRAL_MEDIA: tuple[str, ...] = (
    "人民日报",
    "人民网",
    "新华社",
    "新华网",
    "新华每日电讯",
    "央视新闻",
    "央视网",
    "央广网",
    "中央广播电视总台",
    "中国新闻网",
    "中新网",
    "中国新闻社",
    "光明日报",
    "光明网",
    "经济日报",
    "中国日报",
    "求是",
    "解放军报",
    "中国青年报",
    "中国青年网",
    "法治日报",
    "工人日报",
    "农民日报",
    "科技日报",
    "中国纪检监察报",
    "中央纪委国家监委网站",
    "中国政府网",
    "国际在线",
    "中国网",
)


# Field parsers ---------------------------------------------------------------------------------------------


_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿wW]?)")


def parse_count(text: Any) -> int:
    """Counts as pages print them: "3,862" -> 3862, "1.2万" -> 12000; empty or junk -> 0."""
    if isinstance(text, int):
        return max(text, 0)
    match = _COUNT.search(str(text or "").replace(",", "").replace("，", ""))
    if match is None:
        return 0
    number = float(match.group(1))
    unit = match.group(2)
    if unit in ("万", "w", "W"):
        number *= 10_000
    elif unit == "亿":
        number *= 100_000_000
    return int(number)


def author_kind_of(media: str | None) -> AuthorKind:
    name = clean_text(media)
    if name and name.startswith(CENTRAL_MEDIA):
        return AuthorKind.OFFICIAL_MEDIA
    return AuthorKind.UNKNOWN


# Article pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listing:
    """What a list page said about an article; the article page wins where it says otherwise."""

    native_id: str
    url: str
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    media: str | None = None
    intro: str | None = None
    comments: int = 0


# The spider ------------------------------------------------------------------------------------------------


class NewsPortalSpider(SourceSpider):
    """Base of the portal spiders: `scrapy crawl <spider> -a source=<name in sources.yaml>`.

    Subclasses set `name`, `portal` (the `Source`) and `layout`, list articles in `start`/callbacks and call
    `article_post` on each article page. Problems are logged once with source, URL and reason, and counted
    as `yuqing/source/<source>/<reason>`; the crawl goes on. What went well is counted under
    `yuqing/crawl/<source>/`.
    """

    portal: ClassVar[Source]
    layout: ClassVar[ArticleLayout]

    def state_limit(self) -> int:
        # Portal options are free-form (no options model), so the limit is read with its default here.
        return int(self.options.get("state_limit", DEFAULT_LIMIT))

    def fetch_failed(self, failure: Any) -> None:
        """Errback for every request: a page that could not be fetched is a counted problem, not a traceback."""
        request = failure.request
        # Name the page the spider asked for, also when the replay middleware sent a stand-in.
        url = request.meta.get(ORIGINAL_URL, request.url)
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.problem(f"http_{response.status}", url, f"HTTP {response.status}")
        else:
            # No answer at all: counted, named and judged by the health middleware for every spider alike.
            note_fetch_failure(failure, self.source_name, self.logger)

    def is_wanted(self, listing: Listing) -> bool:
        """New or changed since the last patrol, and young enough to matter."""
        if listing.published_at is not None and listing.published_at < self.cutoff:
            self.stat("too_old")
            return False
        version = int((listing.modified_at or listing.published_at or self.patrol_at).timestamp())
        if not self.state.is_new(listing.native_id, version):
            self.stat("seen")
            return False
        return True

    def read_article(self, response: TextResponse) -> ArticlePage:
        """The fields of one article page by this portal's layout; portals without CSS rules override it."""
        return extract_article(response, self.layout)

    def in_true_charset(self, response: TextResponse) -> TextResponse:
        """The response decoded as its bytes really are: a page may declare gb2312 over UTF-8, or the reverse."""
        found = decode_html(response.body, response.encoding)
        if found.encoding == normalise_charset(response.encoding):
            return response
        self.problem(
            "charset_mismatch",
            response.url,
            f"read as {response.encoding}, but the bytes are {found.encoding}",
            logging.INFO,
        )
        return response.replace(encoding=found.encoding)

    def article_post(self, response: TextResponse, listing: Listing) -> Post | None:
        """The `Post` for one article page, or None (counted) when the page has no body to read.

        When the portal's layout finds no body the page is counted as `no_body` (its template may have
        changed) and the generic extractor reads it; the post is kept if that finds an article.
        """
        response = self.in_true_charset(response)
        page = self.read_article(response)
        if not page.paragraphs:
            generic = generic_page(response.text, response.url)
            if not generic.paragraphs:
                self.problem("no_body", response.url, f"{page.missing}; {generic.missing}")
                return None
            self.problem(
                "no_body",
                response.url,
                f"{page.missing}; the layout rule failed, the generic extractor read "
                f"{len(generic.text)} characters instead",
            )
            self.stat("generic_extract")
            page = fill_from_generic(page, generic)
        if page.repeated:
            self.problem(
                "body_repeated", response.url, f"{page.repeated} repeated paragraphs dropped", logging.INFO
            )
        published = page.published_at or listing.published_at
        if (
            page.published_at
            and listing.published_at
            and abs(page.published_at - listing.published_at) < _MINUTE
        ):
            # Pages often print minutes only; the list's time is the same moment, to the second.
            published = listing.published_at
        if published is None:
            self.problem("no_time", response.url, "no publication time on the page or in the list")
            return None
        if page.published_at is None:
            self.problem("no_page_time", response.url, "publication time taken from the list", logging.INFO)
        media = page.media or listing.media
        post = Post(
            id=Post.make_id(self.portal, listing.native_id),
            source=self.portal,
            url=response.url,
            title=page.title or listing.title,
            text=page.text,
            published_at=published,
            crawled_at=now(),
            author=page.editor,
            author_kind=author_kind_of(media),
            media=media,
            counts=Counts(comments=listing.comments),
            raw_ref=response.url,
        )
        listed = listing.published_at or published
        self.state.remember(
            listing.native_id, int(listed.timestamp()), int((listing.modified_at or listed).timestamp())
        )
        self.stat("posts")
        return post
