"""Severity in the seeds' four categories, from the factors seed 000 names.

问题性质 (nature: the weight of the rules matched), 舆情烈度 (intensity: negativity), 公众反应/跟帖情况
(reaction: comments, reposts, likes), 媒体介入程度 (media: who carries it) and 发展态势 (velocity:
interactions per hour). Each factor is scaled to 0..1, weighted, and the sum (0..100) is compared with
the office's thresholds. A rule may set a floor (deaths are never below 重大突发事态). Every step is
written into `reasons`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from classifiers.spikes import Spike, surge
from classifiers.types import Level, RuleHit, Severity

MAX_RULE_WEIGHT = 10.0


@dataclass(frozen=True, slots=True)
class SeverityModel:
    weights: Mapping[str, float]  # nature, intensity, reaction, media, velocity
    thresholds: Mapping[Level, float]
    official_media: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, init=False)
class Signals:
    """What severity reads of a post (and, later, of its event)."""

    rules: Sequence[RuleHit]
    rule_floors: Mapping[str, Level] | None
    sentiment: float
    comments: int
    reposts: int
    likes: int
    media: Sequence[str]
    official_author: bool
    published_at: datetime | None
    now: datetime | None
    # The county or topic series of the post that are rising far above their usual hourly level now.
    spikes: Sequence[Spike]
    # Comments and reposts per hour when known otherwise than from `published_at` (an event's: the sum of
    # its posts' own rates).
    per_hour: float | None

    # Written out, to be compiled: the event stage makes one for every post that joins an event
    # (classifiers/sentiment.py says why).
    def __init__(
        self,
        rules: Sequence[RuleHit] = (),
        rule_floors: Mapping[str, Level] | None = None,
        sentiment: float = 0.5,
        comments: int = 0,
        reposts: int = 0,
        likes: int = 0,
        media: Sequence[str] = (),
        official_author: bool = False,
        published_at: datetime | None = None,
        now: datetime | None = None,
        spikes: Sequence[Spike] = (),
        per_hour: float | None = None,
    ) -> None:
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "rule_floors", rule_floors)
        object.__setattr__(self, "sentiment", sentiment)
        object.__setattr__(self, "comments", comments)
        object.__setattr__(self, "reposts", reposts)
        object.__setattr__(self, "likes", likes)
        object.__setattr__(self, "media", media)
        object.__setattr__(self, "official_author", official_author)
        object.__setattr__(self, "published_at", published_at)
        object.__setattr__(self, "now", now)
        object.__setattr__(self, "spikes", spikes)
        object.__setattr__(self, "per_hour", per_hour)


_LEVELS = tuple(Level)  # lowest first; iterating the enum itself is several times slower
_WEIGHT = attrgetter("weight")
_SCORE = attrgetter("score")


def _scaled_log(value: float, full_at: float) -> float:
    """0 at 0, 1 at `full_at`, logarithmic between: 100 comments are much more than 10, 10 000 not 100× more."""
    if value <= 0:
        return 0.0
    return min(1.0, math.log10(1 + value) / math.log10(1 + full_at))


def assess(signals: Signals, model: SeverityModel) -> Severity:
    """The level of a post or an event, with every step that led to it in `reasons`."""
    return assess_values(
        model,
        signals.rules,
        signals.rule_floors,
        signals.sentiment,
        signals.comments,
        signals.reposts,
        signals.likes,
        signals.media,
        signals.official_author,
        signals.published_at,
        signals.now,
        signals.spikes,
        signals.per_hour,
    )


def assess_values(
    model: SeverityModel,
    rules: Sequence[RuleHit],
    rule_floors: Mapping[str, Level] | None,
    sentiment: float,
    comments: int,
    reposts: int,
    likes: int,
    media: Sequence[str],
    official_author: bool,
    published_at: datetime | None,
    now: datetime | None,
    spikes: Sequence[Spike] = (),
    per_hour: float | None = None,
) -> Severity:
    """`assess` of the values a `Signals` holds, one by one in the order of its fields: the classify stage
    assesses every post, and building a frozen `Signals` for each first made that half as slow again."""
    reasons: list[str] = []
    weights = model.weights

    if rules:
        top = max(rules, key=_WEIGHT)
        nature = min(1.0, top.weight / MAX_RULE_WEIGHT)
        categories = "、".join(dict.fromkeys(r.category for r in rules if r.category))
        reasons.append(
            f"问题性质：命中规则「{top.name or top.id}」(权重{top.weight:g})"
            + (f"，类别{categories}" if categories else "")
        )
    else:
        nature = 0.0
        reasons.append("问题性质：未命中关键词规则")

    negativity = 1.0 - sentiment
    intensity = max(0.0, (negativity - 0.5) * 2)
    reasons.append(f"舆情烈度：负面概率{negativity:.2f}")

    reaction = _scaled_log(comments + reposts + likes / 10, 10_000)
    reasons.append(f"公众反应：评论{comments}、转发{reposts}、点赞{likes}")

    official = [m for m in media if m in model.official_media] if media else []
    if official:
        media_factor = min(1.0, 0.6 + 0.2 * (len(official) - 1))
        reasons.append(f"媒体介入：{'、'.join(official)}报道")
    elif official_author:
        media_factor = 0.6
        reasons.append("媒体介入：官方账号发布")
    elif media:
        media_factor = min(1.0, 0.2 * len(media))
        reasons.append(f"媒体介入：{'、'.join(media)}")
    else:
        media_factor = 0.0
        reasons.append("媒体介入：无")

    velocity = 0.0
    if per_hour is None and published_at and now:
        hours = max((now - published_at).total_seconds() / 3600, 0.5)
        per_hour = (comments + reposts) / hours
    if per_hour is not None:
        velocity = _scaled_log(per_hour, 1000)
        reasons.append(f"发展态势：每小时约{per_hour:.0f}次评论转发")
    if spikes:
        # A county or topic suddenly much talked about: the post is part of a rise, whatever its own counts.
        rise = max(spikes, key=_SCORE)
        velocity = max(velocity, surge(rise))
        reasons.append(f"发展态势：突增，{rise.reason}")

    # Added in this order, from 0, as a sum over the factors always was: the same score to the last bit.
    get = weights.get
    total = (
        0
        + get("nature", 0.0) * nature
        + get("intensity", 0.0) * intensity
        + get("reaction", 0.0) * reaction
        + get("media", 0.0) * media_factor
        + get("velocity", 0.0) * velocity
    )
    score = round(100 * total, 1)
    level = Level.GENERAL
    thresholds = model.thresholds
    for candidate in _LEVELS:
        if score >= thresholds[candidate]:
            level = candidate
    reasons.append(f"综合得分{score:g}，对应{level}")

    if rules and (floors := rule_floors):
        for hit in rules:
            floor = floors.get(hit.id)
            if floor and floor.rank > level.rank:
                level = floor
                reasons.append(f"规则「{hit.name or hit.id}」要求至少{floor}")
    return Severity(level, score, tuple(reasons))
