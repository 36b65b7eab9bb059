"""A store's writes on their own thread: the crawl hands over whole batches and goes on fetching.

The queue is bounded, so a store that falls behind slows the crawl down instead of filling memory;
`close()` delivers everything handed over before it returns, and runs at exit if nobody called it.
A batch the store could not take is raised on the crawl's thread at its next call, as a synchronous
write would have raised it, so the crawl's guards (a full disk stops the crawl) still see it.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.items import Post
from pipeline.store.base import Store

logger = logging.getLogger(__name__)

# Batches waiting at most; with the index stage's batches of 500 that is 4,000 posts held in memory.
MAX_WAITING_BATCHES = 8


@dataclass(slots=True)
class WriterFigures:
    written: int = 0
    spooled: int = 0
    failed: int = 0


class BackgroundWriter:
    """Writes batches of posts to `store` on one thread, in the order they were handed over."""

    def __init__(self, store: Store, *, max_waiting: int = MAX_WAITING_BATCHES) -> None:
        self.store = store
        self.figures = WriterFigures()
        self._queue: queue.Queue[list[Post] | None] = queue.Queue(maxsize=max_waiting)
        self._batches = 0
        self._closed = False
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name=f"store-writer-{store.name}", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def put(self, posts: Sequence[Post]) -> None:
        """Hand a batch over; waits only while `max_waiting` batches are already queued. The batch is
        taken even when an earlier one's failure is raised here."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        self._queue.put(list(posts))
        self.raise_failure()

    def raise_failure(self) -> None:
        """Raise, once, the error of a batch the store could not take since the last call."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def close(self) -> WriterFigures:
        """Write everything handed over, then close the store. Safe to call twice."""
        if self._closed:
            return self.figures
        self._closed = True
        atexit.unregister(self.close)
        self._queue.put(None)
        self._thread.join()
        if self._batches == 0:
            # A crawl that found nothing new still hands the store what it spooled while the node was away;
            # otherwise those posts would wait, unsearchable, for the next crawl that finds something.
            self._write([])
        self.store.close()
        return self.figures

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            self._batches += 1
            self._write(batch)

    def _write(self, batch: list[Post]) -> None:
        try:
            result = self.store.write(batch)
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any one batch
            # The store spools what a node cannot take; an error here is one it could not keep either
            # (the disk is full, the file is damaged): say how many posts it cost, and go on.
            self.figures.failed += len(batch)
            logger.error("索引写入失败，%d 条帖子未能保存：%s", len(batch), exc)
            self._failure = exc
            return
        self.figures.written += result.written
        self.figures.spooled += result.spooled
        for error in result.errors:
            logger.error("索引写入出错：%s", error)
