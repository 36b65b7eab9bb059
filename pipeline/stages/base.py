"""What every stage shares: the `Drop` signal and the thin Scrapy adapter around a plain stage.

A stage is a callable `stage(post) -> post` that raises `Drop(reason)` to take a post out of the flow.
The adapter turns that into Scrapy's `DropItem`, counts it under `yuqing/<stage>/<reason>` (and
`yuqing/dropped/<reason>`, which the patrol summary reads) and logs the source and URL, so no drop is silent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pipeline.context import Context, shared_context
from pipeline.stages.steps import Outcomes, each

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from pipeline.items import Post

logger = logging.getLogger(__name__)


class Drop(Exception):
    def __init__(self, reason: str, detail: str = "", *, quiet: bool = False) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.quiet = quiet


class Stage:
    """Base of the plain stages. `offline` stages also run in `yuqing analyze` and `yuqing route`, built by
    `for_analysis`: they write nothing the office keeps (no store, no outbox, no event records)."""

    name: ClassVar[str]
    offline: ClassVar[bool] = True

    def __init__(self, context: Context) -> None:
        self.context = context

    @classmethod
    def for_analysis(cls, context: Context) -> Self:
        """The stage as the analysts' commands run it; a stage that keeps records overrides this."""
        return cls(context)

    def __call__(self, post: Post) -> Post:
        raise NotImplementedError

    def run_batch(self, outcomes: Outcomes) -> None:
        """The stage on each post of a batch not yet failed, in order and in place; a post it raises on
        becomes the exception. A stage made of steps overrides this to run each step over the whole batch
        (pipeline/stages/steps.py), with `__call__`'s answers."""
        each(self, outcomes)

    def close(self) -> dict[str, Any]:
        """Flush what is buffered; returns figures for the run record."""
        return {}


class StagePipeline:
    """Scrapy item pipeline around one stage; subclasses only name `stage_class`."""

    stage_class: ClassVar[type[Stage]]

    def __init__(self, stage: Stage, stats: StatsCollector | None = None) -> None:
        self.stage = stage
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Scrapy is imported where a crawl uses it: `yuqing analyze` runs these stages without it.
        from scrapy.exceptions import NotConfigured

        name = cls.stage_class.name
        if not crawler.settings.getbool(f"YUQING_{name.upper()}_ENABLED", True):
            raise NotConfigured(f"YUQING_{name.upper()}_ENABLED is off")
        return cls(cls.stage_class(shared_context()), crawler.stats)

    def process_item(self, item: Post) -> Post:
        try:
            return self.stage(item)
        except Drop as drop:
            from scrapy.exceptions import DropItem

            if self.stats:
                self.stats.inc_value(f"yuqing/{self.stage.name}/{drop.reason}")
                self.stats.inc_value(f"yuqing/dropped/{drop.reason}")
            where = f"{getattr(item, 'source', '?')} {getattr(item, 'url', '?')}"
            level = logging.DEBUG if drop.quiet else logging.WARNING
            raise DropItem(
                f"{self.stage.name}: {drop} ({where})", log_level=logging.getLevelName(level)
            ) from None

    def close_spider(self) -> None:
        figures = self.stage.close()
        if self.stats:
            for key, value in figures.items():
                self.stats.set_value(f"yuqing/{self.stage.name}/{key}", value)
