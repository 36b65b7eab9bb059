"""Runs the offline stages outside a crawl (for `yuqing analyze`), in the order ITEM_PIPELINES declares."""

from __future__ import annotations

from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from config import settings as project_settings
from pipeline.context import Context
from pipeline.items import Post
from pipeline.stages.base import Drop, Stage, StagePipeline


def stage_classes(*, offline_only: bool) -> list[type[Stage]]:
    settings = Settings()
    settings.setmodule(project_settings)
    classes: list[type[Stage]] = []
    for path in build_component_list(settings.getwithbase("ITEM_PIPELINES")):
        pipeline_class = load_object(path)
        if isinstance(pipeline_class, type) and issubclass(pipeline_class, StagePipeline):
            stage = pipeline_class.stage_class
            if stage.offline or not offline_only:
                classes.append(stage)
    return classes


class OfflineRunner:
    def __init__(self, context: Context) -> None:
        self.stages = [cls(context) for cls in stage_classes(offline_only=True)]

    def run(self, post: Post) -> Post:
        """Every offline stage in order; a `Drop` from one (e.g. an invalid post) propagates."""
        for stage in self.stages:
            post = stage(post)
        return post


__all__ = ["Drop", "OfflineRunner", "stage_classes"]
