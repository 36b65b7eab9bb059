"""An edited config file that is broken never stops the office: `serve` runs its jobs, the patrol's crawls
included, on the last good config, tells duty staff once with a 【配置错误】 alert naming file and line, and
takes the fixed file up at the next job. A crawl that died on config is never blamed on its site.

The patrols are real: crawl processes against the recorded 新浪 pages on the replay server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.models import Alert
from alerts.outbox import Outbox
from commands.config_watch import ConfigWatch
from commands.patrol import run_patrol
from commands.serve import Service, build_scheduler
from config.env import Env, get_env
from config.loader import DEFAULT_DIR, load_config
from pipeline.replay import ReplayServer
from pipeline.store import open_store
from tests.alerts.test_serve import NO_SOURCES, Process
from tests.alerts.test_workflow import Clock

ROOT = Path(__file__).resolve().parents[2]
SINA = ROOT / "tests" / "fixtures" / "sina"
CRAWLED_AT = "2026-11-23T09:00:00+08:00"  # when the 新浪 pages were recorded (round 1)

ONLY_SINA = """
sources:
  - name: sina_news
    spider: sina_news
    start_urls: ["https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"]
    max_pages: 2
    max_age_hours: 72
"""
# A rule an analyst added, so the test can tell which rules.yaml the crawls judged the posts with.
MARKER = """rules:
  - id: marker
    name: {name}
    category: 民生诉求
    {weight}: 1
    expr: '濮阳'
"""


def office_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (folder / "sources.yaml").write_text(ONLY_SINA, encoding="utf-8")
    set_marker(folder, "标记甲")
    return folder


def set_marker(folder: Path, name: str, *, weight_key: str = "weight") -> int:
    """Rewrite the marker rule at the head of rules.yaml; the line of its weight."""
    path = folder / "rules.yaml"
    shipped = (DEFAULT_DIR / "rules.yaml").read_text(encoding="utf-8")
    head = MARKER.format(name=name, weight=weight_key)
    path.write_text(shipped.replace("rules:\n", head, 1), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    return text[: text.index(f"{weight_key}: 1")].count("\n") + 1


def alerts(env: Env) -> list[Alert]:
    outbox = Outbox(env.outbox_path)
    try:
        return outbox.alerts()
    finally:
        outbox.close()


def marker_names(env: Env) -> set[str]:
    """The names of the marker rule on every stored post that mentions 濮阳."""
    store = open_store(env)
    try:
        docs = [hit.doc for hit in store.search(["濮阳"], limit=100)]
    finally:
        store.close()
    assert docs, "the patrol stored no post about 濮阳"
    return {rule["name"] for doc in docs for rule in doc["analysis"]["rules"] if rule["id"] == "marker"}


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The environment a serve process runs in, its crawls pointed at the replay server."""
    for name in [k for k in os.environ if k.startswith(("YUQING_", "ES_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("YUQING_NOW", CRAWLED_AT)
    get_env.cache_clear()
    with ReplayServer(SINA) as server:
        monkeypatch.setenv("YUQING_REPLAY_URL", server.base_url)
        yield get_env()
    get_env.cache_clear()


def test_a_file_broken_after_start_keeps_the_jobs_on_the_last_good_config_until_it_is_fixed(
    tmp_path: Path, replay: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    folder = office_folder(tmp_path)
    clock = Clock("2026-11-23T09:05")
    watch = ConfigWatch(replay, folder, now=clock)
    service = Service(watch.startup(), replay, now=clock, watch=watch)
    service.sweep()  # serve starts with a sweep: the config is checked and kept

    # An analyst renames the rule and mistypes a key; the next job finds the file broken.
    line = set_marker(folder, "标记乙", weight_key="wieght")
    run = service.tick()
    assert run is not None
    assert run.ok
    # The crawls ran on the last good rules.yaml, so the posts carry the rule as it was.
    assert marker_names(replay) == {"标记甲"}
    [config_alert] = [a for a in alerts(replay) if a.kind == "config"]
    text = config_alert.render()
    assert text.startswith(f"【配置错误】rules.yaml 第 {line} 行（rules[0].wieght）")
    assert f"文件：{folder / 'rules.yaml'}，第 {line} 行" in text
    assert "原因：不认识这个键（多半是键名拼错了，或放错了层级）" in text
    assert config_alert.recipients() == ["市网信办值班室"]
    assert "【配置错误】rules.yaml" in capsys.readouterr().out  # delivered at once, not at the next patrol
    assert not [a for a in alerts(replay) if a.kind == "health"]  # no site is blamed

    # Every job keeps checking, none alerts again for the same error.
    service.sweep()
    assert service.tick() is None
    clock.set("2026-11-23T09:20")
    service.write_daily_log()
    assert len([a for a in alerts(replay) if a.kind == "config"]) == 1

    # The fix is taken up by the next job, without a restart; the crawls read the new rule.
    set_marker(folder, "标记乙")
    shutil.rmtree(replay.state_dir)  # the crawls forget what they read, so they read the same pages again
    clock.set("2026-11-23T09:30")
    run = service.tick()
    assert run is not None
    assert run.ok
    assert "配置已恢复正常" in caplog.text
    assert [rule.name for rule in service.office.rules.rules if rule.id == "marker"] == ["标记乙"]
    assert marker_names(replay) == {"标记乙"}
    assert len([a for a in alerts(replay) if a.kind == "config"]) == 1
    assert not [a for a in alerts(replay) if a.kind == "health"]


def test_a_new_error_in_the_same_spell_is_told_and_a_fixed_schedule_is_rescheduled(
    tmp_path: Path, replay: Env
) -> None:
    folder = office_folder(tmp_path)
    clock = Clock("2026-11-23T09:05")
    watch = ConfigWatch(replay, folder, now=clock)
    service = Service(watch.startup(), replay, now=clock, watch=watch, patrol=lambda: None)
    scheduler = build_scheduler(service)
    service.sweep()

    schedule = folder / "schedule.yaml"
    good = schedule.read_text(encoding="utf-8")
    assert "sweep_minutes: 1\n" in good
    schedule.write_text(good.replace("sweep_minutes: 1\n", "sweep_minutes: often\n"), encoding="utf-8")
    service.sweep()
    set_marker(folder, "标记乙", weight_key="wieght")  # a second mistake before the first is fixed
    service.sweep()
    told = sorted(a.title for a in alerts(replay) if a.kind == "config")
    assert [title.split("（")[1] for title in told] == ["rules[0].wieght）", "sweep_minutes）"]

    set_marker(folder, "标记甲")
    schedule.write_text(good.replace("sweep_minutes: 1\n", "sweep_minutes: 5\n"), encoding="utf-8")
    service.sweep()
    assert service.office.schedule.sweep_minutes == 5
    assert str(scheduler.get_job("deadline-sweep").trigger) == "interval[0:05:00]"


def test_a_crawl_that_dies_on_a_file_edited_during_the_patrol_is_a_config_error_not_the_site(
    tmp_path: Path, replay: Env
) -> None:
    folder = office_folder(tmp_path)
    office = load_config(folder)  # the patrol began with a good config …
    line = set_marker(folder, "标记乙", weight_key="wieght")  # … and the file broke before the crawl
    report = run_patrol(office, replay, extra_env={"YUQING_CONFIG_DIR": str(folder)})
    [run] = report.runs
    assert run.exit_code != 0
    assert run.finish_reason.startswith(f"配置错误：{folder / 'rules.yaml'}:{line}: rules[0].wieght")
    assert [a.kind for a in alerts(replay)] == ["config"]
    assert not (replay.data_dir / "health" / "sina_news.json").exists()


# -- a real serve process -----------------------------------------------------------------------------------


def serve_env(tmp_path: Path, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    return env | {
        "YUQING_DATA_DIR": str(tmp_path / "var"),
        "YUQING_CONFIG_DIR": str(folder),
        "YUQING_NOW": "2026-11-23T09:05:00+08:00",
        "COLUMNS": "200",
    }


def test_serve_restarted_on_a_broken_file_runs_on_the_last_good_one_and_without_one_refuses(
    tmp_path: Path,
) -> None:
    folder = office_folder(tmp_path)
    (folder / "sources.yaml").write_text(NO_SOURCES, encoding="utf-8")
    env = serve_env(tmp_path, folder)
    first = Process(env)
    try:
        first.wait_for("yuqing serve：运行中")
    finally:
        assert first.stop() == 0, first.output()

    line = set_marker(folder, "标记乙", weight_key="wieght")
    for _restart in range(2):
        again = Process(env)
        try:
            again.wait_for("yuqing serve：运行中")
        finally:
            assert again.stop() == 0
        assert f"{folder / 'rules.yaml'}:{line}: rules[0].wieght" in again.output()
        assert "上一份检查通过的配置" in again.output()
    outbox = Outbox(tmp_path / "var" / "alerts.sqlite3")
    told = [a for a in outbox.alerts() if a.kind == "config"]
    outbox.close()
    assert len(told) == 1  # once for the error, not once per start

    # A broken folder with no good copy of its own (another office's copy is none) is refused, as by every
    # command: one line, exit 2, nothing written.
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    for data in (tmp_path / "var", tmp_path / "fresh"):
        refused = subprocess.run(
            [sys.executable, "-m", "commands.cli", "serve"],
            cwd=ROOT,
            env={**env, "YUQING_CONFIG_DIR": str(other), "YUQING_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 2
        [message] = refused.stderr.strip().splitlines()
        assert (
            f"{other / 'rules.yaml'}:{line}: rules[0].wieght: 不认识这个键（多半是键名拼错了，或放错了层级）"
            in message
        )
    assert not (tmp_path / "fresh").exists()
