"""Crawl extensions: when a crawl ends, its stats, finish reason and health verdict are written to `var/runs/`
as JSON (read by `yuqing doctor`), and a source that stopped delivering is raised to
duty staff through the outbox."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

from config.env import get_env
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import CityUnits, UnitsFile
from pipeline import clock
from pipeline.health import (
    DEFERRED_STAT,
    GROUP_UNREACHABLE,
    UNREACHABLE,
    Verdict,
    assess,
    health_dir,
    report_health,
    source_label,
)

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _source_of(spider: Spider) -> str:
    return getattr(spider, "source_name", spider.name)


def _label_of(spider: Spider) -> str:
    config = getattr(spider, "source_config", None)
    return source_label(_source_of(spider), spider.name, getattr(config, "label", None))


def _stats(crawler: Crawler) -> dict[str, Any]:
    return crawler.stats.get_stats() if crawler.stats else {}


class RunRecordExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = _stats(self.crawler)
        source = _source_of(spider)
        record = {
            "source": source,
            "spider": spider.name,
            "finish_reason": reason,
            "finished_at": clock.now().isoformat(),
            "health": asdict(assess(source, reason, stats, _label_of(spider))),
            "stats": {k: _plain(v) for k, v in stats.items()},
        }
        runs = get_env().runs_dir
        runs.mkdir(parents=True, exist_ok=True)
        target = runs / f"{source}-{os.getpid()}-{clock.now():%Y%m%dT%H%M%S}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(target)


def _duty() -> list[str]:
    """Duty staff from units.yaml; a crawl run with only sources.yaml still tells the default duty office."""
    try:
        return load_file(config_dir() / "units.yaml", UnitsFile).city_units.duty
    except ConfigError as exc:
        logger.warning("health alert goes to the default duty office: %s", exc)
        return CityUnits().duty


class SourceHealthExtension:
    """On `spider_closed`: the crawl's health verdict is remembered per source (`var/health/`), and a problem
    (login wall, captcha, refusal, empty list, changed layout, a crawl that failed) becomes one alert a day
    per source and reason, addressed to the duty staff of units.yaml."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.verdict: Verdict | None = None  # once the crawl has closed, what the patrol reports

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        env = get_env()
        verdict = self.verdict = assess(_source_of(spider), reason, _stats(self.crawler), _label_of(spider))
        # Under a patrol, a site that cannot be reached is told at the patrol's end, together with any other
        # (commands.patrol): offline, every source fails at once.
        deferred = verdict.state == UNREACHABLE and self.crawler.settings.getbool(GROUP_UNREACHABLE)
        health = report_health(
            verdict,
            health_dir=health_dir(env),
            outbox_path=env.outbox_path,
            duty=[] if verdict.ok else _duty(),
            at=clock.now(),
            alert=not deferred,
        )
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("yuqing/health/state", verdict.state)
            self.crawler.stats.set_value("yuqing/health/alerted", int(health.alerted))
            if deferred:
                self.crawler.stats.set_value(DEFERRED_STAT, 1)
