"""The patrol every list-driven portal spider makes: read a list page, fetch what is new, page on until
there is nothing new, then stop. Subclasses say how a list answer reads (`read_list`) and how the next
page is asked for; JSON, JSONP and POST APIs all fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response, TextResponse

from pipeline.items import Post
from spiders.base.news_portal import Listing, NewsPortalSpider
from spiders.health import EXPECTS


class ListError(ValueError):
    """A list answer or entry that cannot be used; `reason` is the counted key, `detail` says what and where."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class ListPage:
    """What one list answer held: the usable entries, the broken ones, and how to ask for the next page."""

    listings: list[Listing] = field(default_factory=list)
    errors: list[tuple[str, ListError]] = field(default_factory=list)  # (where in the answer, error)
    entries: int = 0  # entries in the answer, usable or not
    next_request: scrapy.Request | None = None


_JSONP = re.compile(r"^\s*(?:try\s*\{\s*)?[\w$.]+\s*\(\s*(?P<json>[\[{].*[\]}])\s*\)\s*;?", re.DOTALL)


def load_json(body: bytes | str, *, encoding: str = "utf-8") -> Any:
    """A JSON or JSONP (`callback({...})`) answer; raises `ListError("bad_json", ..)` naming what it got."""
    text = body.decode(encoding, errors="replace") if isinstance(body, bytes) else body
    text = text.strip().lstrip("\ufeff")
    wrapped = _JSONP.match(text)
    if wrapped:
        text = wrapped.group("json")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ListError("bad_json", f"不是 JSON（{exc}），开头为 {text[:60]!r}") from None


def looks_blocked(response: Response) -> str | None:
    """Why an answer that should be data is a block page (captcha, login wall), or None."""
    if not isinstance(response, TextResponse):
        return None
    head = response.text[:3000]
    for mark, what in (
        ("验证码", "验证码页"),
        ("安全验证", "安全验证页"),
        ("访问过于频繁", "限流页（访问过于频繁）"),
        ("请登录", "登录页"),
    ):
        if mark in head:
            return what
    return None


class RollingListSpider(NewsPortalSpider):
    """A portal whose articles are listed newest first by a list API or page.

    Subclasses implement `read_list(response, page) -> ListPage` and say what a list answer is
    (`list_expects`: "json" for APIs, "list" for pages) so block pages are recognised; `article_request` and
    `parse_article`
    serve article pages read with the portal's layout, and `more_requests` may ask for what hangs off a post
    (comment threads).
    """

    list_expects: ClassVar[str] = "json"
    # What an empty first list page most likely means on this portal, for the duty staff who read it.
    empty_list_detail: ClassVar[str] = "列表没有返回任何条目：频道是否已迁移或停用？"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s, skipping items older than %s (%s)",
            self.source_name,
            self.patrol_at.isoformat(),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
        )
        for request in self.first_requests():
            yield request

    def first_requests(self) -> Iterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.list_request(url, 1)

    def list_request(self, url: str, page: int, **kwargs: Any) -> scrapy.Request:
        meta = {EXPECTS: self.list_expects, **kwargs.pop("meta", {})}
        return scrapy.Request(
            url,
            callback=self.parse_list,
            errback=self.fetch_failed,
            priority=10,
            cb_kwargs={"page": page},
            meta=meta,
            **kwargs,
        )

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        raise NotImplementedError

    def parse_list(self, response: Response, page: int = 1) -> Iterator[scrapy.Request | Post]:
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not text")
            return
        try:
            listed = self.read_list(response, page)
        except ListError as exc:
            blocked = looks_blocked(response)
            if blocked:
                self.problem("blocked", response.url, f"列表页返回的是{blocked}（{exc.detail}）")
            else:
                self.problem(exc.reason, response.url, exc.detail)
            return
        self.stat("list_pages")
        if page == 1 and not listed.entries:
            self.problem("empty_list", response.url, self.empty_list_detail)
        for where, error in listed.errors:
            self.problem(error.reason, response.url, f"{where}: {error.detail}")
        wanted = [listing for listing in listed.listings if self.is_wanted(listing)]
        for listing in wanted:
            yield self.article_request(listing)
        yield from self.list_extras(listed.listings, wanted)
        oldest = min((item.published_at for item in listed.listings if item.published_at), default=None)
        stop = self.stop_reason(page, listed.entries, len(wanted), oldest, listed.next_request)
        self.logger.info(
            "%s: list page %d: %d entries, %d new%s",
            self.source_name,
            page,
            listed.entries,
            len(wanted),
            f"; stop ({stop})" if stop else "",
        )
        if stop is None and listed.next_request is not None:
            yield listed.next_request

    def stop_reason(
        self, page: int, entries: int, wanted: int, oldest: datetime | None, next_request: Any
    ) -> str | None:
        """Why not to read the next list page; None to read it. Lists are newest first."""
        if next_request is None:
            return "last page"
        if entries == 0:
            return "empty page"
        if wanted == 0:
            return "whole page already seen or too old"
        if oldest is not None and oldest < self.cutoff:
            return f"reached items older than {self.source_config.max_age_hours} h"
        if page >= self.source_config.max_pages:
            return f"max_pages {self.source_config.max_pages}"
        return None

    def article_request(self, listing: Listing) -> scrapy.Request:
        return scrapy.Request(
            listing.url,
            callback=self.parse_article,
            errback=self.fetch_failed,
            cb_kwargs={"listing": listing},
        )

    def parse_article(self, response: Response, listing: Listing) -> Iterator[Post | scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not a page")
            return
        blocked = looks_blocked(response)
        if blocked and not self.read_article(response).paragraphs:
            # Counted apart from `no_body`: the template is fine, the site refused us.
            self.problem("blocked", response.url, f"文章页返回的是{blocked}")
            return
        try:
            post = self.article_post(response, listing)
        except Exception:
            # A page the parser did not foresee costs this item, not the patrol.
            self.logger.exception("%s: parse_error: %s", self.source_name, response.url)
            self.count_problem("parse_error")
            return
        if post is not None:
            yield post
            yield from self.more_requests(post, listing)

    def list_extras(self, listings: list[Listing], wanted: list[Listing]) -> Iterator[scrapy.Request]:
        """Requests a list page calls for besides new articles (threads that grew); none by default."""
        return iter(())

    def more_requests(self, post: Post, listing: Listing) -> Iterator[scrapy.Request]:
        """Requests for what hangs off a post (its comment thread); none by default."""
        return iter(())
