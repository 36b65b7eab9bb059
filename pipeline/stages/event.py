"""Event: join each post to the incident it reports (near-duplicates and same-incident posts across
sources and patrols), then judge severity on the whole event: its volume, media and growth add up."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from classifiers.events import EventMatcher, Signature, key_terms, simhash
from classifiers.severity import assess
from pipeline.context import Context
from pipeline.events import EventStore, EventTotals
from pipeline.items import Post
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.classify import post_signals


class EventStage(Stage):
    name = "event"
    offline = False

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.store = EventStore(context.env.data_dir / "events.sqlite3")
        self.matcher = EventMatcher()
        self.joined = 0

    def __call__(self, post: Post) -> Post:
        analysis = post.analysis
        territory = analysis.territory
        places = [*(territory.counties if territory else ()), *(territory.townships if territory else ())]
        rule_terms = [term for hit in analysis.rules for term in hit.terms]
        known = self.store.event_of(post.id)
        signature = Signature(
            post_id=post.id,
            event_id=known or f"event:{post.id}",
            fingerprint=simhash(analysis.words),
            terms=key_terms(analysis.words, [*places, *rule_terms]),
            published_at=post.published_at,
            counties=tuple(territory.counties) if territory else (),
        )
        joined_because = None
        if known is None:
            assignment = self.matcher.assign(
                signature, self.store.recent(post.published_at, self.matcher.window)
            )
            signature = replace(signature, event_id=assignment.event_id)
            if not assignment.new:
                self.joined += 1
                joined_because = f"归入事件：{assignment.reasons[0]}"
        analysis.event_id = signature.event_id
        self.store.record(
            signature,
            source=str(post.source),
            media=post.media,
            comments=post.counts.comments,
            reposts=post.counts.reposts,
            likes=post.counts.likes,
        )
        totals = self.store.totals(signature.event_id)
        if totals.posts > 1 and analysis.severity:
            self._judge_event(post, totals)
        if joined_because and analysis.severity:
            analysis.severity = replace(
                analysis.severity, reasons=(*analysis.severity.reasons, joined_because)
            )
        return post

    def _judge_event(self, post: Post, totals: EventTotals) -> None:
        analysis = post.analysis
        signals = replace(
            post_signals(post, self.context),
            comments=totals.comments,
            reposts=totals.reposts,
            likes=totals.likes,
            media=list(totals.media),
            published_at=min(totals.first_published, post.published_at),
        )
        event_severity = assess(signals, self.context.severity_model)
        summary = f"事件合计：{totals.posts}条信息，来源{'、'.join(totals.sources)}" + (
            f"，媒体{'、'.join(totals.media)}" if totals.media else ""
        )
        if (
            event_severity.level.rank >= analysis.severity.level.rank
            and event_severity.score > analysis.severity.score
        ):
            analysis.severity = replace(event_severity, reasons=(summary, *event_severity.reasons))
        else:
            analysis.severity = replace(analysis.severity, reasons=(*analysis.severity.reasons, summary))

    def close(self) -> dict[str, Any]:
        self.store.close()
        return {"joined": self.joined}


class EventPipeline(StagePipeline):
    stage_class = EventStage
