"""One patrol's crawls in one process: every source's crawler in one Scrapy `CrawlerProcess`, all at once.

`commands.patrol.run_patrol` starts this module as a child process per patrol (a Twisted reactor cannot be
started twice in one process, and a crash here must not take the caller down). It tells the patrol, one
JSON line each on the file descriptor it is given, as each source's crawl starts and as it ends (with the
crawl's own stats, finish reason and health verdict).

Sources rendered in Chromium (`render: true`) crawl here too, beside the others: scrapy-playwright drives
the browser as processes of their own, so a browser that crashes fails that source's requests, never this
process, and a patrol with a rendered source beside plain ones reads both (tests/spiders/test_render.py).
A separate process for them would buy no isolation and cost another start-up.

    python -m commands.crawl --report-fd 3 --run-id 20261123T0900 [--now T] [--replay-url U] NAME=SPIDER ...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.log import get_scrapy_root_handler
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor

from config.env import REPLAY_URL, RUN_ID
from pipeline import clock
from pipeline.extensions import SourceHealthExtension
from pipeline.health import FAILED, GROUP_UNREACHABLE
from pipeline.storage import DISK_FULL, DISK_FULL_STAT

if TYPE_CHECKING:
    from scrapy.settings import Settings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

STARTED = "started"
FINISHED = "finished"
# Every line of patrol.log names the source it is about (`-` for the process's own), as the crawls of all the
# sources write into the one log at once.
LOG_FORMAT = "%(asctime)s [%(source)s] %(name)s %(levelname)s: %(message)s"


class _SourceOfLine(logging.Filter):
    """Names the source of a line from the spider Scrapy attaches to it (its own lines and the spider's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        spider = getattr(record, "spider", None)
        if spider is not None:
            record.source = getattr(spider, "source_name", None) or getattr(spider, "name", "-")
        return True


_RECORD_FACTORY = logging.getLogRecordFactory()


def _record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _RECORD_FACTORY(*args, **kwargs)
    record.source = "-"  # a line about no one source; the filter names it when it is about one
    return record


def _name_sources_in_log() -> None:
    """Puts the filter on the log handler Scrapy has now: each crawler installs a fresh one as it starts."""
    handler = get_scrapy_root_handler()
    if handler is not None and not any(isinstance(f, _SourceOfLine) for f in handler.filters):
        handler.addFilter(_SourceOfLine())


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class Patrol:
    """The crawlers of one patrol in one `CrawlerProcess`, each told to the patrol as it starts and ends."""

    def __init__(self, process: CrawlerProcess, report_fd: int, run_id: str, replay_url: str | None) -> None:
        self.process = process
        self.report_fd = report_fd
        self.run_id = run_id
        self.replay_url = replay_url
        self.running: dict[str, Crawler] = {}

    def tell(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        # From the reactor thread; the patrol reads the pipe all the time, so this never waits for long. A pipe
        # may take a long line in parts (beyond its atomic size, or when a signal comes): written to the end.
        view = memoryview(data)
        while view:
            view = view[os.write(self.report_fd, view) :]

    def crawler_settings(self) -> Settings:
        settings = self.process.settings.copy()
        # Command-line priority, as `-s` had: above what a source's entry sets at spider priority.
        settings.set(RUN_ID, self.run_id, priority="cmdline")
        settings.set(GROUP_UNREACHABLE, True, priority="cmdline")
        if self.replay_url:
            settings.set(REPLAY_URL, self.replay_url, priority="cmdline")
            # Recorded pages on 127.0.0.1 need no politeness delay.
            settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        return settings

    def start(self, source: str, spider: str) -> None:
        began = time.perf_counter()
        try:
            spidercls = self.process.spider_loader.load(spider)
        except KeyError:
            # The loader logged why (a module that failed to import, say); this source alone is lost.
            self.finished(source, None, began, f"爬虫 {spider} 无法加载（原因见巡查日志）")
            return
        crawler = Crawler(spidercls, self.crawler_settings())
        crawler.signals.connect(
            lambda spider: self.tell({"event": STARTED, "source": source}), signals.spider_opened, weak=False
        )
        self.running[source] = crawler
        done = self.process.crawl(crawler, source=source)
        _name_sources_in_log()  # the crawl has just put in its log handler, before its first line
        done.addBoth(self._ended, source, crawler, began)

    def _ended(self, result: Failure | None, source: str, crawler: Crawler, began: float) -> None:
        self.running.pop(source, None)
        error = None
        if result is not None:
            # Raised while the crawl was made or opened (the spider's constructor, a component's): logged
            # here with its traceback, and told to the patrol in one line.
            logger.error("%s: 抓取出错：%s", source, result.getTraceback())
            error = f"抓取出错：{result.type.__name__}: {result.getErrorMessage()}"
        self.finished(source, crawler, began, error)

    def finished(self, source: str, crawler: Crawler | None, began: float, error: str | None) -> None:
        stats = _stats(crawler)
        verdict = _verdict(crawler)
        event: dict[str, Any] = {
            "event": FINISHED,
            "source": source,
            "finish_reason": stats.get("finish_reason") or (verdict.finish_reason if verdict else "error"),
            "stats": {k: _plain(v) for k, v in stats.items()},
            "seconds": stats.get("elapsed_time_seconds") or time.perf_counter() - began,
            "health": verdict.state if verdict else FAILED,
            "detail": verdict.detail if verdict else error or "",
            "error": error,
            # The crawl judged its own health (and raised its own alert): nothing is left to report for it.
            "assessed": verdict is not None,
        }
        self.tell(event)
        if event["finish_reason"] == DISK_FULL or stats.get(DISK_FULL_STAT):
            self.stop_all(DISK_FULL)

    def stop_all(self, reason: str) -> None:
        """What was stored stays; fetching more would only fail to store it."""
        for source, crawler in list(self.running.items()):
            engine = getattr(crawler, "engine", None)
            if engine is not None and engine.running:
                logger.error("磁盘已满，停止抓取 %s", source)
                deferred_from_coro(engine.close_spider_async(reason=reason))


def _stats(crawler: Crawler | None) -> dict[str, Any]:
    try:
        return crawler.stats.get_stats() if crawler is not None else {}
    except RuntimeError:  # the crawl failed before it had stats
        return {}


def _verdict(crawler: Crawler | None) -> Any:
    try:
        extension = crawler.get_extension(SourceHealthExtension) if crawler is not None else None
    except RuntimeError:  # the crawl failed before its extensions were made
        return None
    return extension.verdict if extension is not None else None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report-fd", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--now", help="the patrol's moment (ISO 8601); without it, the wall clock")
    parser.add_argument("--clock-offset", type=float, help="seconds a running clock is from the wall clock")
    parser.add_argument("--replay-url")
    parser.add_argument("sources", nargs="+", metavar="NAME=SPIDER")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.clock_offset is not None:
        clock.set_clock_offset(args.clock_offset)
    else:
        clock.set_patrol_time(clock.parse(args.now) if args.now else None)
    settings = get_project_settings()
    # A spider module that fails to import loses its own sources, not the whole patrol.
    settings.set("SPIDER_LOADER_WARN_ONLY", True, priority="cmdline")
    settings.set("LOG_FORMAT", LOG_FORMAT, priority="cmdline")
    logging.setLogRecordFactory(_record)
    # Installed before any crawler is made, so that a crawler failing first cannot leave the rest without it.
    install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
    process = CrawlerProcess(settings)
    patrol = Patrol(process, args.report_fd, args.run_id, args.replay_url)
    for pair in args.sources:
        source, _, spider = pair.partition("=")
        patrol.start(source, spider)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
