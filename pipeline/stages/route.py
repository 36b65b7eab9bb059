"""Route: who answers for a post, decided once, after the event stage has set the event's final level
(it may raise a post's level) and gathered the counties and lines of work of all the event's posts.
What the store keeps, what `yuqing analyze` and `yuqing route` print and what the alert carries are this
one decision (seed 000 三; 附件2 第六条)."""

from __future__ import annotations

from alerts.routing import Router
from classifiers.types import Level
from pipeline.items import EventScope, Post, Responsible
from pipeline.stages.base import Stage, StagePipeline


def event_scope(post: Post) -> EventScope:
    """The event's places and lines of work, or the post's own when no event stage ran."""
    analysis = post.analysis
    if analysis.event is not None:
        return analysis.event
    territory = analysis.territory
    return EventScope(
        counties=list(territory.counties) if territory else [], departments=list(analysis.departments)
    )


def responsibility(post: Post, router: Router) -> Responsible:
    analysis = post.analysis
    level = analysis.severity.level if analysis.severity else Level.GENERAL
    scope = event_scope(post)
    own = list(analysis.territory.counties) if analysis.territory else []
    local = analysis.territory is not None and analysis.territory.city is not None
    decision = router.route(scope.counties, scope.departments, level, local=local)
    reasons = list(analysis.department_reasons)
    wider = [c for c in scope.counties if c not in own] + [
        d for d in scope.departments if d not in analysis.departments
    ]
    if local and wider:
        parts = [f"所属事件共{scope.posts}条信息"]
        if scope.counties:
            parts.append(f"涉及{'、'.join(scope.counties)}")
        if scope.departments:
            parts.append(f"工作线{'、'.join(scope.departments)}")
        reasons.append(f"{'，'.join(parts)}：按整个事件确定责任单位")
    return Responsible(
        level=level,
        first=decision.first,
        coordinate=decision.coordinate,
        claim=decision.claim,
        inform=decision.inform,
        reasons=[*reasons, *decision.reasons],
    )


class RouteStage(Stage):
    name = "route"

    def __call__(self, post: Post) -> Post:
        post.analysis.responsible = responsibility(post, self.context.router)
        return post


class RoutePipeline(StagePipeline):
    stage_class = RouteStage
