"""What every spider driven by a `sources.yaml` entry shares: the crawl settings that entry chooses, its
incremental state, and counting what went well and what went wrong.

Politeness (delay, concurrency, robots.txt, retries, proxy), rendering in Chromium and the shared Redis
frontier are settings of the crawl, applied at spider priority before the crawl starts, so a `-s` on the
command line still wins and no spider callback deals with them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import scrapy
from pydantic import BaseModel, ValidationError
from scrapy import signals

from config.env import RUN_ID, Env, get_env
from config.errors import ConfigError, explain
from config.loader import config_dir, load_file
from config.models import SourceConfig, SourcesFile
from pipeline import clock
from pipeline.items import SHANGHAI
from spiders.frontier import frontier_settings
from spiders.render import render_settings
from spiders.state import SourceState

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


def load_source_config(name: str, directory: Path | None = None) -> SourceConfig:
    """One entry of `sources.yaml` (only that file is read: a crawl needs nothing else of the config)."""
    path = (directory or config_dir()) / "sources.yaml"
    sources = load_file(path, SourcesFile).sources
    for source in sources:
        if source.name == name:
            return source
    known = "、".join(s.name for s in sources) or "无"
    raise ConfigError(str(path), "sources", f"没有名为 {name!r} 的来源（已有：{known}）")


def run_id(env: Env, settings: BaseSettings | None = None) -> str:
    """The patrol a crawl belongs to: the `YUQING_RUN_ID` setting its patrol gives it, else the variable
    of that name (a `scrapy crawl` started by hand), else the minute it started (machines started by the
    same schedule agree on it)."""
    given = settings.get(RUN_ID) if settings is not None else None
    return given or env.run_id or f"{clock.now():%Y%m%dT%H%M}"


def source_settings(source: SourceConfig, env: Env, settings: BaseSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "DOWNLOAD_DELAY": source.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "ROBOTSTXT_OBEY": source.robots_obey,
    }
    if source.retries is not None:
        values["RETRY_TIMES"] = source.retries
    if source.render:
        values |= render_settings(env, source.concurrency, settings.getfloat("DOWNLOAD_TIMEOUT"))
    if env.redis_url is not None:
        values |= frontier_settings(source.name, run_id(env, settings))
    return values


def apply_source_settings(crawler: Crawler, source: SourceConfig) -> None:
    if crawler.settings.frozen:
        return
    for name, value in source_settings(source, get_env(), crawler.settings).items():
        # Spider priority: a `-s` on the command line still wins.
        crawler.settings.set(name, value, priority="spider")


class SourceSpider(scrapy.Spider):
    """Base of the spiders crawling one `sources.yaml` entry: `scrapy crawl <spider> -a source=<name>`.

    Loads that entry (its `spider` must be this spider) and its typed `options` when `options_model` is
    set, and the source's state, saved when the crawl closes. Problems are logged once with source, URL
    and reason and counted as `yuqing/source/<source>/<reason>`; what went well is counted under
    `yuqing/crawl/<source>/`.
    """

    options_model: ClassVar[type[BaseModel] | None] = None

    def __init__(
        self, source: str | None = None, *, source_config: SourceConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source_config = source_config or load_source_config(source or self.name)
        if self.source_config.spider != self.name:
            raise ConfigError(
                "sources.yaml",
                f"{self.source_config.name}.spider",
                f"写的是 {self.source_config.spider!r}，但这个爬虫是 {self.name!r}",
            )
        self.source_name = self.source_config.name
        self.options: Any = self._read_options()
        self.start_urls = list(self.source_config.start_urls)
        self.state = SourceState.load(self.source_name, limit=self.state_limit())
        self.patrol_at = clock.now()
        self.cutoff = self.patrol_at - timedelta(hours=self.source_config.max_age_hours)

    def _read_options(self) -> Any:
        if self.options_model is None:
            return self.source_config.options
        try:
            return self.options_model.model_validate(self.source_config.options)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"])
            raise ConfigError("sources.yaml", f"{self.source_name}.options.{key}", explain(error)) from None

    def state_limit(self) -> int:
        """How many ids the state remembers: the `state_limit` of the typed options."""
        return self.options.state_limit

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        apply_source_settings(crawler, spider.source_config)
        crawler.signals.connect(spider._save_state, signal=signals.spider_closed)
        return spider

    def _save_state(self, spider: scrapy.Spider, reason: str) -> None:
        if spider is not self:
            return
        path = self.state.save()
        self.logger.info(
            "%s：已保存抓取状态 %s（记住 %d 条，最新一条 %s，结束原因 %s）",
            self.source_name,
            path,
            len(self.state.seen),
            datetime.fromtimestamp(self.state.newest, SHANGHAI).isoformat() if self.state.newest else "-",
            reason,
        )

    # Counting ------------------------------------------------------------------------------------------

    def _inc(self, key: str, count: int = 1) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value(key, count)

    def stat(self, key: str, count: int = 1) -> None:
        """Count what a patrol did (`yuqing/crawl/<source>/<key>`): pages read, items seen, posts made."""
        self._inc(f"yuqing/crawl/{self.source_name}/{key}", count)

    def count_problem(self, reason: str) -> None:
        self._inc(f"yuqing/source/{self.source_name}/{reason}")

    def problem(self, reason: str, url: str, detail: str, level: int = logging.WARNING) -> None:
        """One greppable line naming source, URL and what is wrong, counted as `yuqing/source/<source>/<reason>`."""
        self.logger.log(level, "%s: %s: %s: %s", self.source_name, reason, url, detail)
        self.count_problem(reason)
