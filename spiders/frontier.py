"""Scale-out: several machines crawl one source together through a shared frontier on Redis (scrapy-redis).

When `YUQING_REDIS_URL` is set, `frontier_settings` swaps in `SharedFrontierScheduler`: scrapy-redis's
scheduler and request dupefilter, with three things the library leaves to its user.

* Keys per source and patrol (`yuqing:<source>:<run>:…`): every `generic` source has the spider name
  `generic`, and the next patrol must read the list pages again rather than find them "seen".
* Keys that persist while any worker runs (one worker finishing must not wipe the others' frontier) and
  expire a day after the last one closed.
* A worker whose queue is empty stays open while another is still working, since that one's next page may
  hold more requests; a worker silent for longer than `YUQING_FRONTIER_STALE` seconds counts as gone.

Without `YUQING_REDIS_URL` a crawl uses Scrapy's own scheduler, in memory: a single machine needs no Redis.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any, Self

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from config.env import get_env

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

KEY_PREFIX = "yuqing"
DEFAULT_TTL = 24 * 3600
POLL_SECONDS = 0.5


def frontier_key(source: str, run_id: str, part: str) -> str:
    # scrapy-redis %-formats its keys with the spider name; a literal % must survive that.
    return f"{KEY_PREFIX}:{source}:{run_id}:{part}".replace("%", "%%")


def frontier_settings(source: str, run_id: str) -> dict[str, Any]:
    """The settings of a crawl that shares its frontier; the Redis URL itself stays in the environment."""
    return {
        "SCHEDULER": "spiders.frontier.SharedFrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": frontier_key(source, run_id, "requests"),
        "SCHEDULER_DUPEFILTER_KEY": frontier_key(source, run_id, "dupefilter"),
        "YUQING_FRONTIER_WORKERS_KEY": frontier_key(source, run_id, "workers"),
    }


class SharedFrontierScheduler(Scheduler):
    def __init__(
        self,
        server: redis.Redis,
        *,
        workers_key: str,
        ttl: int,
        stale_after: float,
        stats: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(server, **kwargs)
        self.workers_key = workers_key
        self.ttl = ttl
        self.stale_after = stale_after
        self.stats = stats
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = get_env().redis_url
        if url is None:
            raise NotConfigured("YUQING_REDIS_URL is not set")
        settings = crawler.settings
        server = redis.Redis.from_url(
            url.get_secret_value(), socket_timeout=30, socket_connect_timeout=30, retry_on_timeout=True
        )
        server.ping()
        dupefilter = RFPDupeFilter(
            server,
            key=settings["SCHEDULER_DUPEFILTER_KEY"],
            debug=settings.getbool("DUPEFILTER_DEBUG"),
        )
        scheduler = cls(
            server,
            workers_key=settings["YUQING_FRONTIER_WORKERS_KEY"],
            ttl=settings.getint("YUQING_FRONTIER_TTL", DEFAULT_TTL),
            stale_after=settings.getfloat(
                "YUQING_FRONTIER_STALE", max(60.0, 2 * settings.getfloat("DOWNLOAD_TIMEOUT"))
            ),
            stats=crawler.stats,
            persist=True,
            queue_key=settings["SCHEDULER_QUEUE_KEY"],
            queue_cls=settings["SCHEDULER_QUEUE_CLASS"],
            dupefilter=dupefilter,
            dupefilter_key=settings["SCHEDULER_DUPEFILTER_KEY"],
            serializer=load_object(settings["SCHEDULER_SERIALIZER"])
            if settings.get("SCHEDULER_SERIALIZER")
            else None,
        )
        scheduler.crawler = crawler
        crawler.signals.connect(scheduler._spider_idle, signal=signals.spider_idle)
        return scheduler

    def _now(self) -> float:
        # Redis's clock, not ours: the workers' clocks may disagree, the server's is one.
        seconds, micros = self.server.time()
        return seconds + micros / 1e6

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self._busy()
        logger.info(
            "shared frontier %s on Redis (worker %s, %d requests waiting)",
            self.queue_key,
            self.worker,
            len(self.queue),
        )

    def _busy(self) -> None:
        self.server.zadd(self.workers_key, {self.worker: self._now()})

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            if self.stats is not None:
                self.stats.inc_value("yuqing/frontier/filtered")
            return False
        self.queue.push(request)
        if self.stats is not None:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(0)
        if request is not None:
            self._busy()
            if self.stats is not None:
                self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _others_working(self) -> int:
        self.server.zremrangebyscore(self.workers_key, "-inf", self._now() - self.stale_after)
        return int(self.server.zcard(self.workers_key))

    def _spider_idle(self, spider: Spider) -> None:
        self.server.zrem(self.workers_key, self.worker)
        if len(self.queue) or self._others_working():
            self._look_again_soon()
            raise DontCloseSpider("another worker of this frontier is still working")

    def _look_again_soon(self) -> None:
        # Scrapy looks at an idle spider again only on its 5 s heartbeat; a waiting worker should take up
        # what another one queues sooner. Without this private hook it still works, at the heartbeat's pace.
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule(POLL_SECONDS)

    def close(self, reason: str) -> None:
        self.server.zrem(self.workers_key, self.worker)
        for key in (self.queue.key, self.df.key, self.workers_key):
            self.server.expire(key, self.ttl)
        super().close(reason)
