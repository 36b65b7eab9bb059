"""Runs the offline stages outside a crawl (for `yuqing analyze` and `yuqing route`), in the order
ITEM_PIPELINES declares: the same stages as a patrol, so the same event joining and the same routing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object

from config import settings as project_settings
from pipeline import clock
from pipeline.context import Context
from pipeline.items import Post, Source, post_from_dict
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
        self.stages = [cls.for_analysis(context) for cls in stage_classes(offline_only=True)]

    def run(self, post: Post) -> Post:
        """Every offline stage in order; a `Drop` from one (e.g. an invalid post) propagates."""
        for stage in self.stages:
            post = stage(post)
        return post


def run_json_lines(
    lines: Iterable[str], runner: OfflineRunner, name: str
) -> Iterator[tuple[int, Post | str]]:
    """Posts given as JSON lines (the analysts' input to `analyze` and `route`) through the offline stages:
    for each non-blank line, its number and the analysed post, or an error naming the line. A missing id,
    url or time gets a stand-in, so a bare `{"text": ...}` is enough."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        outcome: Post | str
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TypeError("expected a JSON object")
            now = clock.now().isoformat()
            data.setdefault("id", f"{name}:{number}")
            data.setdefault("source", Source.LOCAL.value)
            data.setdefault("url", f"https://{name}.invalid/{number}")
            data.setdefault("published_at", now)
            data.setdefault("crawled_at", now)
            outcome = runner.run(post_from_dict(data))
        except (ValueError, TypeError, Drop) as exc:
            outcome = f"line {number}: {exc}"
        yield number, outcome


__all__ = ["Drop", "OfflineRunner", "run_json_lines", "stage_classes"]
