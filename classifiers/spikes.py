"""Spikes: a sudden rise in how much is posted about one county or one topic, against its own usual level.

Each watched series (a county, a rule's topic) keeps hourly counts for a week. Its usual level is the
median of the past hours and its usual swing the median absolute deviation (MAD), both robust to the odd
busy hour; the hour now is a spike when it stands far above both and is not a handful of posts. Pure: the
caller feeds posts in with their times and asks at a moment of its choosing.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

HOUR = timedelta(hours=1)
WEEK_HOURS = 7 * 24
# 1.4826 × MAD estimates the standard deviation of normally distributed counts.
MAD_TO_SIGMA = 1.4826
# How many estimated standard deviations above the usual level make a spike.
THRESHOLD = 4.0
# Fewer posts than this in the hour is never a spike, however quiet the series usually is.
MIN_COUNT = 5
# Hours of history needed before a series has a usual level at all.
MIN_HISTORY = 24


@dataclass(frozen=True, slots=True)
class Baseline:
    """A series' usual hourly count and its usual swing, over `hours` past hours."""

    median: float
    mad: float
    hours: int

    @property
    def spread(self) -> float:
        # Counts are Poisson-like: even a series that never varied has a swing of about √median; and a
        # series at zero would otherwise call any single post a spike.
        return max(MAD_TO_SIGMA * self.mad, math.sqrt(self.median), 1.0)


@dataclass(frozen=True, slots=True)
class Spike:
    """One series rising far above its usual level in the hour ending at `at`, with the reason in words."""

    kind: str  # 县区 or 话题
    name: str
    at: datetime
    count: int
    baseline: Baseline
    score: float  # standard deviations above the usual level
    reason: str


def baseline(history: Sequence[int]) -> Baseline:
    """The median and MAD of past hourly counts."""
    if not history:
        return Baseline(0.0, 0.0, 0)
    middle = median(history)
    return Baseline(float(middle), float(median(abs(c - middle) for c in history)), len(history))


def judge(
    kind: str,
    name: str,
    at: datetime,
    count: int,
    history: Sequence[int],
    *,
    threshold: float = THRESHOLD,
    min_count: int = MIN_COUNT,
    min_history: int = MIN_HISTORY,
) -> Spike | None:
    """A spike when `count` (the last hour) stands `threshold` swings above the usual level of `history`."""
    if count < min_count or len(history) < min_history:
        return None
    usual = baseline(history)
    score = (count - usual.median) / usual.spread
    if score < threshold:
        return None
    times = f"，约为平时的{count / usual.median:.0f}倍" if usual.median >= 1 else ""
    swing = f"（波动{MAD_TO_SIGMA * usual.mad:.1f}条）" if usual.mad else ""
    reason = (
        f"{kind}「{name}」近1小时{count}条，过去{_span(usual.hours)}每小时中位数{usual.median:g}条"
        f"{swing}{times}，高出平时{score:.1f}个标准差"
    )
    return Spike(kind, name, at, count, usual, round(score, 1), reason)


def surge(spike: Spike, threshold: float = THRESHOLD) -> float:
    """发展态势 read off a spike, 0..1: half at the threshold, all of it at five times the threshold."""
    return min(1.0, 0.5 + (spike.score - threshold) / (8 * threshold))


def _span(hours: int) -> str:
    return f"{hours // 24}天" if hours % 24 == 0 else f"{hours}小时"


class _Series:
    """Hourly counts of one series, newest last, up to a week plus the hour being filled."""

    __slots__ = ("counts", "hour")

    def __init__(self, hour: datetime) -> None:
        self.hour = hour  # the start of the newest bucket
        self.counts: deque[int] = deque([0], maxlen=WEEK_HOURS + 1)

    def advance(self, hour: datetime) -> None:
        gap = int((hour - self.hour) / HOUR)
        for _ in range(min(gap, WEEK_HOURS + 1)):
            self.counts.append(0)
        if gap > 0:
            self.hour = hour


class SpikeWatch:
    """Rolling hourly counts per series; `check` names the series whose last hour is a spike.

    Posts older than the newest hour seen still count in their own hour while it is kept (a crawl reads
    newest first); posts from before the window are ignored.
    """

    def __init__(
        self,
        since: datetime | None = None,
        *,
        threshold: float = THRESHOLD,
        min_count: int = MIN_COUNT,
        min_history: int = MIN_HISTORY,
    ) -> None:
        self.series: dict[tuple[str, str], _Series] = {}
        # The first hour watched (given, or that of the first post): a series is 0 from then until it is seen.
        self.started: datetime | None = _hour(since) if since is not None else None
        self.threshold, self.min_count, self.min_history = threshold, min_count, min_history

    def add(self, at: datetime, counties: Iterable[str] = (), topics: Iterable[str] = ()) -> None:
        hour = _hour(at)
        if self.started is None or hour < self.started:
            self.started = hour
        for key in [("县区", c) for c in dict.fromkeys(counties)] + [
            ("话题", t) for t in dict.fromkeys(topics)
        ]:
            series = self.series.get(key)
            if series is None:
                series = self.series[key] = _Series(self.started)
            if hour > series.hour:
                series.advance(hour)
            back = int((series.hour - hour) / HOUR)
            if back < len(series.counts):
                series.counts[-1 - back] += 1

    def check(self, now: datetime) -> list[Spike]:
        """Spikes in the hour ending at `now`'s hour, loudest first."""
        hour = _hour(now)
        found = []
        for (kind, name), series in self.series.items():
            if hour > series.hour:
                series.advance(hour)
            *history, current = series.counts
            spike = judge(
                kind,
                name,
                hour + HOUR,
                current,
                history,
                threshold=self.threshold,
                min_count=self.min_count,
                min_history=self.min_history,
            )
            if spike is not None:
                found.append(spike)
        return sorted(found, key=lambda s: -s.score)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
