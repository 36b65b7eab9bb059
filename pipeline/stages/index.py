"""Index: batched upserts into the store (Elasticsearch, or the embedded default). Never loses a post:
what the store cannot take is spooled by the store and replayed when it is back."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.context import Context
from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


class IndexStage(Stage):
    name = "index"
    offline = False

    def __init__(self, context: Context) -> None:
        from pipeline.store import open_store  # here, so `yuqing analyze` never loads a store client

        super().__init__(context)
        self.store = open_store(context.env)
        self.buffer: list[Post] = []
        self.written = 0
        self.spooled = 0

    def __call__(self, post: Post) -> Post:
        self.buffer.append(post)
        if len(self.buffer) >= BATCH_SIZE:
            self.flush()
        return post

    def flush(self) -> None:
        if not self.buffer:
            return
        result = self.store.write(self.buffer)
        self.written += result.written
        self.spooled += result.spooled
        for error in result.errors:
            logger.error("index: %s", error)
        self.buffer = []

    def close(self) -> dict[str, Any]:
        if self.buffer:
            self.flush()
        else:
            # A crawl that found nothing new still hands the store what it spooled while the node was away;
            # otherwise those posts would wait, unsearchable, for the next crawl that finds something.
            result = self.store.write([])
            for error in result.errors:
                logger.error("index: %s", error)
        self.store.close()
        return {"written": self.written, "spooled": self.spooled}


class IndexPipeline(StagePipeline):
    stage_class = IndexStage
