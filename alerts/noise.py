"""Noise control: one alert per event, told again only when its level rises or it keeps growing.

Growth is measured on the event as the outbox has seen it (its posts and their comments + reposts +
likes) and re-told no sooner than 1 h, 2 h, 4 h … after the last alert. Pure; the outbox supplies history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.models import Alert, alert_key
from classifiers.types import Level
from config.delivery import RealertPolicy


@dataclass(frozen=True, slots=True)
class EventHistory:
    top_level: Level  # the highest level the event was alerted at
    last_alert_at: datetime
    growth_realerts: int  # growth re-alerts since the event reached `top_level`
    posts_then: int  # the event's size when last alerted
    reach_then: int
    posts_now: int
    reach_now: int


@dataclass(frozen=True, slots=True)
class Decision:
    raise_alert: bool
    key: str
    reason: str
    realert: int = 0  # the number of a growth re-alert (its key ends `#n`); 0 for the alert as raised


def _grew(then: int, now: int, percent: float) -> bool:
    return then > 0 and now > then and now >= then * (1 + percent / 100)


def judge(alert: Alert, history: EventHistory | None, policy: RealertPolicy) -> Decision:
    if history is None:
        return Decision(True, alert.key, "首次预警")
    if alert.level.rank > history.top_level.rank:
        return Decision(True, alert.key, f"级别升至{alert.level.value}（此前{history.top_level.value}）")
    grew_posts = _grew(history.posts_then, history.posts_now, policy.growth_percent)
    grew_reach = _grew(history.reach_then, history.reach_now, policy.growth_percent)
    if not (grew_posts or grew_reach):
        return Decision(False, alert.key, f"已按{history.top_level.value}预警，事件未明显扩大")
    waited = (alert.created_at - history.last_alert_at).total_seconds() / 60
    wait = policy.wait_minutes(history.growth_realerts)
    if waited < wait:
        return Decision(False, alert.key, f"事件扩大，距上次预警{waited:.0f}分钟，未满{wait:.0f}分钟")
    number = history.growth_realerts + 2  # the first alert at this level is number 1
    hours = waited / 60
    return Decision(
        True,
        alert_key(alert.event_id, history.top_level, number),
        f"持续发酵：相关信息{history.posts_then}→{history.posts_now}条，"
        f"传播量{history.reach_then}→{history.reach_now}，距上次预警{hours:.1f}小时",
        realert=number,
    )
