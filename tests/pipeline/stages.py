"""A patrol's stages without the crawl: every stage ITEM_PIPELINES declares, in its order, over one data
folder, so a test sees what the store keeps and what the outbox holds exactly as a patrol leaves them."""

from __future__ import annotations

from pipeline.context import Context
from pipeline.items import Post
from pipeline.runner import stage_classes


class Patrol:
    def __init__(self, context: Context) -> None:
        self.stages = [cls(context) for cls in stage_classes(offline_only=False)]

    def __call__(self, post: Post) -> Post:
        for stage in self.stages:
            post = stage(post)
        return post

    def close(self) -> None:
        for stage in self.stages:
            stage.close()
