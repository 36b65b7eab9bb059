"""微博 keyword search: the real-time results (实时, newest first) of m.weibo.cn for each configured keyword.

`api/container/getIndex?containerid=100103type=61&q=<keyword>&page_type=searchall&page=N` answers
`{"ok": 1, "data": {"cardlistInfo": {...}, "cards": [{"card_type": 9, "mblog": {...}}, ...]}}`, and
`{"ok": 0, "msg": "这里还没有内容"}` past the last page. Everything else is `WeiboSpider`'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from config.models import WeiboSearchOptions
from spiders.base.weibo import WeiboSpider, search_url


class WeiboSearchSpider(WeiboSpider):
    name = "weibo_search"
    options_model = WeiboSearchOptions
    options: WeiboSearchOptions

    @property
    def comment_keywords(self) -> tuple[str, ...]:
        return tuple(self.options.comment_keywords or self.options.keywords)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s, %d keywords, skipping posts older than %s (%s, %s)",
            self.source_name,
            self.patrol_at.isoformat(),
            len(self.options.keywords),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
            "with cookie" if self._cookie else "without cookie",
        )
        for keyword in self.options.keywords:
            yield self.search_request(keyword, 1)

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return self.api_request(
            search_url(self.base_url, keyword, page),
            self.parse_search,
            referer=f"https://m.weibo.cn/search?containerid={quote(f'100103type=1&q={keyword}', safe='')}",
            keyword=keyword,
            page=page,
        )

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        cards = self.read_list(response)
        if cards is None:
            return
        if cards.ended:
            self.stat("no_results" if page == 1 else "last_page")
            self.logger.info("%s: %s: no more results (%s)", self.source_name, response.url, cards.message)
            return
        out, stop = self.take_page(response, cards, page)
        yield from out
        if stop is None:
            yield self.search_request(keyword, page + 1)
