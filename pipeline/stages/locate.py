"""Locate: the territory a post concerns, the lines of work it touches, and who is responsible."""

from __future__ import annotations

from classifiers.types import Level
from pipeline.items import Post, Responsible
from pipeline.stages.base import Stage, StagePipeline


class LocateStage(Stage):
    name = "locate"

    def __call__(self, post: Post) -> Post:
        ctx = self.context
        analysis = post.analysis
        territory = ctx.locator.locate(
            title=post.title,
            text=post.text,
            author_location=post.author_location,
            ip_location=post.ip_location,
            words=analysis.words,
        )
        analysis.territory = territory
        departments = ctx.departments.match(post.text, post.title or "")
        analysis.departments = list(departments.topics)
        level = analysis.severity.level if analysis.severity else Level.GENERAL
        decision = ctx.router.route(
            territory.counties, departments.topics, level, local=territory.city is not None
        )
        analysis.responsible = Responsible(
            first=decision.first,
            coordinate=decision.coordinate,
            claim=decision.claim,
            inform=decision.inform,
            reasons=[*departments.reasons, *decision.reasons],
        )
        return post


class LocatePipeline(StagePipeline):
    stage_class = LocateStage
