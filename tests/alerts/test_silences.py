"""Silences set with `yuqing silence add`: matching alerts up to the configured level are kept and held
back, open no case and count against no unit, and go out when the silence ends or is lifted; a
重大突发事态 is never held back. Real outbox files, the real dispatcher posting to a bot receiver on
127.0.0.1, the real CLI in its own process, and one real patrol over recorded pages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.cases import DeadlineKind, short_id
from alerts.dispatcher import dispatch, open_channels
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from commands.serve import Service
from config.env import get_env
from config.errors import ConfigError
from config.loader import DEFAULT_DIR, load_config, load_file
from config.models import AlertsFile, OfficeConfig
from pipeline.replay import ReplayServer
from tests.alerts.conftest import NOW, make_alert
from tests.alerts.receiver import BotReceiver
from tests.helpers import office_env
from tests.helpers import yuqing as run_yuqing

ROOT = Path(__file__).resolve().parents[2]
DUTY = "市网信办值班室"
FAN = ("范县交通运输局",)


def yuqing(
    outbox: Path, *args: str, now: datetime = NOW, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = office_env(
        outbox.parent / "var", YUQING_OUTBOX=str(outbox), YUQING_NOW=now.isoformat(), COLUMNS="250"
    )
    if config is not None:
        env["YUQING_CONFIG_DIR"] = str(config)
    return run_yuqing(*args, env=env, timeout=120)


def silence(
    outbox: Path, match: str, until: str = "4h", config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    args = ("--match", match, "--until", until, "--reason", "已处置，跟踪中", "--by", "张三")
    result = yuqing(outbox, "silence", "add", *args, config=config)
    assert result.returncode == 0, result.stderr
    return result


def hours(n: float) -> datetime:
    return NOW + timedelta(hours=n)


@pytest.fixture
def office() -> OfficeConfig:
    return load_config()


@pytest.fixture
def alerts_config(receiver: BotReceiver) -> tuple[AlertsFile, dict[str, str]]:
    spec = {
        "channels": [{"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}}],
        "recipients": {DUTY: ["duty-screen"]},
    }
    return AlertsFile.model_validate(spec), {"YUQING_SCREEN_URL": receiver.webhook_url}


def send(outbox: Outbox, config: tuple[AlertsFile, dict[str, str]], at: datetime):
    alerts, environ = config
    channels, _ = open_channels(alerts, environ=environ)
    return dispatch(outbox, alerts, channels, lambda: at, wait=0)


def subjects(receiver: BotReceiver) -> list[str]:
    return [r.body["subject"] for r in receiver.of("webhook")]


# -- what a silence holds back, and what it never does ---------------------------------------------------


def test_an_emergency_under_a_matching_silence_goes_out_and_its_record_names_the_silence(
    tmp_path: Path, receiver: BotReceiver, alerts_config
) -> None:
    """The case that was seen: `silence add --match 范县 --until 4h`, then a 3-dead crash in 范县."""
    path = tmp_path / "alerts.sqlite3"
    silence(path, "范县")
    outbox = Outbox(path)
    crash = make_alert(1, Level.MAJOR_EMERGENCY, county="范县", first=FAN, inform=(DUTY,))
    water = make_alert(2, Level.HOT_TOPIC, county="范县", first=FAN, inform=(DUTY,))
    outbox.enqueue(crash)
    outbox.enqueue(water)
    report = send(outbox, alerts_config, hours(0.5))

    assert subjects(receiver) == ["【重大突发事态】范县一化工厂被指偷排废水（1）"]
    [told] = receiver.of("webhook")
    assert "依据：静默 #1 不适用于重大突发事态，照常发送（范县）" in told.body["text"]
    records = {r.alert.key: (r.silence_id, r.state, r.note) for r in outbox.silence_records()}
    assert records[crash.key] == (1, "overridden", "静默 #1 不适用于重大突发事态，照常发送（范县）")
    assert records[water.key][:2] == (1, "held")
    assert (report.sent, report.silenced) == (1, 1)
    assert report.silence_notes == [
        "照常发送【重大突发事态】范县一化工厂被指偷排废水（1）：静默 #1 不适用于重大突发事态，照常发送（范县）",
        "静默 #1（范县，至 2026-11-23 13:00）暂缓：【社会热点问题】范县一化工厂被指偷排废水（2）",
    ]
    outbox.close()


@pytest.mark.parametrize(
    ("max_level", "sent", "held"),
    [
        (None, ["复杂敏感事件"], ["社会热点问题"]),  # the default: 社会热点问题 and below
        ("复杂敏感事件", [], ["社会热点问题", "复杂敏感事件"]),
        ("一般性事项", ["社会热点问题", "复杂敏感事件"], []),
    ],
)
def test_the_highest_level_a_silence_may_hold_is_the_offices_setting(
    tmp_path: Path, receiver: BotReceiver, max_level: str | None, sent: list[str], held: list[str]
) -> None:
    spec = {
        "channels": [{"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}}],
        "recipients": {DUTY: ["duty-screen"]},
        **({"silences": {"max_level": max_level}} if max_level else {}),
    }
    config = (AlertsFile.model_validate(spec), {"YUQING_SCREEN_URL": receiver.webhook_url})
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.add_silence("濮阳县", hours(4), "已处置", "张三", NOW)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(2, Level.SENSITIVE, first=(DUTY,), inform=()))
    send(outbox, config, hours(1))
    assert [r.body["level"] for r in receiver.of("webhook")] == sent
    assert [a.level.value for a, _sid in outbox.silenced()] == held
    outbox.close()


def test_alerts_yaml_may_not_let_a_silence_hold_an_emergency_or_last_for_ever(tmp_path: Path) -> None:
    shipped = load_file(DEFAULT_DIR / "alerts.yaml", AlertsFile).silences
    assert (shipped.max_level, shipped.max_days) == (Level.HOT_TOPIC, 7)
    path = tmp_path / "alerts.yaml"
    path.write_text("silences:\n  max_level: 重大突发事态\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_file(path, AlertsFile)
    assert error.value.reason == "静默从不暂缓重大突发事态，最高只能写复杂敏感事件"
    assert (error.value.file, error.value.key) == (f"{path}:2", "silences.max_level")
    path.write_text("silences:\n  max_days: 99999\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="静默最长天数须在 1 到 30 之间，不能是 99999"):
        load_file(path, AlertsFile)


# -- how long, and about what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (
            "99999d",
            "--until「99999d」超过静默最长期限 7 天（alerts.yaml 的 silences.max_days），最晚只能到 2026-11-30 09:00",
        ),
        ("99999999999999d", "--until「99999999999999d」超过静默最长期限 7 天"),
        ("8d", "--until「8d」超过静默最长期限 7 天"),
        ("2300-01-01 00:00", "--until「2300-01-01 00:00」超过静默最长期限 7 天"),
        ("2026-11-23 08:00", "--until「2026-11-23 08:00」不在将来（现在是 2026-11-23 09:00）"),
        ("0h", "--until「0h」不在将来"),
        (
            "tomorrow",
            "--until「tomorrow」看不懂：请写结束时刻，如 2026-11-24 18:00（北京时间），或时长，如 4h、30m、2d",
        ),
    ],
)
def test_a_silence_too_long_in_the_past_or_unreadable_is_refused_and_nothing_is_stored(
    tmp_path: Path, until: str, message: str
) -> None:
    path = tmp_path / "alerts.sqlite3"
    result = yuqing(path, "silence", "add", "--match", "民生诉求", "--until", until, "--reason", "测试")
    assert result.returncode == 2
    assert message in result.stderr
    assert not path.exists()  # refused before the alerts database is made


def test_the_longest_silence_is_the_offices_setting(tmp_path: Path) -> None:
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (office / "alerts.yaml").write_text("silences:\n  max_days: 10\n", encoding="utf-8")
    path = tmp_path / "alerts.sqlite3"
    added = silence(path, "民生诉求", "2026-12-03 09:00", config=office)
    assert added.stdout.startswith("静默 #1：民生诉求，至 2026-12-03 09:00，张三：已处置，跟踪中\n")
    refused = yuqing(
        path, "silence", "add", "--match", "民生诉求", "--until", "10.5d", "--reason", "测试", config=office
    )
    assert refused.returncode == 2
    assert "超过静默最长期限 10 天" in refused.stderr


def test_match_must_name_a_known_place_rule_category_or_alerted_event(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    refused = yuqing(path, "silence", "add", "--match", "范具", "--until", "4h", "--reason", "测试")
    assert refused.returncode == 2
    error = refused.stderr.replace("\n", "")
    assert (
        "--match「范具」不是已知的地名、规则类别或事件。可以写：县（区）华龙区、濮阳县、清丰县、南乐县、范县、台前县"
        in error
    )
    for accepted in (
        "范县：",
        "濮城镇",
        "柳屯镇",
        "规则类别 突发事件、自然灾害",
        "民生诉求",
        "已预警事件的编号",
    ):
        assert accepted in error
    ambiguous = yuqing(path, "silence", "add", "--match", "城关镇", "--until", "4h", "--reason", "测试")
    assert ambiguous.returncode == 2
    assert "都有的乡镇名：请连同县（区）写，如「濮阳县城关镇」" in ambiguous.stderr
    unknown_event = yuqing(
        path, "silence", "add", "--match", "event:sina:7", "--until", "4h", "--reason", "测试"
    )
    assert unknown_event.returncode == 2
    assert not path.exists()  # refused before the alerts database is made

    outbox = Outbox(path)
    outbox.enqueue(make_alert(7))
    outbox.close()
    for match, stored in (
        ("清丰", "清丰县"),  # a short name becomes the county's full name
        ("清丰县城关镇", "清丰县城关镇"),
        ("柳屯镇", "柳屯镇"),
        ("生态环境", "生态环境"),
        ("event:sina:7", "event:sina:7"),
        (short_id("event:sina:7").upper(), "event:sina:7"),  # the number `yuqing cases` shows
    ):
        added = silence(path, match)
        assert added.stdout.split("，")[0].endswith(f"：{stored}")
    assert [s.match for s in Outbox(path).silences()] == [
        "清丰县",
        "清丰县城关镇",
        "柳屯镇",
        "生态环境",
        "event:sina:7",
        "event:sina:7",
    ]


def test_a_township_silence_holds_alerts_naming_that_township_only(
    tmp_path: Path, receiver: BotReceiver, alerts_config
) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.add_silence("柳屯镇", hours(4), "已处置", "张三", NOW)
    outbox.add_silence("清丰县城关镇", hours(4), "已处置", "张三", NOW)
    alerts = [
        replace(make_alert(1, Level.HOT_TOPIC, first=(DUTY,)), townships=["柳屯镇"]),
        replace(make_alert(2, Level.HOT_TOPIC, first=(DUTY,)), townships=["文留镇"]),
        replace(make_alert(3, Level.HOT_TOPIC, county="清丰县", first=(DUTY,)), townships=["城关镇"]),
        replace(make_alert(4, Level.HOT_TOPIC, county="南乐县", first=(DUTY,)), townships=["城关镇"]),
    ]
    for alert in alerts:
        outbox.enqueue(alert)
    send(outbox, alerts_config, hours(1))
    assert [(a.event_id, sid) for a, sid in outbox.silenced()] == [("event:sina:1", 1), ("event:sina:3", 2)]
    assert subjects(receiver) == [
        "【社会热点问题】濮阳县一化工厂被指偷排废水（2）",
        "【社会热点问题】南乐县一化工厂被指偷排废水（4）",
    ]
    outbox.close()


def test_rule_categories_and_events_can_be_silenced(
    tmp_path: Path, receiver: BotReceiver, alerts_config
) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.add_silence("民生诉求", NOW + timedelta(days=1), "专项整治期间汇总处理", "李四", NOW)
    outbox.add_silence("event:sina:2", NOW + timedelta(days=1), "已回应", "李四", NOW)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, categories=("民生诉求",), first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(2, Level.HOT_TOPIC, categories=("生态环境",), first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(3, Level.HOT_TOPIC, categories=("生态环境",), first=(DUTY,), inform=()))
    report = send(outbox, alerts_config, NOW)
    assert (report.sent, report.silenced) == (1, 2)
    assert [(a.event_id, sid) for a, sid in outbox.silenced()] == [("event:sina:1", 1), ("event:sina:2", 2)]
    outbox.close()


# -- no case, no clock, no lapse, nothing in the 通报 ------------------------------------------------------


def test_a_held_alert_opens_no_case_sets_no_deadline_and_counts_against_no_unit(
    tmp_path: Path, receiver: BotReceiver, alerts_config, office: OfficeConfig
) -> None:
    path = tmp_path / "alerts.sqlite3"
    silence(path, "范县")
    clock = [hours(0.2)]
    outbox = Outbox(path)
    workflow = Workflow(outbox, office, lambda: clock[0])
    held = make_alert(1, Level.HOT_TOPIC, at=hours(0.2), county="范县", first=FAN, inform=(DUTY,))
    outbox.enqueue(held)
    workflow.sweep()  # the sweep may come before the sender has seen the alert
    send(outbox, alerts_config, hours(0.3))
    for later in (1, 2, 3.5):  # had it been told at 09:12, its claim deadline would be long past
        clock[0] = hours(later)
        report = workflow.sweep()
        assert (report.opened, report.escalated, report.overdue, report.notices) == (0, 0, 0, [])
    assert workflow.cases() == []
    assert workflow.deadlines() == []
    assert workflow.lapses() == []
    assert subjects(receiver) == []
    workflow.close()
    outbox.close()

    bulletin = yuqing(path, "report", "--quarter", "2026Q4", now=hours(3.5))
    assert bulletin.returncode == 0, bulletin.stderr
    assert "范县" not in bulletin.stdout
    assert "本期无逾期。" in bulletin.stdout
    day = yuqing(path, "log", "--date", "2026-11-23", now=hours(3.5))
    assert "共 0 条" in day.stdout
    cases = yuqing(path, "cases", now=hours(3.5))
    assert cases.returncode == 0, cases.stderr
    assert "舆情案件（0 件" in cases.stdout
    assert "静默暂缓的预警（1 条：未发送，不立案、不计时、不考核；静默结束后补发）" in cases.stdout
    [row] = [line for line in cases.stdout.splitlines() if "event:sina:1" in line]
    for cell in (
        "社会热点问题",
        "范县",
        "2026-11-23 09:12",
        "静默 #1（范县，至 2026-11-23 13:00）",
        "张三：已处置，跟踪中",
    ):
        assert cell in row


def test_when_the_silence_ends_the_held_alert_goes_out_and_its_clocks_start_then(
    tmp_path: Path, receiver: BotReceiver, alerts_config, office: OfficeConfig
) -> None:
    path = tmp_path / "alerts.sqlite3"
    silence(path, "范县")  # until 13:00
    outbox = Outbox(path)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, at=hours(0.2), county="范县", first=FAN, inform=(DUTY,)))
    assert send(outbox, alerts_config, hours(3.9)).sent == 0  # 12:54: still held

    report = send(outbox, alerts_config, hours(4.5))  # 13:30
    assert (report.released, report.sent) == (1, 1)
    assert report.silence_notes == ["静默 #1 结束，补发【社会热点问题】范县一化工厂被指偷排废水（1）"]
    [told] = receiver.of("webhook")
    text = told.body["text"]
    assert (
        "依据：静默 #1 期间暂缓（11-23 09:12 发现），静默已于 11-23 13:00 到期，11-23 13:30 补发；认领、回应时限自补发时起算"
        in text
    )
    assert "回应时限：2026-11-25 13:30前" in text
    [record] = outbox.silence_records()
    assert (record.state, record.at, record.raised_at) == ("released", hours(4.5), hours(0.2))

    workflow = Workflow(outbox, office, lambda: hours(4.5))
    workflow.sweep()
    [case] = workflow.cases()
    assert case.opened_at == hours(4.5)
    dues = {d.kind: d.due_at for d in workflow.deadlines(case.id)}
    assert dues[DeadlineKind.RESPONSE] == hours(4.5 + 48)
    assert dues[DeadlineKind.CLAIM] == hours(5.5)  # the next hourly claim patrol after 13:30
    assert send(outbox, alerts_config, hours(5)).sent == 0  # told once
    workflow.close()
    outbox.close()


def test_a_silence_ending_between_patrols_is_released_by_the_minute_sweep_not_the_next_patrol(
    tmp_path: Path, receiver: BotReceiver, alerts_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No patrol runs at night; the held alert goes out at the sweep after its silence ends, not at dawn."""
    path = tmp_path / "alerts.sqlite3"
    silence(path, "范县")  # until 13:00
    outbox = Outbox(path)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, at=hours(0.2), county="范县", first=FAN, inform=(DUTY,)))
    assert send(outbox, alerts_config, hours(1)).sent == 0
    outbox.close()
    alerts, environ = alerts_config
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("YUQING_OUTBOX", str(path))
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "var"))
    get_env.cache_clear()
    at = [hours(3.9)]
    service = Service(load_config().model_copy(update={"alerts": alerts}), get_env(), now=lambda: at[0])
    service.sweep()  # 12:54: the silence still holds
    assert receiver.of("webhook") == []
    at[0] = hours(4.02)  # 13:01, no patrol in between
    service.sweep()
    [told] = receiver.of("webhook")
    assert "静默已于 11-23 13:00 到期，11-23 13:01 补发" in told.body["text"]
    [record] = Outbox(path).silence_records()
    assert record.state == "released"
    get_env.cache_clear()


def test_a_held_alert_is_not_resent_when_its_event_was_told_since_at_a_higher_level(
    tmp_path: Path, receiver: BotReceiver, alerts_config
) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.add_silence("范县", hours(4), "已处置", "张三", NOW)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, at=hours(0.2), county="范县", first=(DUTY,)))
    send(outbox, alerts_config, hours(0.3))
    outbox.enqueue(make_alert(1, Level.MAJOR_EMERGENCY, at=hours(1), county="范县", first=(DUTY,)))
    send(outbox, alerts_config, hours(1.1))
    send(outbox, alerts_config, hours(5))
    assert subjects(receiver) == ["【重大突发事态】范县一化工厂被指偷排废水（1）"]
    states = {r.alert.key: (r.state, r.note) for r in outbox.silence_records()}
    assert states["event:sina:1@社会热点问题"] == (
        "superseded",
        "静默 #1 结束时，该事件此后已按重大突发事态预警，此条不再补发",
    )
    assert states["event:sina:1@重大突发事态"][0] == "overridden"
    outbox.close()


def test_a_case_an_earlier_version_opened_for_a_held_alert_is_not_held_against_anyone(
    tmp_path: Path, receiver: BotReceiver, alerts_config, office: OfficeConfig
) -> None:
    from alerts.records import assess, quarter_bounds

    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.add_silence("范县", hours(4), "已处置", "张三", NOW)
    held = make_alert(1, Level.HOT_TOPIC, county="范县", first=FAN)
    outbox.enqueue(held)
    send(outbox, alerts_config, hours(0.1))
    workflow = Workflow(outbox, office, lambda: hours(3))
    workflow._take(held)  # what the version before opened for every alert, held or not
    assert workflow.sweep().escalated == 0
    assert workflow.overdue() == {}
    assert assess(workflow, *quarter_bounds("2026Q4")).units == []
    workflow.close()
    outbox.close()


# -- lifting a silence -------------------------------------------------------------------------------------


def test_silence_lift_ends_it_on_record_and_sends_what_it_held_at_once(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    silence(path, "濮阳县", "1d")
    outbox = Outbox(path)
    outbox.enqueue(make_alert(1, Level.HOT_TOPIC, at=hours(0.2)))
    outbox.close()
    assert "静默暂缓 1 条" in yuqing(path, "deliver", now=hours(0.3)).stdout  # the shipped console channel

    lifted = yuqing(
        path, "silence", "lift", "1", "--reason", "已核实，恢复预警", "--by", "李四", now=hours(1)
    )
    assert lifted.returncode == 0, lifted.stderr
    lines = lifted.stdout.splitlines()
    assert lines[0] == "已解除静默 #1（濮阳县）：李四，2026-11-23 10:00，原因：已核实，恢复预警"
    assert lines[1] == "补发它暂缓的 1 条预警："
    assert "【社会热点问题】濮阳县一化工厂被指偷排废水（1）" in lifted.stdout
    assert (
        "依据：静默 #1 期间暂缓（11-23 09:12 发现），静默已于 11-23 10:00 由李四解除，11-23 10:00 补发"
        in lifted.stdout
    )
    assert "静默结束补发 1 条" in lifted.stdout

    listed = yuqing(path, "silence", "list", "--all", now=hours(2))
    [row] = [line for line in listed.stdout.splitlines() if "濮阳县" in line]
    for cell in ("2026-11-24 09:00", "张三", "已解除（李四，2026-11-23 10:00：已核实，恢复预警）"):
        assert cell in row
    assert "濮阳县" not in yuqing(path, "silence", "list", now=hours(2)).stdout

    again = yuqing(path, "silence", "lift", "#1", now=hours(2))
    assert again.returncode == 2
    assert "静默 #1（濮阳县）已解除（2026-11-23 10:00），无需解除" in again.stderr
    missing = yuqing(path, "silence", "lift", "9", now=hours(2))
    assert missing.returncode == 2
    assert "没有静默 #9（全部静默见 yuqing silence list --all）" in missing.stderr


# -- what people read ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recordings() -> list[Path]:
    return sorted(index.parent for index in (ROOT / "tests" / "fixtures").glob("*/index.json"))


def test_a_patrol_under_silences_delivers_the_emergency_and_its_summary_says_what_was_held(
    tmp_path: Path, recordings: list[Path]
) -> None:
    path = tmp_path / "alerts.sqlite3"
    silence(path, "元村镇", "1d")  # the 南乐县 house demolition (社会热点问题) names 元村镇
    silence(path, "范县")  # the 3-dead crash in 范县 (重大突发事态)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env.update(
        YUQING_OUTBOX=str(path),
        YUQING_DATA_DIR=str(tmp_path / "var"),
        YUQING_NOW=NOW.isoformat(),
        COLUMNS="250",
    )
    with ReplayServer(*recordings) as server:
        env["YUQING_REPLAY_URL"] = server.base_url
        patrol = subprocess.run(
            [sys.executable, "-m", "commands.cli", "patrol", "--source", "sina_news"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    out = patrol.stdout
    assert patrol.returncode == 0, out + patrol.stderr
    crash = next(block for block in out.split("── 致 ") if "相撞" in block and "【重大突发事态】" in block)
    assert "依据：静默 #2 不适用于重大突发事态，照常发送（范县）" in crash
    assert "强拆" not in out.split("巡查完成")[0]  # held: not told
    summary = out.split("巡查完成")[1].splitlines()
    assert (
        "静默 #1（元村镇，至 2026-11-24 09:00）暂缓：【社会热点问题】南乐县一村民称自家房屋在协商期间被强拆 镇政府:系违建依法拆除"
        in summary
    )
    assert (
        "照常发送【重大突发事态】河南范县一货车与面包车相撞 致3死2伤：静默 #2 不适用于重大突发事态，照常发送（范县）"
        in summary
    )

    cases = yuqing(path, "cases")
    assert cases.returncode == 0, cases.stderr
    table, held = cases.stdout.split("静默暂缓的预警")
    assert "重大突发事态" in table
    assert "相撞" in table
    assert "强拆" not in table
    assert "强拆" in held
    assert "静默 #1（元村镇，至 2026-11-24 09:00）" in held
