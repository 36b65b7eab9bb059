"""Result types of the classifiers: frozen records that carry their reasons.

Everything here is plain data so that the pipeline can store it and `yuqing analyze` can print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """The four warning categories of the seeds (seed 000 四(一)), lowest first."""

    GENERAL = "一般性事项"
    HOT_TOPIC = "社会热点问题"
    SENSITIVE = "复杂敏感事件"
    MAJOR_EMERGENCY = "重大突发事态"

    # Its place in the order above, 0 for the lowest: an attribute of each member (set below), as severity
    # and the event stage compare ranks for every post, and a property would run as Python each time.
    rank: int


for _rank, _level in enumerate(Level):
    _level.rank = _rank


class Polarity(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"

    @property
    def label(self) -> str:
        return {"negative": "负面", "neutral": "中性", "positive": "正面"}[self.value]


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One keyword rule that matched, with the terms that made it match."""

    id: str
    name: str
    category: str
    weight: float
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Severity:
    level: Level
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Territory:
    province: str | None = None
    city: str | None = None
    counties: tuple[str, ...] = ()
    townships: tuple[str, ...] = ()
    confidence: float = 0.0
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spam:
    is_spam: bool
    reasons: tuple[str, ...] = ()
