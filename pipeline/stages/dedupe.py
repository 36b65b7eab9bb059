"""Dedupe: one copy of a post per run. Across runs the store upserts by id, so a re-crawl updates;
copies under other ids (reposts, the same article on another portal) are joined by the event stage."""

from __future__ import annotations

from pipeline.context import Context
from pipeline.items import Post
from pipeline.stages.base import Drop, Stage, StagePipeline


class DedupeStage(Stage):
    name = "dedupe"
    offline = False  # analysts' lines in `yuqing analyze` are judged one by one, never dropped as repeats

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.seen_ids: set[str] = set()

    def __call__(self, post: Post) -> Post:
        if post.id in self.seen_ids:
            raise Drop("duplicate", post.id, quiet=True)
        self.seen_ids.add(post.id)
        return post


class DedupePipeline(StagePipeline):
    stage_class = DedupeStage
