"""Who answers for an event is decided on its final level: four posts about one chlorine leak, each of
them 复杂敏感事件 alone, make it a 重大突发事态, and the alert of that level reaches the city's principal
leader and 市委 as seed 000 三 asks ("本级政府主要负责同志…同时应向同级党委报告"). What the store keeps,
what `yuqing analyze` and `yuqing route` print and what the alert carries are that one decision."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.cases import DeadlineKind
from alerts.dispatcher import dispatch, open_channels
from alerts.models import Alert
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from config.env import Env
from config.loader import load_config
from config.models import AlertsFile
from pipeline.context import Context
from pipeline.events import EventStore
from pipeline.items import Counts, Post, Source
from pipeline.runner import OfflineRunner
from pipeline.store.sqlite import SqliteStore
from tests.alerts.receiver import BotReceiver
from tests.pipeline.stages import Patrol

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = datetime.fromisoformat("2026-11-23T08:30:00+08:00")
MORNING = datetime.fromisoformat("2026-11-23T09:30:00+08:00")
AFTERNOON = datetime.fromisoformat("2026-11-23T14:30:00+08:00")
# The leak's posts were all published at 08:30: the event is named after the smallest id among them
# (people:4, the last crawled), and its first alert, raised while tieba:1 was its only post, keeps its key.
EVENT = "event:people:4"
FIRST_ALERT = "event:tieba:1@复杂敏感事件"
LEADERS = ["市政府主要负责同志", "市委"]  # seed 000 三: 特别重大的政务舆情
TOLD = [*LEADERS, "市委宣传部", "市政府办", "市网信办", "市网信办值班室", "濮阳县委宣传部", "濮阳县政府办"]

LEAK = [
    {
        "id": "tieba:1",
        "source": "tieba",
        "title": "柳屯镇化工厂氯气泄漏了 村里都在跑",
        "text": "濮阳县柳屯镇化工厂早上氯气泄漏，刺鼻气味，村民紧急疏散，好多人咳嗽不适。",
    },
    {
        "id": "weibo:2",
        "source": "weibo",
        "text": "濮阳县柳屯镇化工厂氯气泄漏，村民紧急疏散，刺鼻气味，咳嗽不适，有人送医。",
    },
    {
        "id": "sina:3",
        "source": "sina",
        "media": "大河报",
        "title": "濮阳县柳屯镇化工厂氯气泄漏 周边村民紧急疏散",
        "text": "濮阳县柳屯镇一化工厂23日早晨发生氯气泄漏，周边村民闻到刺鼻气味后紧急疏散，多人出现咳嗽不适。",
    },
    {
        "id": "people:4",
        "source": "people",
        "media": "人民网",
        "title": "濮阳县柳屯镇化工厂氯气泄漏 村民疏散",
        "text": "濮阳县柳屯镇化工厂氯气泄漏致周边村民紧急疏散，多人咳嗽不适，刺鼻气味仍未散去。",
    },
]
LEAK_LINES = [
    {
        **item,
        "url": f"https://example.invalid/{item['id']}",
        "published_at": PUBLISHED.isoformat(),
        "crawled_at": MORNING.isoformat(),
        "counts": {"comments": 150},
    }
    for item in LEAK
]
# In the afternoon: villagers going home (no rule matches, a quiet thread), and a post naming only 濮阳.
QUIET = {
    "id": "tieba:5",
    "source": "tieba",
    "title": "柳屯镇化工厂那边村民回家了吗",
    "text": "濮阳县柳屯镇化工厂附近疏散的村民，下午陆续回家了，咳嗽不适的都看过医生了。",
    "url": "https://example.invalid/tieba:5",
    "published_at": "2026-11-23T14:00:00+08:00",
    "crawled_at": AFTERNOON.isoformat(),
    "counts": {"comments": 3},
}
NO_COUNTY = {
    "id": "weibo:6",
    "source": "weibo",
    "text": "濮阳一化工厂氯气泄漏，周边村民紧急疏散，多人咳嗽不适，刺鼻气味到现在还没散。",
    "url": "https://example.invalid/weibo:6",
    "published_at": "2026-11-23T14:10:00+08:00",
    "crawled_at": AFTERNOON.isoformat(),
    "counts": {"comments": 20},
}


def make_post(item: dict) -> Post:
    return Post(
        id=item["id"],
        source=Source(item["source"]),
        url=item["url"],
        title=item.get("title"),
        text=item["text"],
        media=item.get("media"),
        published_at=datetime.fromisoformat(item["published_at"]),
        crawled_at=datetime.fromisoformat(item["crawled_at"]),
        counts=Counts(**item["counts"]),
    )


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Patrolled:
    office_dir: Path
    alone: dict[str, Level]  # each post judged on its own
    levels: list[Level]  # the level each post left the patrol with, in order
    alerts: dict[str, Alert]
    stored: dict[str, dict]
    webhook: list[dict]  # what the duty screen received: one body per alert and recipient
    case_level: Level
    case_deadlines: dict[DeadlineKind, datetime]


def screen_config() -> AlertsFile:
    return AlertsFile.model_validate(
        {
            "channels": [
                {"name": "console", "type": "console"},
                {"name": "screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}},
            ],
            "recipients": {unit: ["screen"] for unit in TOLD},
        }
    )


@pytest.fixture(scope="module")
def patrolled(tmp_path_factory: pytest.TempPathFactory) -> Patrolled:
    data = tmp_path_factory.mktemp("var")
    clock = Clock(MORNING)
    context = Context(office=load_config(), env=Env(YUQING_DATA_DIR=data, ES_URL=None), now=clock)
    patrol = Patrol(context)
    alone: dict[str, Level] = {}
    levels: list[Level] = []
    for item in [*LEAK_LINES, QUIET, NO_COUNTY]:
        clock.at = datetime.fromisoformat(item["crawled_at"])
        # A runner of its own sees no other post, so this is the post's level on its own.
        alone[item["id"]] = OfflineRunner(context).run(make_post(item)).analysis.severity.level
        levels.append(patrol(make_post(item)).analysis.severity.level)
    patrol.close()

    outbox = Outbox(context.env.outbox_path)
    config = screen_config()
    with BotReceiver() as receiver:
        channels, unavailable = open_channels(config, environ={"YUQING_SCREEN_URL": receiver.webhook_url})
        dispatch(outbox, config, channels, clock, unavailable=unavailable, wait=0)
        webhook = [r.body for r in receiver.of("webhook")]
    workflow = Workflow(outbox, context.office, clock)
    workflow.sync()
    case = workflow.get(EVENT)
    deadlines = {d.kind: d.due_at for d in workflow.deadlines(EVENT, status="open")}
    alerts = {a.key: a for a in outbox.alerts()}
    workflow.close()
    outbox.close()
    store = SqliteStore(data / "store" / "posts.sqlite3")
    stored = {item["id"]: store.get(item["id"]) for item in [*LEAK_LINES, QUIET, NO_COUNTY]}
    store.close()
    return Patrolled(data, alone, levels, alerts, stored, webhook, case.level, deadlines)


def responsible_of(alert: Alert) -> dict[str, list[str]]:
    return {role: getattr(alert, role) for role in ("first", "coordinate", "claim", "inform")}


def test_the_risen_alert_reaches_the_principal_leader_and_the_party_committee(patrolled: Patrolled) -> None:
    assert [patrolled.alone[item["id"]] for item in LEAK_LINES] == [Level.SENSITIVE] * 4
    assert patrolled.levels[:4] == [Level.SENSITIVE] * 3 + [Level.MAJOR_EMERGENCY]
    assert set(list(patrolled.alerts)[:2]) == {FIRST_ALERT, f"{EVENT}@重大突发事态"}
    assert {patrolled.alerts[key].event_id for key in list(patrolled.alerts)[:2]} == {EVENT}
    risen = patrolled.alerts[f"{EVENT}@重大突发事态"]
    assert "市政府主要负责同志" in risen.coordinate
    assert {"市委", "市委宣传部", "市政府办", "市网信办"} <= set(risen.inform)
    assert risen.first == ["濮阳县应急管理局"]
    assert risen.claim == ["濮阳县委宣传部", "濮阳县政府办"]
    told = {(body["recipient"], body["level"]) for body in patrolled.webhook}
    for unit in LEADERS:
        assert (unit, "重大突发事态") in told
    to_party = next(b for b in patrolled.webhook if b["recipient"] == "市委")
    assert to_party["subject"].startswith("【重大突发事态】")
    assert "组织协调：濮阳县政府办、濮阳县委宣传部、市政府主要负责同志" in to_party["text"]
    # The case follows the rise: the first release is due within an hour, a press conference within a day.
    assert patrolled.case_level is Level.MAJOR_EMERGENCY
    assert patrolled.case_deadlines[DeadlineKind.FIRST_RELEASE] == risen.created_at + timedelta(hours=1)
    assert patrolled.case_deadlines[DeadlineKind.PRESS_CONFERENCE] == risen.created_at + timedelta(hours=24)


def test_the_first_alert_below_the_rise_is_routed_as_before(patrolled: Patrolled) -> None:
    first = patrolled.alerts[FIRST_ALERT]
    assert responsible_of(first) == {
        "first": ["濮阳县应急管理局"],
        "coordinate": ["濮阳县政府办", "濮阳县委宣传部"],
        "claim": ["濮阳县委宣传部", "濮阳县政府办"],
        "inform": ["市网信办值班室", "市委宣传部", "市政府办"],
    }
    told = {(body["recipient"], body["level"]) for body in patrolled.webhook}
    assert not any((unit, "复杂敏感事件") in told for unit in LEADERS)


def test_what_the_store_keeps_is_what_the_alert_carries(patrolled: Patrolled) -> None:
    risen = patrolled.alerts[f"{EVENT}@重大突发事态"]
    doc = patrolled.stored[risen.post_id]["analysis"]
    assert doc["severity"]["level"] == "重大突发事态"
    assert {role: doc["responsible"][role] for role in responsible_of(risen)} == responsible_of(risen)
    assert "市委" in doc["responsible"]["inform"]
    assert doc["responsible"]["level"] == "重大突发事态"  # the level it was routed on, kept with it


def test_a_quieter_post_of_the_event_keeps_its_level_and_its_recipients(patrolled: Patrolled) -> None:
    assert patrolled.alone["tieba:5"] is Level.GENERAL
    doc = patrolled.stored["tieba:5"]["analysis"]
    assert doc["event_id"] == EVENT
    assert doc["severity"]["level"] == "重大突发事态"
    # Judged on the whole event (every post's rules, reading and counts), not on its own quiet words.
    assert any(r.startswith("事件合计：5条信息") for r in doc["severity"]["reasons"])
    assert "市委" in doc["responsible"]["inform"]
    # The event kept growing: told again at its level, to the same leaders.
    again = patrolled.alerts[f"{EVENT}@重大突发事态#2"]
    assert again.level is Level.MAJOR_EMERGENCY
    assert "市政府主要负责同志" in again.coordinate
    assert "市委" in again.inform


def test_a_post_naming_only_the_city_is_answered_by_its_events_county(patrolled: Patrolled) -> None:
    doc = patrolled.stored["weibo:6"]["analysis"]
    assert doc["territory"]["counties"] == []
    assert doc["event_id"] == EVENT
    assert doc["responsible"]["claim"] == ["濮阳县委宣传部", "濮阳县政府办"]
    assert "濮阳县应急管理局" in doc["responsible"]["first"]
    assert any(r.startswith("所属事件共6条信息，涉及濮阳县") for r in doc["responsible"]["reasons"])


def cli(command: str, lines: list[dict], data: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_") and k != "ES_URL"}
    env.update(YUQING_DATA_DIR=str(data), YUQING_NOW=MORNING.isoformat())
    result = subprocess.run(
        [sys.executable, "-m", "commands.cli", command],
        cwd=ROOT,
        env=env,
        input="".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_route_and_analyze_print_what_the_patrol_stored_and_alerted(
    patrolled: Patrolled, tmp_path: Path
) -> None:
    trial = tmp_path / "var"
    routed = cli("route", LEAK_LINES, trial)
    analysed = cli("analyze", LEAK_LINES, trial)
    roles = ("first", "coordinate", "claim", "inform", "reasons")
    for item, route_out, analyze_out in zip(LEAK_LINES, routed, analysed, strict=True):
        stored = patrolled.stored[item["id"]]["analysis"]
        assert route_out["level"] == analyze_out["severity"]["level"] == stored["severity"]["level"]
        kept = {role: stored["responsible"][role] for role in roles}
        assert {role: route_out["responsible"][role] for role in roles} == kept
        assert analyze_out["responsible"] == kept
    risen = patrolled.alerts[f"{EVENT}@重大突发事态"]
    assert routed[3]["level"] == "重大突发事态"
    assert [r["unit"] for r in routed[3]["recipients"]] == risen.recipients()
    assert {r["unit"]: r["roles"] for r in routed[3]["recipients"]}["市委"] == ["inform"]
    assert not trial.exists()  # an analyst's trial neither reads nor writes the office's events


def test_the_event_record_of_an_earlier_version_is_read_and_extended(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE signatures (post_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, fingerprint TEXT NOT NULL, "
        "terms TEXT NOT NULL, counties TEXT NOT NULL, published_ts REAL NOT NULL, published_at TEXT NOT NULL, "
        "source TEXT NOT NULL, media TEXT, comments INTEGER NOT NULL, reposts INTEGER NOT NULL, "
        "likes INTEGER NOT NULL);"
        "INSERT INTO signatures VALUES ('tieba:1', 'event:tieba:1', '00000000000000ff', '[\"氯气\"]', "
        f"'[\"濮阳县\"]', {PUBLISHED.timestamp()}, '{PUBLISHED.isoformat()}', 'tieba', NULL, 150, 0, 0);"
    )
    old.commit()
    old.close()
    store = EventStore(path)
    totals = store.totals("event:tieba:1")
    assert (totals.posts, totals.counties, totals.departments, totals.level) == (1, ("濮阳县",), (), None)
    store.judged("tieba:1", Level.SENSITIVE)
    assert store.totals("event:tieba:1").level is Level.SENSITIVE
    store.close()
