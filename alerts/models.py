"""The alert record: what duty staff and the responsible units are told about one post or event."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from classifiers.types import Level

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Seed 000 四(三): 重大突发事件 — first release at once (within 1 h) and a press conference within 24 h;
# other 政务舆情 — a response within 48 h.
FIRST_RELEASE_WITHIN = timedelta(hours=1)
PRESS_CONFERENCE_WITHIN = timedelta(hours=24)
RESPONSE_WITHIN = timedelta(hours=48)


@dataclass(slots=True)
class Alert:
    key: str  # idempotency key: one alert per event and level
    post_id: str
    event_id: str
    level: Level
    title: str
    url: str
    source: str
    summary: str
    created_at: datetime
    reasons: list[str] = field(default_factory=list)
    first: list[str] = field(default_factory=list)
    coordinate: list[str] = field(default_factory=list)
    claim: list[str] = field(default_factory=list)
    inform: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    # "post": a post or event that concerns the territory; "health": a source that stopped delivering
    # (pipeline.health); "config": a config file that cannot be used (commands.config_watch). The last two
    # are told to duty staff with the reason and what to do in `reasons`.
    kind: str = "post"
    categories: list[str] = field(default_factory=list)  # keyword-rule categories matched (silences)
    reach: int = 0  # comments + reposts + likes when raised; growth re-alerts compare it
    townships: list[str] = field(default_factory=list)  # named in the post (silences may name one)

    def deadlines(self) -> dict[str, datetime]:
        if self.level is Level.MAJOR_EMERGENCY:
            return {
                "首次发布": self.created_at + FIRST_RELEASE_WITHIN,
                "新闻发布会": self.created_at + PRESS_CONFERENCE_WITHIN,
            }
        return {"回应": self.created_at + RESPONSE_WITHIN}

    def recipients(self) -> list[str]:
        """Everyone told: the units that must act, then those informed (duty staff always)."""
        return list(dict.fromkeys([*self.first, *self.claim, *self.coordinate, *self.inform]))

    def subject(self) -> str:
        if self.kind == "health":
            return f"【信息源异常】{self.title}"
        if self.kind == "config":
            return f"【配置错误】{self.title}"
        return f"【{self.level.value}】{self.title}"

    def render(self) -> str:
        if self.kind == "health":
            return "\n".join([self.subject(), f"来源：{self.source}", *self.reasons])
        if self.kind == "config":
            return "\n".join([self.subject(), *self.reasons])
        lines = [self.subject()]
        if self.counties:
            lines.append(f"属地：{'、'.join(self.counties)}")
        lines.append(f"第一责任主体：{'、'.join(self.first) or '待指定'}")
        if self.claim:
            lines.append(f"认领：{'、'.join(self.claim)}")
        if self.coordinate:
            lines.append(f"组织协调：{'、'.join(self.coordinate)}")
        for name, due in self.deadlines().items():
            lines.append(f"{name}时限：{due.astimezone(SHANGHAI):%Y-%m-%d %H:%M}前")
        lines.append(f"摘要：{self.summary}")
        lines.extend(f"依据：{reason}" for reason in self.reasons)
        lines.append(f"来源：{self.source} {self.url}")
        return "\n".join(lines)


def short_id(case_id: str) -> str:
    """Eight hex digits that stand for a case wherever an id is typed or shown: event ids run to forty
    characters and would be cut off in a table. The same id always gives the same short id."""
    return hashlib.sha1(case_id.encode("utf-8")).hexdigest()[:8]
