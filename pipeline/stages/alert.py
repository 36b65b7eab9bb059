"""Alert: a post that warrants it becomes an alert in the durable outbox. Delivery happens elsewhere
(the dispatcher), so a slow or dead channel never holds up the crawl and a crash loses nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.models import Alert, alert_key
from classifiers.types import Level
from pipeline.context import Context
from pipeline.items import Post, source_name
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.route import event_scope


def alert_from_post(post: Post, now: datetime) -> Alert:
    """One alert per event and level: the same event raised again at the same level is not re-sent.

    Its recipients are the route stage's decision, unchanged, so what the store keeps for the post and
    whom the alert reaches are one and the same; a decision made on another level than the alert's is
    refused rather than sent to the wrong people."""
    analysis = post.analysis
    if not (analysis.severity and analysis.responsible and analysis.territory):
        raise ValueError(f"{post.id}: an alert needs severity, territory and responsible units")
    if analysis.responsible.level is not analysis.severity.level:
        routed = analysis.responsible.level.value if analysis.responsible.level else "no level"
        raise ValueError(
            f"{post.id}: responsible units were decided for {routed}, but the alert is at "
            f"{analysis.severity.level.value}; route the post after its event's level is final"
        )
    event = analysis.event_id or post.id
    summary = post.text.replace("\n", " ")
    return Alert(
        key=alert_key(event, analysis.severity.level),
        post_id=post.id,
        event_id=event,
        level=analysis.severity.level,
        title=post.title or summary[:40],
        url=post.url,
        source=post.media or source_name(post.source),
        summary=summary[:120] + ("…" if len(summary) > 120 else ""),
        created_at=now,
        reasons=[*analysis.severity.reasons, *analysis.territory.reasons, *analysis.responsible.reasons],
        first=list(analysis.responsible.first),
        coordinate=list(analysis.responsible.coordinate),
        claim=list(analysis.responsible.claim),
        inform=list(analysis.responsible.inform),
        counties=list(event_scope(post).counties),
        townships=list(analysis.territory.townships),
        categories=list(dict.fromkeys(hit.category for hit in analysis.rules)),
        reach=post.counts.comments + post.counts.reposts + post.counts.likes,
    )


def warrants_alert(post: Post, min_level: Level) -> str | None:
    """Why a post is not alerted, or None when it is."""
    analysis = post.analysis
    if analysis.spam:
        return "spam"
    if not analysis.territory or analysis.territory.city is None:
        return "not_local"
    if not analysis.severity or analysis.severity.level.rank < min_level.rank:
        return "below_level"
    return None


class AlertStage(Stage):
    name = "alert"
    offline = False

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        from alerts.outbox import Outbox  # here: `analyze` lists this stage without the store it writes to

        self.outbox = Outbox(context.env.outbox_path, realert=context.office.alerts.realert)
        self.min_level = context.office.alerts.min_level
        self.raised = 0

    def __call__(self, post: Post) -> Post:
        if post.analysis.merged_events and post.analysis.event_id:
            self.outbox.merge_events(post.analysis.merged_events, post.analysis.event_id, self.context.now())
        if warrants_alert(post, self.min_level) is None and self.outbox.enqueue(
            alert_from_post(post, self.context.now())
        ):
            self.raised += 1
        return post

    def close(self) -> dict[str, Any]:
        self.outbox.close()
        return {"raised": self.raised}


class AlertPipeline(StagePipeline):
    stage_class = AlertStage
