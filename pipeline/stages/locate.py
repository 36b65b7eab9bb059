"""Locate: the territory a post concerns and the lines of work it touches. Who answers for it is decided
later, by the route stage, once the event stage has settled the event's level."""

from __future__ import annotations

from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline


class LocateStage(Stage):
    name = "locate"

    def __call__(self, post: Post) -> Post:
        ctx = self.context
        analysis = post.analysis
        analysis.territory = ctx.locator.locate(
            title=post.title,
            text=post.text,
            author_location=post.author_location,
            ip_location=post.ip_location,
            words=analysis.words,
        )
        departments = ctx.departments.match(post.text, post.title or "")
        analysis.departments = list(departments.topics)
        analysis.department_reasons = list(departments.reasons)
        return post


class LocatePipeline(StagePipeline):
    stage_class = LocateStage
