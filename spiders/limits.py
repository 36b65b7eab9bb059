"""The size limit on every page and API answer (`DOWNLOAD_MAXSIZE` in config/settings.py), made visible.

Scrapy stops a download that grows past the limit, or whose announced length is over it; on its own that is
one line in the log. `DownloadSizeMiddleware` names the source, URL and size of each page cut off this way
and counts it as `yuqing/source/<source>/too_large`, which the patrol summary and the run record show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from twisted.internet.defer import CancelledError

from spiders.health import original_of, report_problem, source_of
from spiders.middlewares import ORIGINAL_URL

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

TOO_LARGE = "too_large"
# Request meta: the length a server announced, and the bytes received so far.
_ANNOUNCED = "yuqing_announced_size"
_RECEIVED = "yuqing_received_size"


class PageTooLarge(IgnoreRequest):
    """A download cut off at the size limit: counted and named here, so no traceback follows it."""

    def __init__(self, source: str, url: str, detail: str) -> None:
        super().__init__(f"{source}: {TOO_LARGE}: {url}: {detail}")
        self.source = source
        self.url = url


class DownloadSizeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def headers_received(self, headers: Any, body_length: Any, request: Request, **_: Any) -> None:
        if isinstance(body_length, int):  # Twisted's UNKNOWN_LENGTH when the server announces none
            request.meta[_ANNOUNCED] = body_length

    def bytes_received(self, data: bytes, request: Request, **_: Any) -> None:
        request.meta[_RECEIVED] = request.meta.get(_RECEIVED, 0) + len(data)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Names and counts a download cut off at the limit, then passes it on as `PageTooLarge`."""
        if not isinstance(exception, DownloadCancelledError | CancelledError):
            return
        limit = request.meta.get("download_maxsize", self.maxsize)
        announced = request.meta.get(_ANNOUNCED) or 0
        received = request.meta.get(_RECEIVED) or 0
        if not limit or max(announced, received) <= limit:
            return
        if announced > limit:
            detail = f"页面声明 {announced:,} 字节，超过下载上限 {limit:,} 字节（DOWNLOAD_MAXSIZE），未下载"
        else:
            detail = (
                f"已收到 {received:,} 字节仍未结束，超过下载上限 {limit:,} 字节（DOWNLOAD_MAXSIZE），已停止"
            )
        source = source_of(self.crawler.spider)
        url = original_of(request.meta.get(ORIGINAL_URL, request.url))
        report_problem(self.crawler, source, TOO_LARGE, url, detail)
        raise PageTooLarge(source, url, detail) from exception
