"""微博 account timelines: the posts of the configured accounts (local government, media, influencers).

`api/container/getIndex?type=uid&value=<uid>&containerid=107603<uid>` answers the newest posts (a pinned
one first) in the same card list as search, with `data.cardlistInfo.since_id` naming the next page.
Everything else is `WeiboSpider`'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from config.models import WeiboAccount, WeiboTimelineOptions
from spiders.base.weibo import WeiboSpider, timeline_url


class WeiboTimelineSpider(WeiboSpider):
    name = "weibo_timeline"
    options_model = WeiboTimelineOptions
    options: WeiboTimelineOptions

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s, %d accounts, skipping posts older than %s (%s, %s)",
            self.source_name,
            self.patrol_at.isoformat(),
            len(self.options.accounts),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
            "with cookie" if self._cookie else "without cookie",
        )
        for account in self.options.accounts:
            yield self.timeline_request(account, None, 1)

    def timeline_request(self, account: WeiboAccount, since_id: str | None, page: int) -> scrapy.Request:
        return self.api_request(
            timeline_url(self.base_url, account.uid, since_id),
            self.parse_timeline,
            referer=f"https://m.weibo.cn/u/{account.uid}",
            account=account,
            page=page,
        )

    def parse_timeline(self, response: Response, account: WeiboAccount, page: int) -> Iterator[Any]:
        cards = self.read_list(response)
        if cards is None:
            return
        if cards.ended:
            self.stat("last_page")
            self.logger.info("%s: %s: no more posts (%s)", self.source_name, response.url, cards.message)
            return
        out, stop = self.take_page(response, cards, page)
        yield from out
        if stop is None and cards.since_id is None:
            stop = "no since_id for a next page"
        if stop is None:
            yield self.timeline_request(account, cards.since_id, page + 1)
