"""What an edited keyword rule would do, before it is saved: run over the posts stored in the last days, it
says how many it matches, which it newly matches and which it no longer matches against the saved version,
how many posts would change level and how many would now be alerted, with a sample of each.

Levels are judged post by post, with the post's stored sentiment, counts and media and its other rules'
hits, once with the saved rule and once with the edited one: the difference is the edit's alone (an
event's combined judgement, made at crawl time, is not redone).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from classifiers.rules import RuleSet, RuleSpec, compile_rules
from classifiers.severity import Signals, assess
from classifiers.types import Level, RuleHit
from pipeline.context import Context
from pipeline.stages.classify import OFFICIAL_AUTHORS
from pipeline.store.base import Store

DAYS = 7
SAMPLE = 8
# Posts whose level is judged again at most; beyond it the figures say they were counted on these.
JUDGED = 2000


@dataclass(frozen=True, slots=True)
class Sample:
    id: str
    title: str
    text: str
    terms: tuple[str, ...]


@dataclass(slots=True)
class Preview:
    scanned: int = 0  # posts of the period read
    matched: int = 0  # matched by the edited rule
    before: int = 0  # matched by the saved version (0 for a new rule)
    new: int = 0
    lost: int = 0
    judged: int = 0  # posts whose level was judged again (those that changed, up to JUDGED)
    level_changes: int = 0
    raised: list[tuple[str, str]] = field(default_factory=list)  # (post id, "社会热点问题→复杂敏感事件")
    new_alerts: int = 0  # of the changes, posts that would now be alerted and were not
    new_samples: list[Sample] = field(default_factory=list)
    lost_samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


def preview(
    store: Store,
    context: Context,
    edited: RuleSpec,
    saved: RuleSpec | None,
    *,
    now: datetime,
    days: int = DAYS,
) -> Preview:
    """The edited rule (`edited`, already checked) against the saved one (None: a new rule) over the posts
    published in the `days` before `now`."""
    started = time.perf_counter()
    new_rule, old_rule = compile_rules([edited]), compile_rules([saved]) if saved else None
    result = Preview()
    changed: list[tuple[str, RuleHit | None, RuleHit | None]] = []
    for post in store.scan(now - timedelta(days=days)):
        result.scanned += 1
        now_hit = _hit(new_rule, post)
        was_hit = _hit(old_rule, post) if old_rule else None
        result.matched += now_hit is not None
        result.before += was_hit is not None
        if (now_hit is None) == (was_hit is None):
            continue
        if now_hit is not None:
            result.new += 1
            if len(result.new_samples) < SAMPLE:
                result.new_samples.append(_sample(post, now_hit))
        else:
            result.lost += 1
            if len(result.lost_samples) < SAMPLE and was_hit is not None:
                result.lost_samples.append(_sample(post, was_hit))
        changed.append((post["id"], was_hit, now_hit))
    floors = dict(context.rule_floors)
    for post_id, was_hit, now_hit in changed[:JUDGED]:
        doc = store.get(post_id)
        if doc is None:
            continue
        result.judged += 1
        before = _level(doc, edited.id, was_hit, floors | _floor(saved), context)
        after = _level(doc, edited.id, now_hit, floors | _floor(edited), context)
        if before is after:
            continue
        result.level_changes += 1
        result.raised.append((post_id, f"{before.value}→{after.value}"))
        if _alerted(doc, after, context) and not _alerted(doc, before, context):
            result.new_alerts += 1
    result.seconds = time.perf_counter() - started
    return result


def _hit(rules: RuleSet | None, post: dict[str, Any]) -> RuleHit | None:
    if rules is None:
        return None
    hits = rules.match({f: post.get(f) for f in ("title", "text", "author", "source", "media")})
    return hits[0] if hits else None


def _sample(post: dict[str, Any], hit: RuleHit) -> Sample:
    return Sample(post["id"], post.get("title") or "", post.get("text") or "", hit.terms)


def _floor(spec: RuleSpec | None) -> dict[str, Level]:
    return {spec.id: spec.min_level} if spec and spec.min_level else {}


def _level(doc: dict[str, Any], rule_id: str, hit: RuleHit | None, floors: dict, context: Context) -> Level:
    """The post's level judged on its own, with `hit` as the rule's only hit (or none)."""
    analysis = doc.get("analysis") or {}
    others = [
        RuleHit(
            r["id"], r.get("name", ""), r.get("category", ""), r.get("weight", 0.0), tuple(r.get("terms", ()))
        )
        for r in analysis.get("rules") or []
        if r.get("id") != rule_id
    ]
    counts = doc.get("counts") or {}
    sentiment = analysis.get("sentiment")
    signals = Signals(
        rules=[*others, hit] if hit else others,
        rule_floors=floors,
        sentiment=sentiment if isinstance(sentiment, int | float) else 0.5,
        comments=counts.get("comments", 0),
        reposts=counts.get("reposts", 0),
        likes=counts.get("likes", 0),
        media=[doc["media"]] if doc.get("media") else [],
        official_author=doc.get("author_kind") in OFFICIAL_AUTHORS,  # a stored value equals its member
    )
    return assess(signals, context.severity_model).level


def _alerted(doc: dict[str, Any], level: Level, context: Context) -> bool:
    """Whether the alert stage would alert the post at this level: local, not spam, at least the minimum."""
    analysis = doc.get("analysis") or {}
    local = ((analysis.get("territory") or {}).get("city")) is not None
    return local and not analysis.get("spam") and level.rank >= context.office.alerts.min_level.rank
