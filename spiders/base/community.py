"""What the spiders of user-written sites share (百度贴吧, 微信公众号 through 搜狗): source config and typed
options, incremental state, counted problems, true-charset decoding, and block pages that end the crawl
with a finish reason the source-health check reads (`captcha`, `layout_changed`, `empty`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar, NoReturn, Self

import scrapy
from pydantic import BaseModel
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse

from pipeline.health import REASONS
from spiders.base.source import SourceSpider
from spiders.health import SourceUnavailable, note_fetch_failure, report_problem
from spiders.middlewares import ORIGINAL_URL
from spiders.parsing.extract import decode_html, normalise_charset

# Finish reasons that say a source is unhealthy (`pipeline.health.REASONS`). A captcha ends the crawl at
# once (more requests only lengthen the block); the others are remembered and name the finish once the
# rest of the crawl is done, the most urgent first.
CAPTCHA = "captcha"
LAYOUT_CHANGED = "layout_changed"
EMPTY = "empty"


class PageError(ValueError):
    """A page or answer that cannot be read; `reason` is the counted key, `detail` says what was missing."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def header_charset(response: Response) -> str | None:
    """The charset the server's Content-Type names, as written."""
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


class CommunitySpider(SourceSpider):
    """Base of the spiders of user-written sites: `scrapy crawl <spider> -a source=<name in sources.yaml>`.

    Subclasses set `name` and `options_model` (the pydantic model of their `options`). Problems are logged
    once with source, URL and reason and counted as `yuqing/source/<source>/<reason>`; what went well is
    counted under `yuqing/crawl/<source>/`.
    """

    options_model: ClassVar[type[BaseModel]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.health: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._finish_with_health, signal=signals.spider_idle)
        return spider

    def _finish_with_health(self, spider: scrapy.Spider) -> None:
        if spider is self and self.health is not None:
            raise CloseSpider(self.health)

    # Counting ------------------------------------------------------------------------------------------

    def problem(self, reason: str, url: str, detail: str, level: int = logging.WARNING) -> None:
        """One greppable line naming source, URL and what is wrong, counted as `yuqing/source/<source>/<reason>`."""
        crawler = getattr(self, "crawler", None)
        if reason in REASONS and crawler is not None:
            # Also keeps the first detail for the source-health alert.
            report_problem(crawler, self.source_name, reason, url, detail)
            return
        super().problem(reason, url, detail, level)

    def unhealthy(self, reason: str, url: str, detail: str) -> None:
        """A problem that says the source no longer answers as it did; the most urgent names the finish."""
        self.problem(reason, url, detail)
        order = list(REASONS)
        if self.health is None or order.index(reason) < order.index(self.health):
            self.health = reason

    def blocked(self, url: str, detail: str) -> NoReturn:
        """The site answered with a verification page: count it, name it, and stop asking."""
        self.problem(CAPTCHA, url, detail, logging.ERROR)
        raise CloseSpider(CAPTCHA)

    # Responses -----------------------------------------------------------------------------------------

    def in_true_charset(self, response: TextResponse) -> TextResponse:
        """The response decoded as its bytes really are; a page may be labelled UTF-8 over GBK, or the reverse."""
        declared = header_charset(response) or response.encoding
        found = decode_html(response.body, declared)
        if found.replaced:
            self.problem(
                "bad_encoding",
                response.url,
                f"{found.replaced} characters unreadable in any of utf-8, {declared}, gb18030",
            )
        if found.encoding == normalise_charset(response.encoding):
            return response
        self.problem(
            "charset_mismatch",
            response.url,
            f"labelled {declared}, but the bytes are {found.encoding}",
            logging.INFO,
        )
        return response.replace(encoding=found.encoding)

    def requested_url(self, response: Response) -> str:
        """The URL the spider asked for (a redirect or the replay server may have answered from another)."""
        redirects = response.meta.get("redirect_urls") if response.request is not None else None
        return redirects[0] if redirects else response.url

    def is_block_page(self, response: Response) -> bool:
        """Whether an answer is the site's verification page instead of content; subclasses know theirs."""
        return False

    def fetch_failed(self, failure: Any) -> None:
        """Errback for every request: a page that could not be fetched is a counted problem, not a traceback.

        A verification page sent with an error status (403) is a captcha like any other.
        """
        request = failure.request
        if failure.check(SourceUnavailable):
            return  # counted by the health middleware, which is closing the crawl
        # Name the page the spider asked for, also when the replay middleware sent a stand-in.
        url = request.meta.get(ORIGINAL_URL, request.url)
        response = getattr(failure.value, "response", None)
        if response is not None and self.is_block_page(response):
            self.blocked(url, f"HTTP {response.status} 验证页")
        if response is not None:
            self.problem(f"http_{response.status}", url, f"HTTP {response.status}")
        else:
            # No answer at all: counted, named and judged by the health middleware for every spider alike.
            note_fetch_failure(failure, self.source_name, self.logger)
