"""Silences set with `yuqing silence add`: matching alerts are kept and marked silenced, never sent,
until the silence expires; who set it, when and why stay on record."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.dispatcher import dispatch, open_channels
from alerts.outbox import Outbox
from config.models import AlertsFile
from tests.alerts.conftest import NOW, make_alert
from tests.alerts.receiver import BotReceiver

ROOT = Path(__file__).resolve().parents[2]
DUTY = "市网信办值班室"


def yuqing(outbox: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "YUQING_OUTBOX": str(outbox), "YUQING_NOW": NOW.isoformat(), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def config(receiver: BotReceiver) -> tuple[AlertsFile, dict[str, str]]:
    spec = {
        "channels": [{"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}}],
        "recipients": {DUTY: ["duty-screen"]},
    }
    return AlertsFile.model_validate(spec), {"YUQING_SCREEN_URL": receiver.webhook_url}


def test_a_silenced_county_is_recorded_not_sent_until_the_silence_ends(
    tmp_path: Path, receiver: BotReceiver, config: tuple[AlertsFile, dict[str, str]]
) -> None:
    path = tmp_path / "alerts.sqlite3"
    added = yuqing(
        path,
        "silence",
        "add",
        "--match",
        "濮阳县",
        "--until",
        "4h",
        "--reason",
        "已处置，跟踪中",
        "--by",
        "张三",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "静默 #1：濮阳县，至 2026-11-23 13:00，张三：已处置，跟踪中"

    alerts, environ = config
    channels, _ = open_channels(alerts, environ=environ)
    outbox = Outbox(path)
    outbox.enqueue(make_alert(1, county="濮阳县", first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(2, county="清丰县", first=(DUTY,), inform=()))
    report = dispatch(outbox, alerts, channels, lambda: NOW + timedelta(hours=1), wait=0)
    assert (report.sent, report.silenced) == (1, 1)
    assert [r.body["subject"] for r in receiver.of("webhook")] == [
        "【复杂敏感事件】清丰县一化工厂被指偷排废水（2）"
    ]
    [(held, silence_id)] = outbox.silenced()
    assert (held.key, silence_id) == ("event:sina:1@复杂敏感事件", 1)
    assert [d.status for d in outbox.deliveries(held.key)] == ["silenced"]
    # A later run does not send it either.
    assert dispatch(outbox, alerts, channels, lambda: NOW + timedelta(hours=2), wait=0).sent == 0

    # After 13:00 the silence holds nothing back.
    outbox.enqueue(make_alert(3, county="濮阳县", first=(DUTY,), inform=()))
    assert dispatch(outbox, alerts, channels, lambda: NOW + timedelta(hours=5), wait=0).sent == 1
    outbox.close()

    listed = yuqing(path, "silence", "list")
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if "濮阳县" in line]
    for cell in ("1", "2026-11-23 13:00", "已处置，跟踪中", "张三", "2026-11-23 09:00", "生效"):
        assert cell in row


def test_rule_categories_and_events_can_be_silenced(
    tmp_path: Path, receiver: BotReceiver, config: tuple[AlertsFile, dict[str, str]]
) -> None:
    path = tmp_path / "alerts.sqlite3"
    outbox = Outbox(path)
    outbox.add_silence("民生诉求", NOW + timedelta(days=1), "专项整治期间汇总处理", "李四", NOW)
    outbox.add_silence("event:sina:2", NOW + timedelta(days=1), "已回应", "李四", NOW)
    outbox.enqueue(make_alert(1, categories=("民生诉求",), first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(2, categories=("生态环境",), first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(3, categories=("生态环境",), first=(DUTY,), inform=()))
    alerts, environ = config
    channels, _ = open_channels(alerts, environ=environ)
    report = dispatch(outbox, alerts, channels, lambda: NOW, wait=0)
    assert (report.sent, report.silenced) == (1, 2)
    assert [(a.event_id, sid) for a, sid in outbox.silenced()] == [("event:sina:1", 1), ("event:sina:2", 2)]


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2026-11-23 08:00", "--until '2026-11-23 08:00' is not in the future (2026-11-23 09:00)"),
        ("tomorrow", "--until 'tomorrow': give a time like 2026-11-24 18:00 or a duration like 4h, 30m, 2d"),
    ],
)
def test_a_silence_that_cannot_be_set_says_why_and_stores_nothing(
    tmp_path: Path, until: str, message: str
) -> None:
    path = tmp_path / "alerts.sqlite3"
    result = yuqing(path, "silence", "add", "--match", "民生诉求", "--until", until, "--reason", "测试")
    assert result.returncode == 2
    assert message in result.stderr
    assert not path.exists() or Outbox(path).silences() == []
