"""The case model on its own, without a database or a clock: which moves the state machine allows, and the
deadlines an alert sets, counted across a weekend, a public holiday and a 调休 Saturday; the wording and
keys of the notices about a case."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from alerts import notices
from alerts.calendar import Cadence
from alerts.cases import (
    ANSWERED,
    TRANSITIONS,
    UNCLAIMED,
    Case,
    Deadline,
    DeadlineKind,
    State,
    WorkflowError,
    check_move,
    deadlines_for,
    response_deadlines,
)
from alerts.models import AlertKind
from classifiers.types import Level
from config.loader import load_config
from config.models import CityUnits


@pytest.fixture(scope="module")
def cadence() -> Cadence:
    return Cadence.from_schedule(load_config().schedule)


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def shown(deadlines: dict[DeadlineKind, datetime]) -> dict[str, str]:
    return {kind.value: f"{due:%m-%d %H:%M}" for kind, due in deadlines.items()}


def test_an_unclaimed_case_may_be_claimed_and_a_closed_one_only_reopened() -> None:
    for state in UNCLAIMED:
        check_move(state, State.CLAIMED, "claim", "案件 1")
    with pytest.raises(WorkflowError, match="案件 1（已办结）：已办结的案件不能认领"):
        check_move(State.CLOSED, State.CLAIMED, "claim", "案件 1")
    check_move(State.CLOSED, State.REOPENED, "reopen", "案件 1")
    with pytest.raises(WorkflowError, match="不能记录回应"):
        check_move(State.NEW, State.RESPONDED, "respond", "案件 1")


def test_any_case_may_be_found_a_false_alarm_and_only_a_reopening_leaves_one() -> None:
    assert all(State.FALSE_ALARM in TRANSITIONS[s] for s in State if s is not State.FALSE_ALARM)
    assert TRANSITIONS[State.FALSE_ALARM] == {State.REOPENED}
    for to in State:
        if to in (State.REOPENED, State.FALSE_ALARM):
            continue
        with pytest.raises(WorkflowError):
            check_move(State.FALSE_ALARM, to, "close", "案件 1")


def test_a_case_stays_where_it_is_and_every_state_has_its_moves() -> None:
    assert set(TRANSITIONS) == set(State)
    for state in State:
        check_move(state, state, "respond", "案件 1")  # further releases after a response, and the like
    assert State.RESPONDED in TRANSITIONS[State.RESPONDED]
    assert {State.CLAIMED, State.FIRST_RELEASE} <= TRANSITIONS[State.EXTENSION_REQUESTED]


def test_response_deadlines_follow_the_level() -> None:
    start = at("2026-11-23T09:00")
    assert response_deadlines(Level.MAJOR_EMERGENCY, start) == {
        DeadlineKind.FIRST_RELEASE: start + timedelta(hours=1),
        DeadlineKind.PRESS_CONFERENCE: start + timedelta(hours=24),
    }
    for level in (Level.SENSITIVE, Level.HOT_TOPIC, Level.GENERAL):
        assert response_deadlines(level, start) == {DeadlineKind.RESPONSE: start + timedelta(hours=48)}


@pytest.mark.parametrize(
    ("raised", "level", "expected"),
    [
        # An ordinary Monday: the next hourly patrol.
        ("2026-11-23T09:10", Level.HOT_TOPIC, {"认领": "11-23 09:30", "回应": "11-25 09:10"}),
        # Less than claim_min (10 minutes) before a patrol: the one after.
        ("2026-11-23T09:25", Level.HOT_TOPIC, {"认领": "11-23 10:30", "回应": "11-25 09:25"}),
        # Friday after the last evening patrol: Saturday's first duty patrol, not Monday's.
        ("2026-11-27T23:30", Level.GENERAL, {"认领": "11-28 08:30", "回应": "11-29 23:30"}),
        # 国庆节 (a Thursday): patrols every two hours, so 10:30 rather than a workday's 09:30.
        ("2026-10-01T09:10", Level.HOT_TOPIC, {"认领": "10-01 10:30", "回应": "10-03 09:10"}),
        # The eve of the holiday late at night: the holiday's first patrol.
        ("2026-09-30T22:30", Level.HOT_TOPIC, {"认领": "10-01 08:30", "回应": "10-02 22:30"}),
        # A Saturday made a workday (调休): hourly, like a workday.
        ("2026-10-10T09:10", Level.HOT_TOPIC, {"认领": "10-10 09:30", "回应": "10-12 09:10"}),
        # A 重大突发事态 late on Friday: claimed no later than its first release, not on Saturday morning.
        (
            "2026-11-27T22:30",
            Level.MAJOR_EMERGENCY,
            {"认领": "11-27 23:30", "首次发布": "11-27 23:30", "新闻发布会": "11-28 22:30"},
        ),
    ],
)
def test_the_deadlines_an_alert_sets(
    cadence: Cadence, raised: str, level: Level, expected: dict[str, str]
) -> None:
    assert shown(deadlines_for(level, at(raised), cadence)) == expected


def case(state: State = State.CLAIMED, owner: str | None = "清丰县委宣传部") -> Case:
    opened = at("2026-11-23T09:00")
    return Case(
        id="event:sina:1",
        alert_key="event:sina:1@社会热点问题",
        post_id="sina:1",
        level=Level.HOT_TOPIC,
        title="清丰县一工地农民工讨薪",
        url="https://news.sina.com.cn/c/doc-1.shtml",
        source="大河报",
        counties=["清丰县"],
        first=["清丰县人力资源和社会保障局"],
        claim=["清丰县委宣传部"],
        opened_at=opened,
        state=state,
        prev_state=None,
        round=0,
        round_started_at=opened,
        owner=owner,
        assigned=None,
        updated_at=opened,
        watch_from=opened if state in ANSWERED else None,
    )


def deadline(kind: DeadlineKind, due: str, units: list[str]) -> Deadline:
    return Deadline(7, "event:sina:1", 0, kind, at(due), at(due), "open", units, None, None)


def test_a_case_is_watched_for_the_days_after_its_response() -> None:
    answered = case(State.RESPONDED)
    assert answered.watching(at("2026-11-30T09:00"), watch_days=7)
    assert not answered.watching(at("2026-11-30T09:01"), watch_days=7)
    assert not case(State.CLAIMED).watching(at("2026-11-24T09:00"), watch_days=7)


def test_notices_are_workflow_alerts_with_a_key_of_their_own() -> None:
    city = CityUnits()
    claim = deadline(DeadlineKind.CLAIM, "2026-11-23T10:30", ["清丰县委宣传部"])
    reminder = notices.reminder(case(State.NEW, None), claim, 10, at("2026-11-23T10:22"))
    assert reminder.kind is AlertKind.WORKFLOW
    assert not reminder.about_event
    assert reminder.key == "工作流:event:sina:1:0:认领提醒:7:202611231030:10"
    assert reminder.summary == "请于 2026-11-23 10:30 前认领（还有 8 分钟）。"
    assert reminder.claim == ["清丰县委宣传部"]

    escalation = notices.lapsed(case(State.NEW, None), claim, city)
    assert escalation.key == "工作流:event:sina:1:0:认领逾期:7"
    assert escalation.claim == ["市委宣传部", "市政府办"]
    assert escalation.inform == ["市网信办值班室", "清丰县委宣传部"]

    response = deadline(DeadlineKind.RESPONSE, "2026-11-25T09:00", ["清丰县委宣传部"])
    overdue = notices.lapsed(case(), response, city)
    assert overdue.title == "【回应逾期】清丰县一工地农民工讨薪"
    assert overdue.summary == "回应时限 2026-11-25 09:00 已过，清丰县委宣传部尚未回应；逾期已记录在案。"
    assert notices.duration(timedelta(hours=2, minutes=5)) == " 2 小时 5 分钟"
