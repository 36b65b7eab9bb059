"""`yuqing serve`: patrols when the calendar says one is due (once per slot, across restarts), the
follow-up of answered cases through the store, the daily 舆情日志, and two real processes of which only
one runs the jobs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from queue import Empty, Queue

import pytest
import yaml

from alerts.cases import DeadlineKind, State
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from commands.serve import Service, build_scheduler
from config.env import Env, get_env
from config.loader import DEFAULT_DIR, load_config
from pipeline.health import load_state, read_checkpoint_runs
from pipeline.items import post_from_dict
from pipeline.store import open_store
from tests.alerts.test_workflow import Clock, person, raise_alert
from tests.services import PostgresServer

ROOT = Path(__file__).resolve().parents[2]

NO_SOURCES = """
sources:
  - name: sina_news
    spider: sina_news
    enabled: false
    start_urls: ["https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("YUQING_OUTBOX", raising=False)
    monkeypatch.delenv("ES_URL", raising=False)
    get_env.cache_clear()
    yield get_env()
    get_env.cache_clear()


class Patrols:
    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> None:
        self.runs += 1


def test_a_patrol_runs_once_per_slot_and_a_restart_neither_repeats_nor_skips(env: Env) -> None:
    office = load_config()
    clock, patrols = Clock("2026-11-23T09:05"), Patrols()
    service = Service(office, env, now=clock, patrol=patrols)
    run = service.tick()
    assert run is not None
    assert (run.slot, run.checkpoint) == (datetime.fromisoformat("2026-11-23T08:30+08:00"), True)
    # The checkpoint's patrol is on record for the console's duty desk; the 09:30 claim patrol is not one.
    assert read_checkpoint_runs(env.serve_state_path) == {
        run.slot: (datetime.fromisoformat("2026-11-23T09:05+08:00"), True)
    }
    assert service.tick() is None
    clock.set("2026-11-23T09:29")
    assert service.tick() is None
    clock.set("2026-11-23T09:30")
    assert service.tick().slot.hour == 9
    assert patrols.runs == 2
    assert list(read_checkpoint_runs(env.serve_state_path)) == [run.slot]

    restarted = Service(office, env, now=clock, patrol=patrols)
    assert restarted.tick() is None  # the 09:30 patrol already ran before the restart
    clock.set("2026-11-23T12:10")  # down from 09:30 to 12:10: one catch-up patrol, not three
    assert restarted.tick().slot == datetime.fromisoformat("2026-11-23T11:30+08:00")
    assert restarted.tick() is None
    assert patrols.runs == 3


def test_holidays_and_make_up_saturdays_set_the_pace(env: Env) -> None:
    office = load_config()
    clock, patrols = Clock("2026-10-01T08:40"), Patrols()
    service = Service(office, env, now=clock, patrol=patrols)
    service.tick()
    clock.set("2026-10-01T09:30")  # 国庆: no 09:30 patrol, the next is 10:30
    assert service.tick() is None
    clock.set("2026-10-01T10:30")
    assert service.tick() is not None
    clock.set("2026-10-10T09:30")  # 调休 Saturday: hourly
    assert service.tick().slot == datetime.fromisoformat("2026-10-10T09:30+08:00")


def test_a_failed_patrol_is_logged_and_the_schedule_goes_on(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("crawl process could not start")

    clock = Clock("2026-11-23T09:35")
    service = Service(load_config(), env, now=clock, patrol=broken)
    run = service.tick()
    assert run is not None
    assert run.ok is False
    assert "2026-11-23 09:30 班次的巡查失败" in caplog.text
    assert "crawl process could not start" in caplog.text
    clock.set("2026-11-23T10:30")
    assert service.tick() is not None


def test_follow_up_reads_the_store_and_reopens_on_growth(env: Env) -> None:
    office = load_config()
    clock = Clock("2026-11-23T09:00")
    outbox = Outbox(env.outbox_path)
    workflow = Workflow(outbox, office, clock)
    raise_alert(outbox, clock())
    store = open_store(env)

    def crawled(comments: int) -> None:
        post = post_from_dict(
            {
                "id": "sina:1",
                "source": "sina",
                "url": "https://news.sina.com.cn/c/doc-1.shtml",
                "title": "清丰县一工地农民工讨薪",
                "text": "数十名农民工称被拖欠工资近半年。",
                "published_at": "2026-11-23T08:00:00+08:00",
                "crawled_at": clock().isoformat(),
                "counts": {"reposts": 100, "comments": comments, "likes": 100},
            }
        )
        store.write([post])
        store.refresh()

    crawled(300)
    service = Service(office, env, now=clock, patrol=Patrols())
    assert service.follow_up() == 0  # before the response: the baseline
    workflow.claim("sina:1", actor=person(workflow, "王芳", "清丰县政府办"))
    clock.set("2026-11-24T10:00")
    workflow.respond(
        "sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/1"
    )
    crawled(350)
    assert service.follow_up() == 0
    clock.set("2026-11-25T10:00")
    crawled(900)
    assert service.follow_up() == 1
    assert workflow.find("sina:1").state is State.REOPENED
    store.close()
    workflow.close()
    outbox.close()


def test_the_daily_log_is_written_to_the_data_folder(env: Env) -> None:
    clock = Clock("2026-11-23T23:50")
    outbox = Outbox(env.outbox_path)
    raise_alert(outbox, Clock("2026-11-23T15:00")())
    outbox.close()
    path = Service(load_config(), env, now=clock, patrol=Patrols()).write_daily_log()
    assert path == env.data_dir / "daily" / "2026-11-23.txt"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("2026年11月23日 政务舆情日志（共 1 条）")
    assert "15:00 清丰县一工地农民工讨薪（1）（清丰县）" in text


# -- two real processes ---------------------------------------------------------------------------------------


class Process:
    """A `yuqing serve` process whose output lines are read as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "commands.cli", "-v", "serve", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: Queue[str] = Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except Empty:
                raise AssertionError(f"{text!r} not seen; output so far: {''.join(self.seen)}") from None
            self.seen.append(line)
            if text in line:
                return line

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        assert code is not None, f"serve did not stop within 30 s of SIGTERM; its output: {self.output()}"
        return code

    def output(self) -> str:
        return "".join(self.seen)


def test_a_second_serve_does_not_run_the_jobs_and_a_standby_takes_over(tmp_path: Path) -> None:
    office = tmp_path / "office"
    office.mkdir()
    for name in DEFAULT_DIR.glob("*.yaml"):
        (office / name.name).write_bytes(name.read_bytes())
    (office / "sources.yaml").write_text(NO_SOURCES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env |= {
        "YUQING_DATA_DIR": str(tmp_path / "var"),
        "YUQING_CONFIG_DIR": str(office),
        "YUQING_NOW": "2026-11-23T09:05:00+08:00",
        "COLUMNS": "200",
    }
    first = Process(env)
    try:
        first.wait_for("yuqing serve：运行中")
        assert "巡查：2026-11-23 08:30 的班次（时间节点）" in first.output()

        second = subprocess.run(
            [sys.executable, "-m", "commands.cli", "-v", "serve"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 3
        assert f"已有一个 yuqing serve 在运行（进程号 {first.proc.pid}" in second.stderr
        assert "的班次" not in second.stderr

        standby = Process(env, "--wait")
        try:
            standby.wait_for(f"等待正在运行的实例停止（进程号 {first.proc.pid}")
            assert first.stop() == 0
            assert "yuqing serve：已停止" in first.output()
            standby.wait_for("yuqing serve：运行中")
            # The 08:30 slot ran under the first instance; the one taking over does not run it again.
            assert "的班次" not in standby.output()
        finally:
            assert standby.stop() == 0
    finally:
        if first.proc.poll() is None:
            first.stop()


def test_the_scheduler_runs_the_tick_the_sweep_the_evidence_and_the_daily_log_in_one_process(
    env: Env,
) -> None:
    service = Service(load_config(), env, now=Clock("2026-11-23T09:00"), patrol=Patrols())
    jobs = {job.id: job for job in build_scheduler(service).get_jobs()}
    assert set(jobs) == {"patrol-tick", "deadline-sweep", "evidence", "daily-log"}
    assert jobs["patrol-tick"].func == service.tick
    assert jobs["deadline-sweep"].trigger.interval == timedelta(minutes=1)
    assert jobs["evidence"].func == service.evidence
    assert jobs["evidence"].trigger.interval == timedelta(minutes=5)
    assert str(jobs["daily-log"].trigger) == "cron[hour='23', minute='50']"
    # At 23:50 in Beijing, whatever zone the machine is set to.
    assert {str(job.trigger.timezone) for job in jobs.values()} == {"Asia/Shanghai"}


def test_a_patrol_whose_crawl_process_crashes_is_reported_and_the_schedule_goes_on(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real patrol, its crawl process killed (`os._exit`) by 人民网's spider at its first page: the
    scheduler's process lives on, tells duty staff the source failed, and patrols at the next slot."""
    from pipeline.replay import ReplayServer
    from tests.pipeline.patrol_spiders import CRASH_EXIT_CODE

    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    data = yaml.safe_load((office / "sources.yaml").read_text(encoding="utf-8"))
    data["sources"] = [s for s in data["sources"] if s["name"] == "people_news"]
    (office / "sources.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(office))
    monkeypatch.setenv("YUQING_NOW", "2026-11-23T09:00:00+08:00")
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "tests.pipeline.patrol_spiders")
    clock = Clock("2026-11-23T09:05")
    with ReplayServer(ROOT / "tests" / "fixtures" / "people") as server:
        monkeypatch.setenv("YUQING_REPLAY_URL", server.base_url)
        get_env.cache_clear()
        service = Service(load_config(office), get_env(), now=clock)
        first = service.tick()
        clock.set("2026-11-23T09:35")
        second = service.tick()
    assert first is not None
    assert second is not None
    assert second.slot > first.slot
    state = load_state(get_env().health_dir, "people_news")
    assert (state.state, state.runs) == ("failed", 2)
    assert f"退出码 {CRASH_EXIT_CODE}" in state.detail
    outbox = Outbox(get_env().outbox_path, read_only=True)
    try:
        assert [a.event_id for a in outbox.alerts()] == ["health:people_news"]  # once a day per reason
    finally:
        outbox.close()


def test_machines_sharing_a_database_run_the_jobs_once_and_a_standby_leads_when_the_leader_is_gone(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    office = tmp_path / "office"
    office.mkdir()
    for name in DEFAULT_DIR.glob("*.yaml"):
        (office / name.name).write_bytes(name.read_bytes())
    (office / "sources.yaml").write_text(NO_SOURCES, encoding="utf-8")
    url = postgres.database(f"serve_{os.getpid()}")
    shared = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    shared |= {"YUQING_CONFIG_DIR": str(office), "YUQING_NOW": "2026-11-23T09:05:00+08:00", "COLUMNS": "200"}
    shared["YUQING_DB_URL"] = url

    def machine(name: str) -> dict[str, str]:  # each with a data folder of its own
        return {**shared, "YUQING_DATA_DIR": str(tmp_path / name)}

    leader = Process(machine("a"))
    try:
        leader.wait_for("yuqing serve：运行中")
        second = subprocess.run(
            [sys.executable, "-m", "commands.cli", "serve"],
            cwd=ROOT,
            env=machine("b"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 3
        assert (
            f"已有一个 yuqing serve 在运行（{socket.gethostname()} 上的进程号 {leader.proc.pid}，共用同一预警数据库"
            in (second.stderr)
        )
        standby = Process(machine("c"), "--wait")
        try:
            standby.wait_for(f"等待正在运行的实例停止（{socket.gethostname()} 上的进程号 {leader.proc.pid}")
            leader.proc.kill()  # no clean stop: the server notices the session is gone
            leader.proc.wait(10)
            standby.wait_for("yuqing serve：运行中", timeout=60)
            # Cut off from the server (its session ended there), a leader stops rather than run the jobs
            # beside whoever leads now.
            postgres.terminate(f"yuqing-serve {socket.gethostname()} {standby.proc.pid}")
            assert standby.proc.wait(timeout=60) == 4
            assert "与预警数据库的会话已断开" in standby.wait_for("会话已断开")
        finally:
            if standby.proc.poll() is None:
                standby.stop()
    finally:
        if leader.proc.poll() is None:
            leader.stop()
        postgres.drop(f"serve_{os.getpid()}")
