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
from classifiers.spikes import MIN_COUNT, MIN_HISTORY, WEEK_HOURS, Spike, judge
from classifiers.types import Level, Severity
from pipeline.context import Context
from pipeline.events import HOUR_S, EventStore, EventTotals, MemoryEventStore, timestamp
from pipeline.items import SHANGHAI, EventScope, Post, source_name
from pipeline.stages.base import Stage, StagePipeline
from pipeline.stages.classify import OFFICIAL_AUTHORS, post_signals
from pipeline.stages.steps import Outcomes, each_with, gather

# What `EventStage._read` finds in a post: its fingerprint, key terms and incident kinds.
_Read = tuple[int, frozenset[str], frozenset[str]]

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
        return self._join(post, self._read(post))

    def run_batch(self, outcomes: Outcomes) -> None:
        # What each post says of its incident is read for the whole batch first (it reads nothing of the
        # others), then the posts are joined to their events one by one, in order.
        each_with(self._join, outcomes, gather(self._read, outcomes))

    def _read(self, post: Post) -> _Read:
        """What the post alone says of its incident: its words' fingerprint, its key terms (its places and
        rule terms among them) and the kinds of incident it names."""
        analysis = post.analysis
        territory = analysis.territory
        must_have = [*territory.counties, *territory.townships] if territory else []
        for hit in analysis.rules:
            must_have.extend(hit.terms)
        counts = word_counts(analysis.words)
        written = f"{post.title or ''}\n{post.text}"
        # The incident's words leave out the repost chain, mentions, topic labels and emoticons: two reposts
        # by one account of different posts share those, and nothing else.
        said = without(counts, self._words(extra)) if (extra := markup(written)) else counts
        return simhash(counts), key_terms(said, must_have), incident_kinds(written)

    def _join(self, post: Post, read: _Read) -> Post:
        """The post joined to its event (or starting one) and judged on it, from what `_read` found."""
        analysis = post.analysis
        store = self.store
        territory = analysis.territory
        counties = territory.counties if territory else ()
        known = store.event_of(post.id)
        fingerprint, terms, kinds = read
        signature = Signature(
            post_id=post.id,
            event_id=known or f"event:{post.id}",
            fingerprint=fingerprint,
            terms=terms,
            published_at=post.published_at,
            counties=tuple(counties),
            kinds=kinds,
        )
        joined_because = None
        spikes = self._spikes(post, counties, new=known is None)
        severity = analysis.severity
        if spikes and severity:
            # The post is part of a sudden rise in its county or topic: judged again with it, and its event
            # (below) too, so a quiet event that is suddenly talked about again is raised again.
            severity = assess(
                replace(post_signals(post, self.context), spikes=spikes), self.context.severity_model
            )
        starts_event = known is None
        # A post with no recent one to compare with starts its own event, already named after it.
        if known is None and (recent := store.candidates(signature, self.matcher.window)):
            assignment = self.matcher.assign(signature, recent)
            if not assignment.new:
                event_id, analysis.merged_events = self._as_one(post, [assignment.event_id, *assignment.also])
                signature = signature.with_event(event_id)
                starts_event = False
                self.joined += 1
                joined_because = f"归入事件：{assignment.reasons[0]}"
                if assignment.also:
                    joined_because += f"；该信息同时关联另外{len(assignment.also)}个事件，已合并为同一事件"
        analysis.event_id = signature.event_id
        counted = post.counts
        store.record(
            signature,
            source=str(post.source),
            media=post.media,
            comments=counted.comments,
            reposts=counted.reposts,
            likes=counted.likes,
            departments=analysis.departments,
            rules=analysis.rules,
            sentiment=analysis.sentiment,
            official=post.author_kind in OFFICIAL_AUTHORS,
        )
        if starts_event:
            # The new event is this post alone, at no level yet: its totals would be the post's own, so
            # they are not read back (most posts start an event).
            if severity:
                store.judged(post.id, severity.level)
                analysis.severity = severity
            analysis.event = EventScope(
                posts=1,
                counties=list(dict.fromkeys(counties)),
                departments=list(dict.fromkeys(analysis.departments)),
            )
            return post
        totals = store.totals(signature.event_id, self.context.now())
        if severity:
            if totals.posts > 1:
                severity = self._judge_event(post, severity, totals, spikes)
            severity = self._at_least_reached(severity, totals.level)
            store.judged(post.id, severity.level)
            if joined_because:
                severity = _with_reason(severity, joined_because)
            analysis.severity = severity
        analysis.event = EventScope(
            posts=totals.posts, counties=list(totals.counties), departments=list(totals.departments)
        )
        return post

    def _as_one(self, post: Post, events: list[str]) -> tuple[str, list[str]]:
        """The events the post joins, now one: named after their first post, or the post itself when it
        came earlier (published first, ties by id). The name then depends on the posts, not on the order
        they were crawled in. Returns the name and the events it absorbed (renamed into it)."""
        _first_ts, first_post = min(self.store.earliest(events), (timestamp(post.published_at), post.id))
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
        return Severity(
            level=reached,
            score=severity.score,
            reasons=(*severity.reasons, f"事件此前已达{reached}，按事件级别处置"),
        )

    def _spikes(self, post: Post, counties: Sequence[str], *, new: bool) -> list[Spike]:
        """The post's county and topic series that are rising far above their usual level in the post's
        hour, counting the post in first when it is new and of the past week (an old post found late says
        nothing of what is being talked about now)."""
        rules = post.analysis.rules
        if not counties and not rules:  # most posts: no series at all
            return []
        series = [("县区", county) for county in dict.fromkeys(counties)]
        if rules:
            series += [("话题", t) for t in dict.fromkeys(hit.category for hit in rules if hit.category)]
        if not series:
            return []
        store = self.store
        moment = post.published_at
        hour_ts = timestamp(moment) // HOUR_S * HOUR_S
        if new and moment >= post.crawled_at - _RECENT:
            store.count_hour(hour_ts, series)
        hours = min(store.watched_hours(hour_ts), WEEK_HOURS)
        if hours < MIN_HISTORY:
            return []
        ends = datetime.fromtimestamp(hour_ts + HOUR_S, SHANGHAI)
        found = []
        for kind, name in series:
            # An hour of fewer than MIN_COUNT posts is never a spike (`judge`), and most hours are quiet:
            # the week of history is read only for a busy one.
            if store.hourly((kind, name), hour_ts, 0)[0] < MIN_COUNT:
                continue
            *history, current = store.hourly((kind, name), hour_ts, hours)
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
            return Severity(event_severity.level, event_severity.score, (summary, *event_severity.reasons))
        return _with_reason(severity, summary)

    def close(self) -> dict[str, Any]:
        self.store.close()
        return {"joined": self.joined}


def _with_reason(severity: Severity, reason: str) -> Severity:
    # Built directly: `dataclasses.replace` costs several times as much, for every joined post.
    return Severity(severity.level, severity.score, (*severity.reasons, reason))


class EventPipeline(StagePipeline):
    stage_class = EventStage
