"""Downloader middlewares shared by every spider.

`ReplayMiddleware` sends each request to the replay server (`pipeline.replay`) when the crawl has a replay
URL, and hands the answer back under the original URL, so spiders, tests and the demo run the same code.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from config.env import REPLAY_URL, get_env
from pipeline.replay import REPLAY_PATH, replay_request_url

logger = logging.getLogger(__name__)

ORIGINAL_URL = "yuqing_replay_original_url"


def replay_url(crawler: Crawler) -> str | None:
    """The replay server of one crawl: a patrol sets it on each of its crawls; a `scrapy crawl` started by
    hand reads the `YUQING_REPLAY_URL` variable."""
    return crawler.settings.get(REPLAY_URL) or get_env().replay_url


class ReplayMiddleware:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        # Judged by URL, not meta: a redirect or retry copies the meta of the request it replaces.
        self.prefix = f"{self.base_url}{REPLAY_PATH}?"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        base_url = replay_url(crawler)
        if not base_url:
            raise NotConfigured("no YUQING_REPLAY_URL, as setting or variable: requests go to the live sites")
        logger.info("replaying every request from %s", base_url)
        return cls(base_url)

    def process_request(self, request: Request) -> Request | None:
        if request.url.startswith(self.prefix):
            return None
        if request.meta.get("playwright"):
            # A rendered page is replayed from inside the browser (spiders.render), keeping its real address.
            return None
        # The original request already passed the duplicate filter; its stand-in must not be judged again.
        return request.replace(
            url=replay_request_url(self.base_url, request.url),
            meta={**request.meta, ORIGINAL_URL: request.url},
            dont_filter=True,
        )

    def process_response(self, request: Request, response: Response) -> Response:
        original = request.meta.get(ORIGINAL_URL)
        if original is None:
            return response
        return response.replace(url=original)
