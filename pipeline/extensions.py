"""Run records: when a crawl ends, its stats and finish reason are written to `var/runs/` as JSON, where
the patrol summary, `yuqing doctor` and source-health checks read them."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

from config.env import get_env
from pipeline import clock

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class RunRecordExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        source = getattr(spider, "source_name", spider.name)
        record = {
            "source": source,
            "spider": spider.name,
            "finish_reason": reason,
            "finished_at": clock.now().isoformat(),
            "stats": {k: _plain(v) for k, v in stats.items()},
        }
        runs = get_env().runs_dir
        runs.mkdir(parents=True, exist_ok=True)
        target = runs / f"{source}-{os.getpid()}-{clock.now():%Y%m%dT%H%M%S}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(target)
