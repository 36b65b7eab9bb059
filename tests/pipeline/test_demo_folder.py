"""The demo never touches the office's data: it runs whole in its own folder (var/demo), the reading
commands show its invented posts, alerts and source health only with `--demo`, and two demos at once each
finish with their own alerts and leave one complete demo folder.

An office with data of its own (a real patrol of the recorded 人民网 pages, and an outage of 新浪 on record)
runs the demo of 新浪 in real processes, as a newcomer would."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from commands.demo import DEMO_NOW, DemoBuild, reading_demo
from config.env import PROJECT_ROOT, Env
from config.loader import load_config
from pipeline.health import Verdict, load_state, report_health
from pipeline.replay import ReplayServer
from tests.helpers import office_env, run_demo, yuqing

SINA = ("--source", "sina_news")
# Posts of the demo's 新浪 pages; 人民网's pages never say 偷排.
DEMO_WORD = "偷排"
DEMO_POSTS = 25
OUTAGE = "www.sina.com.cn: DNS lookup failed"


def snapshot(data_dir: Path) -> dict[str, str]:
    """Every file of the data folder but the demo's, with a digest of its bytes."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and path.relative_to(data_dir).parts[0] not in ("demo", "demos")
    }


@dataclass
class Office:
    data: Path
    env: dict[str, str]
    before: dict[str, str]
    after: dict[str, str]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    data = tmp_path_factory.mktemp("office") / "var"
    # An office may name its outbox outright; the demo keeps to its own all the same.
    env = office_env(data, YUQING_OUTBOX=str(data / "alerts.sqlite3"))
    with ReplayServer(PROJECT_ROOT / "tests" / "fixtures" / "people") as server:
        patrol = yuqing(
            "patrol",
            "--source",
            "people_news",
            env={**env, "YUQING_REPLAY_URL": server.base_url, "YUQING_NOW": DEMO_NOW},
        )
    assert patrol.returncode == 0, patrol.stdout + patrol.stderr
    # 新浪 has been unreachable since 08:00: on record, and told to duty staff, as a crawl reports it.
    report_health(
        Verdict("sina_news", "unreachable", OUTAGE, "unreachable", 0, {"unreachable": 1}),
        health_dir=data / "health",
        outbox_path=data / "alerts.sqlite3",
        duty=load_config().units.city_units.duty,
        at=datetime.fromisoformat("2026-11-23T08:00:00+08:00"),
    )
    before = snapshot(data)
    run_demo(env, *SINA)
    return Office(data, env, before, snapshot(data))


def run(office: Office, *args: str, code: int = 0) -> str:
    result = yuqing(*args, env=office.env)
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout


def search_ids(env: dict[str, str], word: str, *demo: str) -> list[str]:
    result = yuqing("search", word, "--json", "--limit", "100", *demo, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def source_line(doctor: str, source: str) -> str:
    return next(line for line in doctor.splitlines() if f"（{source}）：" in line)


def test_a_demo_leaves_the_office_data_as_it_was(office: Office) -> None:
    assert any(name.startswith("store/") for name in office.before)
    assert office.after == office.before
    assert (office.data / "demo" / "store" / "posts.sqlite3").is_file()
    assert (office.data / "demo" / "alerts.sqlite3").is_file()


def test_search_finds_the_demo_posts_only_with_demo(office: Office) -> None:
    assert search_ids(office.env, DEMO_WORD) == []
    demo = search_ids(office.env, DEMO_WORD, "--demo")
    assert demo
    assert all(i.startswith("sina:") for i in demo)
    # The office's own posts are where they were, and the demo's folder holds only the demo's.
    office_posts = search_ids(office.env, "濮阳")
    assert office_posts
    assert all(i.startswith("people:") for i in office_posts)
    assert all(i.startswith("sina:") for i in search_ids(office.env, "濮阳", "--demo"))


def test_doctor_keeps_the_office_outage_and_shows_the_demo_health_with_demo(office: Office) -> None:
    assert load_state(office.data / "health", "sina_news").state == "unreachable"
    doctor = run(office, "doctor", code=1)  # 故障: the office's outage
    assert source_line(doctor, "sina_news").startswith("故障")
    assert "网站无法访问" in source_line(doctor, "sina_news")
    assert "自 2026-11-23 08:00 起" in source_line(doctor, "sina_news")
    demo = run(office, "doctor", "--demo")
    assert source_line(demo, "sina_news").startswith("正常")
    assert f"共 {DEMO_POSTS} 条帖子" in demo
    assert "尚未巡查" in source_line(demo, "people_news")


def test_cases_report_and_log_read_the_demo_outbox_with_demo(office: Office) -> None:
    crash = "货车与面包车相撞"
    assert crash not in run(office, "cases", "--all")
    cases = run(office, "cases", "--all", "--demo")
    assert crash in cases
    assert "清丰县启动根治欠薪" not in cases  # the office's own case stays out of the demo's
    assert "舆情案件（7 件，2026-11-23 09:00）" in cases  # at the demo's moment, not today
    log = run(office, "log", "--demo")
    assert crash in log
    assert "2026年11月23日" in log
    assert crash not in run(office, "log", "--date", "2026-11-23")
    assert "范县县委宣传部" in run(office, "report", "--quarter", "2026Q4", "--demo")
    assert "范县县委宣传部" not in run(office, "report", "--quarter", "2026Q4")


def test_the_workflow_acts_on_the_demo_outbox_with_demo(office: Office) -> None:
    before = snapshot(office.data)
    sweep = yuqing("sweep", "--demo", env={**office.env, "YUQING_NOW": "2026-11-23T09:31:00+08:00"})
    assert sweep.returncode == 0, sweep.stderr
    assert "逾期升级 0 件" not in sweep.stdout
    assert snapshot(office.data) == before
    assert "逾期未认领" in run(office, "cases", "--demo")


def test_demo_on_a_command_before_any_demo_says_to_run_one(data_env: dict[str, str], tmp_path: Path) -> None:
    result = yuqing("cases", "--demo", env=data_env)
    assert result.returncode == 1
    assert "还没有演示数据" in result.stderr
    assert "./yuqing demo" in result.stderr
    assert not (tmp_path / "var").exists()


def alert_blocks(output: str) -> list[str]:
    """Each alert as printed to one recipient."""
    return [block.strip() for block in output.split("── 致 ")[1:]]


def headlines(output: str) -> list[str]:
    """Recipient and title of each alert printed (the figures may differ with the order pages arrive in)."""
    return sorted(
        block.splitlines()[0] + block.splitlines()[1].partition("】")[2] for block in alert_blocks(output)
    )


def test_two_demos_at_once_each_print_their_alerts_once_and_leave_one_whole_demo(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "commands.cli", "demo", *SINA]
    demos = [
        subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=data_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [demo.communicate(timeout=300) for demo in demos]
    for demo, (stdout, stderr) in zip(demos, outputs, strict=True):
        assert demo.returncode == 0, stdout + stderr
        assert f"巡查完成：{DEMO_POSTS} 条" in stdout
        blocks = alert_blocks(stdout)
        assert len(blocks) == 7, stdout
        assert not [b for b, n in Counter(blocks).items() if n > 1], "an alert was printed twice"
    assert headlines(outputs[0][0]) == headlines(outputs[1][0])
    # var/demo is one demo, whole: every post, alert and record of it, and no folder left behind.
    assert len(search_ids(data_env, DEMO_WORD, "--demo")) >= 1
    doctor = yuqing("doctor", "--demo", env=data_env).stdout
    assert f"共 {DEMO_POSTS} 条帖子" in doctor
    assert "舆情案件（7 件" in yuqing("cases", "--all", "--demo", env=data_env).stdout
    demo_dir = tmp_path / "var" / "demo"
    assert len(list((demo_dir / "runs").glob("sina_news-*.json"))) == 1
    assert [p.name for p in (tmp_path / "var" / "demos").iterdir() if p.is_dir()] == [demo_dir.resolve().name]


def test_a_demo_folder_in_use_is_never_removed_and_an_interrupted_demo_leaves_none(tmp_path: Path) -> None:
    office_data = Env(YUQING_DATA_DIR=tmp_path / "var")
    with DemoBuild(office_data) as first:
        (first.path / "alerts.sqlite3").write_bytes(b"first")
        first.publish(now=DEMO_NOW, sources=["sina_news"])
    with reading_demo(office_data) as reading:
        assert (reading.data_dir / "alerts.sqlite3").read_bytes() == b"first"
        with DemoBuild(office_data) as second:
            second.publish(now=DEMO_NOW, sources=["sina_news"])
        # The newer demo is what `--demo` shows from now on; the folder still being read stays whole.
        assert office_data.demo_dir.resolve() == second.path
        assert (reading.data_dir / "alerts.sqlite3").read_bytes() == b"first"
    with pytest.raises(KeyboardInterrupt), DemoBuild(office_data) as interrupted:
        raise KeyboardInterrupt
    assert not interrupted.path.exists()
    assert not first.path.exists()  # once nobody read it, the next demo cleared it away
    assert office_data.demo_dir.resolve() == second.path
    assert [p for p in office_data.demo_builds_dir.iterdir() if p.is_dir()] == [second.path]
