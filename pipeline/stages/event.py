"""Event: join each post to the incident it reports (near-duplicates and same-incident posts across
sources and patrols), then judge severity on the whole event: its volume, media and growth add up, and
the event never falls below the highest level it reached. The post leaves with the event's final level
and its scope (all its posts' counties and lines of work), which the route stage reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Self

from classifiers.events import (
    EventMatcher,
    Signature,
    incident_kinds,
    key_terms,
    markup,
    simhash,
    without,
    word_counts,
)
from classifiers.severity import Signals, assess
from classifiers.spikes import MIN_HISTORY, WEEK_HOURS, Spike, judge
from classifiers.types import Level, Severity
from pipeline.context import Context
from pipeline.events import HOUR_S, EventStore, EventTotals, MemoryEventStore
from pipeline.items import SHANGHAI, AuthorKind, EventScope, Post, source_name
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.classify import post_signals

# A post published longer ago than this before it was crawled is not counted in its hour's series.
_RECENT = timedelta(days=7)


class EventStage(Stage):
    name = "event"

    def __init__(
        self,
        context: Context,
        store: EventStore | MemoryEventStore | None = None,
        matcher: EventMatcher | None = None,
    ) -> None:
        super().__init__(context)
        self.store = store or EventStore(context.env.events_path)
        self._words = context.tokeniser.words
        self.matcher = matcher or EventMatcher()
        self.joined = 0

    @classmethod
    def for_analysis(cls, context: Context) -> Self:
        """Lines given to `yuqing analyze` or `route` join each other as a patrol's posts would, in memory:
        the office's own events are neither read nor changed by an analyst's trial."""
        matcher = EventMatcher()
        return cls(context, MemoryEventStore(matcher), matcher)

    def __call__(self, post: Post) -> Post:
        analysis = post.analysis
        territory = analysis.territory
        counties = territory.counties if territory else ()
        must_have = [*counties, *territory.townships] if territory else []
        for hit in analysis.rules:
            must_have.extend(hit.terms)
        known = self.store.event_of(post.id)
        counts = word_counts(analysis.words)
        written = f"{post.title or ''}\n{post.text}"
        # The incident's words leave out the repost chain, mentions, topic labels and emoticons: two reposts
        # by one account of different posts share those, and nothing else.
        said = without(counts, self._words(extra)) if (extra := markup(written)) else counts
        signature = Signature(
            post_id=post.id,
            event_id=known or f"event:{post.id}",
            fingerprint=simhash(counts),
            terms=key_terms(said, must_have),
            published_at=post.published_at,
            counties=tuple(counties),
            kinds=incident_kinds(written),
        )
        joined_because = None
        spikes = self._spikes(post, counties, new=known is None)
        if spikes and analysis.severity:
            # The post is part of a sudden rise in its county or topic: judged again with it, and its event
            # (below) too, so a quiet event that is suddenly talked about again is raised again.
            analysis.severity = assess(
                replace(post_signals(post, self.context), spikes=spikes), self.context.severity_model
            )
        if known is None:
            assignment = self.matcher.assign(signature, self.store.candidates(signature, self.matcher.window))
            if not assignment.new:  # a new event is already named after the post
                event_id, analysis.merged_events = self._as_one(post, [assignment.event_id, *assignment.also])
                signature = replace(signature, event_id=event_id)
                self.joined += 1
                joined_because = f"归入事件：{assignment.reasons[0]}"
                if assignment.also:
                    joined_because += f"；该信息同时关联另外{len(assignment.also)}个事件，已合并为同一事件"
        analysis.event_id = signature.event_id
        self.store.record(
            signature,
            source=str(post.source),
            media=post.media,
            comments=post.counts.comments,
            reposts=post.counts.reposts,
            likes=post.counts.likes,
            departments=analysis.departments,
            rules=analysis.rules,
            sentiment=analysis.sentiment,
            official=post.author_kind in (AuthorKind.OFFICIAL_MEDIA, AuthorKind.GOVERNMENT),
        )
        totals = self.store.totals(signature.event_id, self.context.now())
        if totals.posts > 1 and analysis.severity:
            analysis.severity = self._judge_event(post, analysis.severity, totals, spikes)
        if analysis.severity:
            analysis.severity = self._at_least_reached(analysis.severity, totals.level)
            self.store.judged(post.id, analysis.severity.level)
        if joined_because and analysis.severity:
            analysis.severity = replace(
                analysis.severity, reasons=(*analysis.severity.reasons, joined_because)
            )
        analysis.event = EventScope(
            posts=totals.posts, counties=list(totals.counties), departments=list(totals.departments)
        )
        return post

    def _as_one(self, post: Post, events: list[str]) -> tuple[str, list[str]]:
        """The events the post joins, now one: named after their first post, or the post itself when it
        came earlier (published first, ties by id). The name then depends on the posts, not on the order
        they were crawled in. Returns the name and the events it absorbed (renamed into it)."""
        _first_ts, first_post = min(self.store.earliest(events), (post.published_at.timestamp(), post.id))
        event_id = f"event:{first_post}"
        absorbed = [e for e in dict.fromkeys(events) if e != event_id]
        if absorbed:
            self.store.merge(absorbed, event_id)
        return event_id, absorbed

    @staticmethod
    def _at_least_reached(severity: Severity, reached: Level | None) -> Severity:
        """An event that reached a level keeps it: a later, quieter post of it is still told at that level,
        to the recipients of that level, not to fewer."""
        if reached is None or reached.rank <= severity.level.rank:
            return severity
        return replace(
            severity,
            level=reached,
            reasons=(*severity.reasons, f"事件此前已达{reached.value}，按事件级别处置"),
        )

    def _spikes(self, post: Post, counties: Sequence[str], *, new: bool) -> list[Spike]:
        """The post's county and topic series that are rising far above their usual level in the post's
        hour, counting the post in first when it is new and of the past week (an old post found late says
        nothing of what is being talked about now)."""
        topics = dict.fromkeys(hit.category for hit in post.analysis.rules if hit.category)
        series = [("县区", county) for county in dict.fromkeys(counties)] + [("话题", t) for t in topics]
        if not series:
            return []
        moment = post.published_at
        hour_ts = moment.timestamp() // HOUR_S * HOUR_S
        if new and moment >= post.crawled_at - _RECENT:
            self.store.count_hour(hour_ts, series)
        hours = min(self.store.watched_hours(hour_ts), WEEK_HOURS)
        if hours < MIN_HISTORY:
            return []
        ends = datetime.fromtimestamp(hour_ts + HOUR_S, SHANGHAI)
        found = []
        for kind, name in series:
            *history, current = self.store.hourly((kind, name), hour_ts, hours)
            if (spike := judge(kind, name, ends, current, history)) is not None:
                found.append(spike)
        return found

    def _judge_event(
        self, post: Post, severity: Severity, totals: EventTotals, spikes: Sequence[Spike] = ()
    ) -> Severity:
        """The post's severity judged on its whole event: what all its posts say together (every rule any
        hit, the most negative reading, its volume, media and growth added up), the same whatever order
        they came in, so the event's level does not depend on which post was crawled last."""
        signals = Signals(
            rules=totals.rules,
            rule_floors=self.context.rule_floors,
            sentiment=totals.sentiment if totals.sentiment is not None else 0.5,
            comments=totals.comments,
            reposts=totals.reposts,
            likes=totals.likes,
            media=list(totals.media),
            official_author=totals.official,
            per_hour=totals.per_hour,
            spikes=spikes,
        )
        event_severity = assess(signals, self.context.severity_model)
        summary = f"事件合计：{totals.posts}条信息，来源{'、'.join(map(source_name, totals.sources))}" + (
            f"，媒体{'、'.join(totals.media)}" if totals.media else ""
        )
        if event_severity.level.rank >= severity.level.rank and event_severity.score > severity.score:
            return replace(event_severity, reasons=(summary, *event_severity.reasons))
        return replace(severity, reasons=(*severity.reasons, summary))

    def close(self) -> dict[str, Any]:
        self.store.close()
        return {"joined": self.joined}


class EventPipeline(StagePipeline):
    stage_class = EventStage
