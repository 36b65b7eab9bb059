"""What every spider driven by a `sources.yaml` entry shares: the crawl settings that entry chooses.

Politeness (delay, concurrency, robots.txt, retries, proxy), rendering in Chromium and the shared Redis
frontier are settings of the crawl, applied at spider priority before the crawl starts, so a `-s` on the
command line still wins and no spider callback deals with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from config.env import Env, get_env
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import SourceConfig, SourcesFile
from pipeline import clock
from spiders.frontier import frontier_settings
from spiders.render import render_settings

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
    known = ", ".join(s.name for s in sources) or "none"
    raise ConfigError(str(path), "sources", f"no source named {name!r} (known: {known})")


def run_id(env: Env) -> str:
    """The patrol a crawl belongs to: `YUQING_RUN_ID`, else the minute it started (machines started by the
    same schedule agree on it)."""
    return env.run_id or f"{clock.now():%Y%m%dT%H%M}"


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
        values |= frontier_settings(source.name, run_id(env))
    return values


def apply_source_settings(crawler: Crawler, source: SourceConfig) -> None:
    if crawler.settings.frozen:
        return
    for name, value in source_settings(source, get_env(), crawler.settings).items():
        # Spider priority: a `-s` on the command line still wins.
        crawler.settings.set(name, value, priority="spider")


class SourceSpiderMixin:
    """Put before `scrapy.Spider` in the bases of a spider that has `source_config` once constructed."""

    source_config: SourceConfig

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        apply_source_settings(crawler, spider.source_config)
        return spider
