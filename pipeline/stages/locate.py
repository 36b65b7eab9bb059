"""Locate: the territory a post concerns and the lines of work it touches. Who answers for it is decided
later, by the route stage, once the event stage has settled the event's level."""

from __future__ import annotations

from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.steps import Outcomes, each


class LocateStage(Stage):
    name = "locate"

    def __call__(self, post: Post) -> Post:
        return self._departments(self._territory(post))

    def run_batch(self, outcomes: Outcomes) -> None:
        each(self._territory, outcomes)  # each over the whole batch in turn (pipeline/stages/steps.py)
        each(self._departments, outcomes)

    def _territory(self, post: Post) -> Post:
        analysis = post.analysis
        analysis.territory = self.context.locator.locate(
            title=post.title,
            text=post.text,
            author_location=post.author_location,
            ip_location=post.ip_location,
            words=analysis.words,
        )
        return post

    def _departments(self, post: Post) -> Post:
        departments = self.context.departments.match(post.text, post.title or "")
        analysis = post.analysis
        analysis.departments = list(departments.topics)
        analysis.department_reasons = list(departments.reasons)
        return post


class LocatePipeline(StagePipeline):
    stage_class = LocateStage
