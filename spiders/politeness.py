"""Politeness the stock middlewares lack: retries that back off, and a proxy chosen per source.

`BackoffRetryMiddleware` replaces Scrapy's RetryMiddleware: the same decisions (RETRY_TIMES, RETRY_HTTP_CODES,
`max_retry_times` meta), but each retry waits `YUQING_RETRY_BACKOFF_BASE * 2**(attempt-1)` seconds, at least
what a `Retry-After` header asks and at most `YUQING_RETRY_BACKOFF_MAX`. AutoThrottle then keeps the pace.
Failures that waiting does not mend are retried less (`YUQING_RETRY_TIMES_BY_FAILURE`): a name that does not
resolve or a failed TLS handshake not at all, a refused connection once, a timeout not at all (it has already
cost DOWNLOAD_TIMEOUT), so an unreachable site is known in seconds, not minutes.
`SourceProxyMiddleware` sends a source's requests through the proxy whose URL is in the environment variable
its `proxy_env` names; the URL may hold a password, so it is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from config.errors import ConfigError
from pipeline import clock
from spiders.health import classify_failure

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None) -> float | None:
    """A `Retry-After` header in seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((when - clock.now()).total_seconds(), 0.0)


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...)."""
    delay = base * 2 ** (attempt - 1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


# Most retries a failure of each kind (spiders.health.classify_failure) gets, below RETRY_TIMES.
RETRY_TIMES_BY_FAILURE: dict[str, int] = {"dns": 0, "tls": 0, "refused": 1, "proxy": 1, "timeout": 0}


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("YUQING_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 60.0)
        self.by_failure = {
            **RETRY_TIMES_BY_FAILURE,
            **{k: int(v) for k, v in settings.getdict("YUQING_RETRY_TIMES_BY_FAILURE").items()},
        }

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, retry_after_seconds(response.headers.get("Retry-After")))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        failure = classify_failure(exception, request)
        limit = self.by_failure.get(failure.kind) if failure is not None else None
        if failure is not None and limit is not None and request.meta.get("retry_times", 0) >= limit:
            logger.info("not retrying %s: %s (%s)", request.url, failure.detail, failure.error)
            return None
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, retry_after: float | None) -> None:
        delay = backoff_delay(int(retry.meta.get("retry_times", 1)), self.base, self.cap, retry_after)
        if self.crawler.stats is not None:
            # Seconds with their fraction: the collector adds any number, though its annotation says int.
            self.crawler.stats.inc_value("yuqing/retry/backoff_seconds", round(delay, 3), start=0)  # type: ignore[arg-type]
        logger.info("retry %d of %s in %.1f s", retry.meta.get("retry_times", 1), retry.url, delay)
        # Holding this download's place makes the whole crawl wait too, which is the polite thing to do
        # when a site says it is overloaded.
        await asyncio.sleep(delay)


class SourceProxyMiddleware:
    def __init__(self, proxy_url: str, variable: str) -> None:
        self.proxy_url = proxy_url
        self.variable = variable

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        source = getattr(crawler.spider, "source_config", None)
        variable = getattr(source, "proxy_env", None)
        if source is None or not variable:
            raise NotConfigured  # no message: Scrapy would log one warning per crawl
        proxy_url = os.environ.get(variable, "").strip()
        if not proxy_url:
            raise ConfigError(
                "sources.yaml",
                f"{source.name}.proxy_env",
                f"names the environment variable {variable}, which is not set (it should hold the proxy URL)",
            )
        logger.info("%s: requests go through the proxy in $%s", source.name, variable)
        return cls(proxy_url, variable)

    def process_request(self, request: Request) -> None:
        # A request that chose its own proxy (or none, with proxy=None) keeps it.
        request.meta.setdefault("proxy", self.proxy_url)
