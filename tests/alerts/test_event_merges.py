"""Events found to be one after each raised its alert (a later post bridged them, or an earlier post named
the event): one case for the incident, under the event's final id when no case was open yet, or the case
already open, which keeps its number; noise control reads the merged history. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.models import alert_key
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from config.loader import load_config
from tests.alerts.conftest import NOW, make_alert

pytestmark = pytest.mark.usefixtures("alerts_backend")


def alert_of(event: str, n: int, level: Level = Level.MAJOR_EMERGENCY, minutes: int = 0):
    alert = make_alert(n, level, at=NOW + timedelta(minutes=minutes), county="范县")
    return replace(alert, event_id=event, key=alert_key(event, level))


@pytest.fixture
def desk(tmp_path: Path):
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    workflow = Workflow(outbox, load_config(), lambda: NOW + timedelta(minutes=10))
    yield outbox, workflow
    workflow.close()
    outbox.close()


def test_two_events_merged_before_any_case_open_one_case_under_the_final_id(desk) -> None:
    outbox, workflow = desk
    assert outbox.enqueue(alert_of("event:weibo:2", 2))
    assert outbox.enqueue(alert_of("event:sohu:3", 3, minutes=1))
    outbox.merge_events(["event:weibo:2", "event:sohu:3"], "event:sina:1", NOW + timedelta(minutes=2))

    assert workflow.sync() == 1
    (case,) = workflow.cases()
    assert case.id == "event:sina:1"
    assert {key for _case, key in workflow.records.alert_keys(case.id)} == {
        "event:weibo:2@重大突发事态",
        "event:sohu:3@重大突发事态",
    }
    # The merged event was told at this level already: the same level again is no new alert.
    assert not outbox.enqueue(alert_of("event:sina:1", 1, minutes=3))


def test_a_case_open_before_the_merge_keeps_its_number_and_takes_the_events_later_alerts(desk) -> None:
    outbox, workflow = desk
    assert outbox.enqueue(alert_of("event:weibo:2", 2, Level.SENSITIVE))
    assert workflow.sync() == 1
    (opened,) = workflow.cases()

    outbox.merge_events(["event:weibo:2"], "event:sina:1", NOW + timedelta(minutes=2))
    outbox.merge_events(["event:sina:1"], "event:sina:0", NOW + timedelta(minutes=3))  # and again
    assert outbox.enqueue(alert_of("event:sina:0", 4, Level.MAJOR_EMERGENCY, minutes=4))

    assert workflow.sync() == 0
    (case,) = workflow.cases()
    assert case.id == opened.id == "event:weibo:2"
    assert case.level is Level.MAJOR_EMERGENCY
    assert "event:sina:0@重大突发事态" in {key for _case, key in workflow.records.alert_keys(case.id)}


def test_a_merge_of_an_event_into_itself_or_of_nothing_changes_nothing(desk) -> None:
    outbox, workflow = desk
    assert outbox.enqueue(alert_of("event:weibo:2", 2))
    outbox.merge_events(["event:weibo:2"], "event:weibo:2", NOW)
    outbox.merge_events([], "event:weibo:2", NOW)
    assert outbox.merged_into("event:weibo:2") == []
    assert workflow.sync() == 1
    assert [c.id for c in workflow.cases()] == ["event:weibo:2"]
