"""A patrol over sites that cannot be reached, as an office would meet it: `yuqing patrol` says, source by
source and in Chinese, what it is doing and what failed, and exits 3; `yuqing doctor` then gives one verdict
per source, the same in its lines and in `--json`, and warns that no unit is told but through the console.

Every shipped source is patrolled with its requests sent to a port on 127.0.0.1 where nothing listens
(`YUQING_REPLAY_URL`), so each spider meets a refused connection and no traffic leaves this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from alerts.outbox import Outbox
from commands.cli_alerts import unit_reach_lines
from config.env import PROJECT_ROOT
from config.loader import DEFAULT_DIR, load_config, load_file
from config.models import AlertsFile, TerritoryFile, UnitsFile, unit_names
from pipeline.health import REASONS, SPIDER_LABELS
from tests.services import free_port

PATROL_AT = "2026-11-23T09:00:00+08:00"


def yuqing(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("offline")
    port = free_port()  # bound once, then released: nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env.update(
        YUQING_DATA_DIR=str(root / "data"),
        YUQING_REPLAY_URL=f"http://127.0.0.1:{port}",
        YUQING_NOW=PATROL_AT,
        COLUMNS="250",
    )
    patrol = yuqing("patrol", env=env)
    doctor_env = {k: v for k, v in env.items() if k != "YUQING_REPLAY_URL"}
    return {
        "data": root / "data",
        "port": port,
        "patrol": patrol,
        "doctor": yuqing("doctor", env=doctor_env),
        "doctor_json": yuqing("doctor", "--json", env=doctor_env),
        "sources": [s for s in load_config().sources.sources if s.enabled],
    }


def _label(source: Any) -> str:
    return source.label or SPIDER_LABELS.get(source.spider) or source.name


def _shown(source: Any) -> str:
    return f"{_label(source)}（{source.name}）" if _label(source) != source.name else source.name


def test_a_patrol_over_unreachable_sites_shows_each_source_and_exits_3_naming_each_in_chinese(offline):
    patrol = offline["patrol"]
    assert patrol.returncode == 3, patrol.stdout[-3000:] + patrol.stderr[-3000:]
    out = patrol.stdout
    sources = offline["sources"]
    total = len(sources)
    for number, source in enumerate(sources, 1):
        assert f"[{number}/{total}] {_shown(source)}：开始巡查" in out
        assert f"[{number}/{total}] {_shown(source)}：网站无法访问，采集 0 条，用时 " in out
    # All sources at once: each one's start before its end, numbered by its place in sources.yaml; the
    # summary last.
    for number, source in enumerate(sources, 1):
        start = out.index(f"[{number}/{total}] {_shown(source)}：开始巡查")
        end = out.index(f"[{number}/{total}] {_shown(source)}：网站无法访问")
        assert start < end < out.index("巡查完成："), source.name
    assert f"故障：{total} 个来源本次巡查失败" in out
    failures = out[out.index("故障：") :]
    for source in sources:
        line = next(row for row in failures.splitlines() if row.strip().startswith(f"{_shown(source)}："))
        assert f"{REASONS['unreachable']}——" in line
        assert f"连接被拒绝 127.0.0.1:{offline['port']}" in line
    assert "所有来源都无法访问：多半是本机断网，或 DNS、代理设置有误" in out
    assert "fetch_error" not in out


def test_duty_staff_get_one_health_alert_naming_every_unreachable_source_not_one_per_site(offline):
    """Offline, every site fails at once: one message says so and lists them, instead of eleven."""
    outbox = Outbox(offline["data"] / "alerts.sqlite3", read_only=True)
    try:
        health = [alert for alert in outbox.alerts() if alert.kind == "health"]
    finally:
        outbox.close()
    sources = offline["sources"]
    [alert] = health
    assert alert.title == f"全部 {len(sources)} 个来源均无法访问，可能是本机网络中断"
    assert alert.inform == load_file(DEFAULT_DIR / "units.yaml", UnitsFile).city_units.duty
    listed = alert.reasons[1:-2]
    assert [line.split("，自 ")[0] for line in listed] == [_shown(s) for s in sources]
    for line, source in zip(listed, sources, strict=True):
        assert f"连接被拒绝 127.0.0.1:{offline['port']}" in line, source.name
    assert "先检查本机网络、DNS 和代理" in alert.reasons[-2]


def test_a_patrol_with_one_source_unreachable_tells_it_as_that_sources_own_alert(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env.update(
        YUQING_DATA_DIR=str(tmp_path / "data"),
        YUQING_REPLAY_URL=f"http://127.0.0.1:{free_port()}",
        YUQING_NOW=PATROL_AT,
    )
    patrol = yuqing("patrol", "--source", "sina_news", env=env)
    assert patrol.returncode == 3, patrol.stdout[-3000:] + patrol.stderr[-3000:]
    outbox = Outbox(tmp_path / "data" / "alerts.sqlite3", read_only=True)
    try:
        [alert] = [alert for alert in outbox.alerts() if alert.kind == "health"]
    finally:
        outbox.close()
    assert alert.title == f"新浪新闻（sina_news）：{REASONS['unreachable']}"
    assert "自 2026-11-23 09:00（北京时间）起连续 1 次巡查异常；本次采集 0 条" in alert.reasons


def test_doctor_json_gives_every_source_its_state_reason_and_since_when(offline):
    doctor = offline["doctor_json"]
    assert doctor.returncode == 1, doctor.stderr[-3000:]
    document = json.loads(doctor.stdout)
    assert document["ok"] is False
    assert document["checked_at"] == PATROL_AT
    names = [c["name"] for c in document["checks"]]
    assert {"配置", "存储", "浏览器", "单位通知"} <= set(names)
    assert all(c["status"] in ("ok", "warn", "fail") for c in document["checks"])
    by_name = {s["source"]: s for s in document["sources"]}
    assert list(by_name) == [s.name for s in offline["sources"]]
    for source in offline["sources"]:
        entry = by_name[source.name]
        assert entry["label"] == _label(source)
        assert entry["configured"] is True
        assert entry["status"] == "fail"
        assert entry["state"] == "unreachable"
        assert entry["reason"] == REASONS["unreachable"]
        assert entry["since"] == PATROL_AT  # Beijing time, ISO 8601
        assert entry["last_run"] == PATROL_AT
        assert entry["runs"] == 1
        assert f"连接被拒绝 127.0.0.1:{offline['port']}" in entry["detail"]
        assert entry["last_ok"] is None
        assert entry["advice"]


def test_doctor_gives_one_verdict_per_source_in_chinese_and_never_contradicts_itself(offline):
    doctor = offline["doctor"]
    assert doctor.returncode == 1
    lines = doctor.stdout.splitlines()
    assert not [line for line in lines if "last run" in line or line.startswith(("ok", "FAIL", "WARN"))]
    verdicts = json.loads(offline["doctor_json"].stdout)["sources"]
    for source, verdict in zip(offline["sources"], verdicts, strict=True):
        about = [line for line in lines if f"（{source.name}）" in line or f" {source.name}：" in line]
        assert len(about) == 1, about
        [line] = about
        assert line.startswith(
            f"故障 来源 {_shown(source)}：{REASONS['unreachable']}，自 2026-11-23 09:00 起连续 1 次"
        )
        assert verdict["detail"] in line
        assert "上次正常：从未" in line
    for label in ("正常 配置：", "正常 存储：", "正常 浏览器："):
        assert any(line.startswith(label) for line in lines), label


def test_doctor_warns_that_no_unit_is_told_but_through_the_console(offline):
    office = load_config()
    units = list(unit_names(office.units, office.territory))
    for unit in ("市委宣传部", "市网信办值班室", "范县县委宣传部", "范县政府办", "市生态环境局范县分局"):
        assert unit in units
    [line] = [line for line in offline["doctor"].stdout.splitlines() if line.startswith("注意 单位通知：")]
    assert f"没有一个单位配置了可用的推送渠道，全部 {len(units)} 个单位只有控制台能通知到" in line
    [check] = [c for c in json.loads(offline["doctor_json"].stdout)["checks"] if c["name"] == "单位通知"]
    assert (check["status"], check["units"]) == ("warn", units)


def test_a_unit_with_a_bot_of_its_own_is_no_longer_console_only_unless_the_bot_cannot_be_built():
    units = list(
        unit_names(
            load_file(DEFAULT_DIR / "units.yaml", UnitsFile),
            load_file(DEFAULT_DIR / "territory.yaml", TerritoryFile),
        )
    )
    config = AlertsFile.model_validate(
        {
            "channels": [
                {"name": "console", "type": "console"},
                {"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}},
            ],
            "recipients": {"市委宣传部": ["duty-screen"], "范县委宣传部": ["duty-screen"]},
        }
    )
    reached, stranger = unit_reach_lines(
        config, units, environ={"YUQING_SCREEN_URL": "http://127.0.0.1:9/hook"}
    )
    assert (reached["status"], reached["name"]) == ("warn", "单位通知")
    assert reached["units"] == [unit for unit in units if unit != "市委宣传部"]
    assert f"{len(units) - 1} 个单位只有控制台能通知到" in reached["detail"]
    named = reached["detail"].rsplit("：", 1)[1].split("、")
    assert "范县县委宣传部" in named
    assert "市委宣传部" not in named
    # A name that is no unit of units.yaml or territory.yaml is named: that unit would never be told.
    assert stranger["units"] == ["范县委宣传部"]
    # The bot's variable is not set here: its unit is reached by nothing but the console after all.
    down, _ = unit_reach_lines(config, units, environ={})
    assert down["units"] == units
    assert "市委宣传部（渠道 duty-screen 不可用）" in down["detail"]
