"""Noise control in the outbox: one alert per event, again only when its level rises or the event keeps
growing (no sooner than 1 h, 2 h, 4 h … after the last alert); health alerts and notices pass as they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.models import Alert, AlertKind
from alerts.outbox import Outbox
from classifiers.types import Level
from config.delivery import RealertPolicy
from tests.alerts.conftest import NOW, make_alert

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")


def post(n: int, level: Level = Level.SENSITIVE, minutes: float = 0, reach: int = 100) -> Alert:
    """Post n of event 1, raised `minutes` after 09:00."""
    return make_alert(1, level, at=NOW + timedelta(minutes=minutes), reach=reach, post=f"sina:{n}")


def test_an_event_is_alerted_once_per_level_and_never_for_a_lower_one(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    assert outbox.enqueue(post(1, Level.HOT_TOPIC))
    assert not outbox.enqueue(post(1, Level.HOT_TOPIC))  # the same post again
    assert outbox.enqueue(post(2, Level.SENSITIVE, minutes=5))  # level rose
    assert not outbox.enqueue(post(3, Level.HOT_TOPIC, minutes=10))  # lower than already told
    assert [a.key for a in outbox.alerts()] == ["event:sina:1@社会热点问题", "event:sina:1@复杂敏感事件"]


def test_a_growing_event_is_told_again_with_doubling_pauses(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    assert outbox.enqueue(post(1, minutes=0))
    # Doubled within the hour: not yet.
    assert not outbox.enqueue(post(2, minutes=30))
    # An hour on, three posts where there was one: told again, at the event's level, saying why.
    assert outbox.enqueue(post(3, Level.HOT_TOPIC, minutes=65))
    realert = outbox.alerts()[-1]
    assert realert.key == "event:sina:1@复杂敏感事件#2"
    assert realert.level is Level.SENSITIVE
    assert realert.reasons[0] == "持续发酵：相关信息1→3条，传播量100→300，距上次预警1.1小时"
    # One more post is +33 %: not enough.
    assert not outbox.enqueue(post(4, minutes=130))
    # Doubled again, but the pause is now two hours (from 10:05): 12:00 is too early, 12:10 is not.
    assert not outbox.enqueue(post(5, minutes=180))
    assert not outbox.enqueue(post(6, minutes=181))
    assert outbox.enqueue(replace(post(7, minutes=190), reach=100))
    assert outbox.alerts()[-1].key == "event:sina:1@复杂敏感事件#3"


def test_reach_growing_on_the_same_post_also_counts(tmp_path: Path) -> None:
    outbox = Outbox(
        tmp_path / "alerts.sqlite3", realert=RealertPolicy(growth_percent=100, first_after_minutes=30)
    )
    assert outbox.enqueue(post(1, reach=1000))
    assert not outbox.enqueue(post(1, minutes=40, reach=1500))
    assert outbox.enqueue(post(1, minutes=45, reach=2100))
    assert outbox.alerts()[-1].reasons[0].startswith("持续发酵：相关信息1→1条，传播量1000→2100")


def test_health_alerts_and_notices_are_not_held_back(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    health = replace(
        make_alert(1, Level.GENERAL),
        key="health:sina_news:blocked:2026-11-23",
        event_id="health:sina_news",
        kind=AlertKind.HEALTH,
    )
    assert outbox.enqueue(health)
    assert outbox.enqueue(replace(health, key="health:sina_news:blocked:2026-11-24"))
    assert outbox.enqueue(post(1))
    # A notice about the event's case carries the event's id too; its kind keeps noise control off it.
    assert outbox.enqueue(replace(post(1), key="notice:remind:event:sina:1:claim", kind=AlertKind.WORKFLOW))
    assert len(outbox.alerts()) == 4
    assert outbox.enqueue(post(1, minutes=90, reach=5000))  # the notice is not the event's last alert
    assert outbox.alerts()[-1].realert == 2


def test_pauses_double_up_to_the_maximum() -> None:
    policy = RealertPolicy(first_after_minutes=60, max_after_hours=6)
    assert [policy.wait_minutes(n) for n in range(5)] == [60, 120, 240, 360, 360]
