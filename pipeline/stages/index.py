"""Index: batched upserts into the store (Elasticsearch, or the embedded default), written on a thread of
their own so the crawl never waits for the store. Never loses a post: what the store cannot take is spooled
by the store and replayed when it is back."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.context import Context
from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline

logger = logging.getLogger(__name__)

# The Elasticsearch store sends bulk requests of 500; a batch of that size is one request.
BATCH_SIZE = 500


class IndexStage(Stage):
    name = "index"
    offline = False

    def __init__(self, context: Context) -> None:
        from pipeline.store import open_store  # here, so `yuqing analyze` never loads a store client
        from pipeline.store.writer import BackgroundWriter

        super().__init__(context)
        self.writer = BackgroundWriter(open_store(context.env))
        self.buffer: list[Post] = []

    def __call__(self, post: Post) -> Post:
        self.buffer.append(post)
        if len(self.buffer) >= BATCH_SIZE:
            self.flush()
        else:
            self.writer.raise_failure()  # a full disk stops the crawl at the next post, not batches later
        return post

    def flush(self) -> None:
        if self.buffer:
            # Taken before it is handed over: `put` may raise an earlier batch's failure after taking it.
            batch, self.buffer = self.buffer, []
            self.writer.put(batch)

    def close(self) -> dict[str, Any]:
        try:
            self.flush()
        finally:
            figures = self.writer.close()
        return {"written": figures.written, "spooled": figures.spooled, "failed": figures.failed}


class IndexPipeline(StagePipeline):
    stage_class = IndexStage
