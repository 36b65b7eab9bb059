"""Two guards every crawl process carries: a full disk stops the crawl at once (counted, finish reason
`disk_full`) instead of failing item after item, and no secret the config names reaches its log."""

from __future__ import annotations

import atexit
import logging
import os
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from config.databases import is_disk_full
from config.env import get_env
from config.secrets import install_log_masking
from pipeline.storage import DISK_FULL, DISK_FULL_STAT, EXIT_DISK_FULL, has_room

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


class DiskFullGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        guard = cls(crawler)
        crawler.signals.connect(guard.item_error, signal=signals.item_error)
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def spider_closed(self, spider: Spider, reason: str) -> None:
        # A batch stored as the crawl closes fails outside any item; the disk is still full now (this
        # process holds its write-ahead logs), and after it exits it may no longer look so.
        if not self.stopping and not has_room(get_env().data_dir):
            self.stopping = True
            logger.error("磁盘已满：%s 结束时剩余空间不足，所存内容可能不全", _source(spider))
            atexit.register(_exit_disk_full)

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        if not is_disk_full(failure.value):
            return
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(DISK_FULL_STAT)
        if self.stopping:
            return
        self.stopping = True
        # The run record may not fit on the disk either, so the patrol learns of this by the exit code.
        atexit.register(_exit_disk_full)
        # What was committed stays; fetching more would only fail to store it.
        logger.error("磁盘已满，停止抓取 %s：%s", _source(spider), failure.value)
        if self.crawler.engine is not None:
            # Scheduled, not awaited: the engine waits for this very item before it can close.
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=DISK_FULL))


def _source(spider: Spider) -> str:
    return getattr(spider, "source_name", spider.name)


def _exit_disk_full() -> None:
    # Registered last, so it runs first at exit: after the crawl ended normally, only the code changes.
    logging.shutdown()
    os._exit(EXIT_DISK_FULL)


class SecretMasking:
    """Installs the masking of configured secrets on this crawl's logging (Scrapy sets up its own)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        install_log_masking()
        return cls()
