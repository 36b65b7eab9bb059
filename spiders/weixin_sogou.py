"""微信公众号 articles found through 搜狗's public WeChat search, each configured query in turn, yielding only
articles not seen before. The text is the summary the result list shows; the link is Sogou's redirect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from config.models import WeixinSogouOptions
from pipeline.clock import now
from pipeline.items import Post
from spiders.base.community import LAYOUT_CHANGED, CommunitySpider, PageError
from spiders.base.weixin import SOGOU_WEIXIN, article_post, is_antispider_page, parse_result_page, search_url
from spiders.health import EXPECTS


class WeixinSogouSpider(CommunitySpider):
    name = "weixin_sogou"
    options_model = WeixinSogouOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = (self.start_urls[0] if self.start_urls else SOGOU_WEIXIN).rstrip("/")
        self.yielded: set[str] = set()  # one article found by two queries is one post

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s for %s, skipping articles older than %s (%s)",
            self.source_name,
            self.patrol_at.isoformat(),
            "、".join(self.options.queries),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
        )
        for query in self.options.queries:
            yield self._request(query, 1)

    def _request(self, query: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            search_url(query, page, self.base),
            callback=self.parse_results,
            errback=self.fetch_failed,
            cb_kwargs={"query": query, "page": page},
            meta={EXPECTS: "list"},
        )

    def is_block_page(self, response: Response) -> bool:
        text = response.text if isinstance(response, TextResponse) else ""
        return is_antispider_page(response.url, text)

    def parse_results(self, response: Response, query: str, page: int) -> Iterator[Post | scrapy.Request]:
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not a page")
            return
        response = self.in_true_charset(response)
        if is_antispider_page(response.url, response.text):
            self.blocked(self.requested_url(response), f"出现反爬验证页 {response.url}")
        try:
            results = parse_result_page(response.text, self.base)
        except PageError as exc:
            self.unhealthy(LAYOUT_CHANGED, response.url, f"检索「{query}」：{exc.detail}")
            return
        self.stat("result_pages")
        for detail in results.bad_entries:
            self.problem("bad_entry", response.url, detail)
        if results.no_results:
            self.stat("no_results")
        crawled = now()
        new = 0
        for article in results.articles:
            self.stat("results")
            if article.published_at is None:
                self.problem("bad_entry", response.url, f"{article.title!r}: no time in div.s-p")
                continue
            if article.published_at < self.cutoff:
                self.stat("too_old")
                continue
            if article.doc_id in self.yielded or article.doc_id in self.state.seen:
                self.stat("seen")
                continue
            post = article_post(article, crawled, self.requested_url(response))
            if post is None:
                continue
            moment = int(article.published_at.timestamp())
            self.state.remember(article.doc_id, moment, moment)
            self.yielded.add(article.doc_id)
            new += 1
            self.stat("posts")
            yield post
        # Results come by relevance, not time: paging stops on a page with nothing new, not on an old item.
        if results.has_next and new and page < self.source_config.max_pages:
            yield self._request(query, page + 1)
