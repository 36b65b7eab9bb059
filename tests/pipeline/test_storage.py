"""Damaged, read-only and full storage, through the real `yuqing` command on real SQLite files: a damaged
database gets one line naming it and what to do, and is never replaced; the commands that only show work on
a read-only data folder and create nothing; `yuqing backup` makes copies that restore; a full disk stops
the patrol with what was kept and what was not."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.cases import short_id
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from commands.demo import DEMO_NOW
from config.loader import load_config
from pipeline.items import Analysis, Post, Source
from pipeline.replay import ReplayServer
from pipeline.store.sqlite import SqliteStore
from tests.alerts.conftest import make_alert
from tests.helpers import office_env

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.fromisoformat("2026-11-23T09:30:00+08:00")
CASES = ["event:sina:1", "event:sina:2", "event:sina:3"]
POST_URL = "https://bbs.example.cn/t/1"


def environment(data: Path, **extra: str) -> dict[str, str]:
    # Wide enough that no table or doctor line is wrapped; no browser to launch in doctor.
    chromium = str(data.parent / "no-browser")
    return office_env(
        data, **{"YUQING_NOW": NOW.isoformat(), "COLUMNS": "400", "YUQING_CHROMIUM": chromium, **extra}
    )


def cli(
    data: Path, *args: str, prefix: tuple[str, ...] = (), **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "commands.cli", *args],
        cwd=ROOT,
        env=environment(data, **extra),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def cli_all(
    data: Path, commands: list[tuple[str, ...]], **kw
) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(commands, pool.map(lambda c: cli(data, *c, **kw), commands), strict=True))


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with three alerts and their cases, a silence and one stored post."""
    data = tmp_path_factory.mktemp("filled") / "var"
    outbox = Outbox(data / "alerts.sqlite3")
    for n in (1, 2, 3):
        outbox.enqueue(make_alert(n, at=NOW - timedelta(minutes=30)))
    outbox.add_silence("濮阳县", NOW + timedelta(hours=4), "专项处置中", "值班员甲", NOW)
    workflow = Workflow(outbox, load_config(), lambda: NOW)
    workflow.sync()
    workflow.close()
    outbox.close()
    store = SqliteStore(data / "store" / "posts.sqlite3")
    store.write(
        [
            Post(
                id="local:1",
                source=Source.LOCAL,
                url=POST_URL,
                title="化工厂排污",
                text="化工厂夜里排污",
                published_at=NOW,
                crawled_at=NOW,
                analysis=Analysis(tokens=["化工厂", "排污"]),
            )
        ]
    )
    store.close()
    return data


@pytest.fixture
def data(filled: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "var"
    shutil.copytree(filled, copy)
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def assert_refused(result: subprocess.CompletedProcess[str], path: Path) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert f"数据库 {path} 已损坏" in output, output
    assert "从备份恢复" in output
    assert "yuqing backup" in output


# -- damaged ----------------------------------------------------------------------------------------------


def test_a_truncated_alerts_database_is_refused_by_every_command_and_left_as_it_is(data: Path) -> None:
    path = data / "alerts.sqlite3"
    truncate(path)
    before = digest(path)
    commands = [
        ("cases",),
        ("deliver",),
        ("sweep",),
        ("silence", "list"),
        ("log",),
        ("patrol", "-s", "sina_news"),
    ]
    results = cli_all(data, [*commands, ("doctor",)])
    for command in commands:
        assert_refused(results[command], path)
        assert "文件被截断" in results[command].stderr
    doctor = results[("doctor",)]
    assert doctor.returncode == 1
    assert "Traceback" not in doctor.stdout + doctor.stderr
    line = next(line for line in doctor.stdout.splitlines() if "数据库 alerts.sqlite3" in line)
    assert line.startswith("故障")
    assert "已损坏" in line
    assert "恢复" in line
    assert re.search(r"正常\s+数据库 posts.sqlite3", doctor.stdout)
    assert digest(path) == before  # never repaired, replaced or recreated
    assert not (data / "logs").exists()  # the patrol crawled nothing it could not alert on


@pytest.mark.parametrize("damage", [empty, garbage], ids=["zero-byte", "garbage"])
def test_an_emptied_or_overwritten_alerts_database_is_refused_not_recreated(data: Path, damage) -> None:
    path = data / "alerts.sqlite3"
    damage(path)
    before = digest(path)
    results = cli_all(data, [("cases",), ("doctor",)])
    assert_refused(results[("cases",)], path)
    assert re.search(r"故障\s+数据库 alerts.sqlite3：.*已损坏", results[("doctor",)].stdout)
    assert digest(path) == before  # an empty file stays empty: nothing was recreated in it


def test_a_damaged_post_store_is_refused_by_search_and_shown_by_doctor(data: Path) -> None:
    path = data / "store" / "posts.sqlite3"
    garbage(path)
    results = cli_all(data, [("search", "化工厂"), ("doctor",)])
    assert_refused(results[("search", "化工厂")], path)
    assert re.search(r"故障\s+数据库 posts.sqlite3：.*不是 SQLite 数据库", results[("doctor",)].stdout)


# -- backup and restore -----------------------------------------------------------------------------------


def test_backup_copies_each_database_under_a_beijing_time_name_and_restores(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "backups"
    shown = cli(data, "cases")
    assert shown.returncode == 0
    assert all(short_id(case) in shown.stdout for case in CASES)
    # 01:31:05 UTC is 09:31:05 in Beijing.
    result = cli(data, "backup", "--out", str(out), YUQING_NOW="2026-11-23T01:31:05+00:00")
    assert result.returncode == 0, result.stdout + result.stderr
    copies = sorted(p.name for p in out.iterdir())
    assert copies == ["alerts-20261123-093105.sqlite3", "posts-20261123-093105.sqlite3"]
    for original, copy in (("alerts.sqlite3", copies[0]), ("store/posts.sqlite3", copies[1])):
        source, backup = sqlite3.connect(data / original), sqlite3.connect(out / copy)
        assert backup.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert list(backup.iterdump()) == list(source.iterdump())  # the same schema and the same rows
        source.close()
        backup.close()

    # The way the README restores a damaged database.
    alerts = data / "alerts.sqlite3"
    truncate(alerts)
    assert cli(data, "cases").returncode != 0
    for leftover in data.glob("alerts.sqlite3-*"):
        leftover.unlink()
    shutil.copyfile(out / copies[0], alerts)
    restored = cli(data, "cases")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout == shown.stdout


def test_backup_refuses_to_copy_a_damaged_database(data: Path, tmp_path: Path) -> None:
    truncate(data / "alerts.sqlite3")
    result = cli(data, "backup", "--out", str(tmp_path / "backups"))
    assert result.returncode == 1
    assert f"{data / 'alerts.sqlite3'} 已损坏，未备份" in result.stdout
    assert [p.name[:6] for p in (tmp_path / "backups").iterdir()] == ["posts-"]


# -- read-only --------------------------------------------------------------------------------------------


def read_only(folder: Path) -> tuple[str, ...]:
    """A prefix that runs a command with `folder` mounted read-only in a mount namespace of its own (as
    root, permissions alone would not stop a write)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("the read-only tests need `unshare` (util-linux) to mount the data folder read-only")
    user = () if os.geteuid() == 0 else ("--map-root-user",)
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return (unshare, "--mount", *user, "sh", "-c", script, str(folder))


def test_the_commands_that_only_show_work_on_a_read_only_data_folder(data: Path) -> None:
    prefix = read_only(data)
    denied = subprocess.run(
        [*prefix, "touch", str(data / "written")], capture_output=True, text=True, check=False
    )
    assert denied.returncode != 0
    assert "Read-only file system" in denied.stderr, denied.stderr

    before = {p: digest(p) for p in data.rglob("*") if p.is_file()}
    commands = [
        ("cases",),
        ("log", "--date", "2026-11-23"),
        ("report", "--quarter", "2026Q4"),
        ("search", "化工厂"),
        ("silence", "list"),
        ("doctor",),
        ("sweep",),
    ]
    results = cli_all(data, commands, prefix=prefix)
    for command, result in results.items():
        assert "Traceback" not in result.stdout + result.stderr, (command, result.stderr)
    for command in commands[:5]:
        assert results[command].returncode == 0, (command, results[command].stderr)
    assert all(short_id(case) in results[("cases",)].stdout for case in CASES)
    assert "濮阳县一化工厂被指偷排废水（1）" in results[("log", "--date", "2026-11-23")].stdout
    assert "市生态环境局濮阳县分局" in results[("report", "--quarter", "2026Q4")].stdout
    assert POST_URL in results[("search", "化工厂")].stdout
    assert "专项处置中" in results[("silence", "list")].stdout
    doctor = results[("doctor",)].stdout
    for name in ("alerts.sqlite3", "posts.sqlite3"):
        assert re.search(rf"正常\s+数据库 {name}：.*完好", doctor), doctor
    assert re.search(r"正常\s+存储：内置 SQLite 存储", doctor), doctor
    # A command that must write says so in one line.
    assert results[("sweep",)].returncode == 1
    assert "只读" in results[("sweep",)].stderr
    assert {p: digest(p) for p in data.rglob("*") if p.is_file()} == before


def test_a_read_on_a_fresh_install_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "var"
    commands = [("search", "化工厂"), ("silence", "list"), ("cases",), ("doctor",)]
    results = cli_all(data, commands)
    for command, result in results.items():
        assert "Traceback" not in result.stderr, (command, result.stderr)
    assert results[("search", "化工厂")].returncode == 0
    assert results[("cases",)].returncode == 0
    assert not data.exists()


# -- a full disk ------------------------------------------------------------------------------------------


def test_a_full_disk_stops_the_patrol_and_keeps_what_was_written(tmp_path: Path) -> None:
    """A real full disk: the office's patrol, its sites answered from the recordings, runs on a 1.8 MB
    tmpfs. The three sources crawl at once; the first to fill the disk stops the patrol, the crawls still
    running are stopped, and what was stored stays whole."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("the full-disk test needs `unshare` (util-linux) to mount a small tmpfs")
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    disk.mkdir()
    kept.mkdir()
    user = () if os.geteuid() == 0 else ("--map-root-user",)
    # The disk's content is copied out before the namespace, and with it the tmpfs, goes away.
    # 1.8 MB fills while the crawls still write, after the first posts are stored: the three sources take
    # over 2.6 MB at their peak (the databases with their write-ahead logs), and at 1.2 MB the disk was
    # sometimes full before the first post was stored.
    script = 'd=$0 k=$1; shift; mount -t tmpfs -o size=1800k tmpfs "$d" || exit 99; "$@"; c=$?; cp -a "$d/." "$k"; exit $c'
    patrol = [
        sys.executable,
        "-m",
        "commands.cli",
        "patrol",
        "-s",
        "sina_news",
        "-s",
        "tieba",
        "-s",
        "weixin",
    ]
    recordings = [ROOT / "tests" / "fixtures" / name for name in ("sina", "tieba", "weixin")]
    with ReplayServer(*recordings) as server:
        result = subprocess.run(
            [unshare, "--mount", *user, "sh", "-c", script, str(disk), str(kept), *patrol],
            cwd=ROOT,
            env=environment(disk, YUQING_REPLAY_URL=server.base_url, YUQING_NOW=DEMO_NOW),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 1, result.stderr  # stopped by the full disk, as the README says
    assert "Traceback" not in result.stderr, result.stderr
    stop = next(line for line in result.stderr.splitlines() if "磁盘已满" in line)
    sources = {"sina_news", "tieba", "weixin"}
    at = re.search(r"巡查在 (\w+) 处停止", stop)
    assert at is not None, stop
    assert at[1] in sources, stop
    # Each of the others is named: kept when its crawl ended before, stopped when it was still running.
    for name in sources - {at[1]}:
        told = rf"已保存：[^。]*{name}[^。]*的巡查结果|{name}[^。]*的巡查已中止"
        assert re.search(told, stop), (name, stop)

    # What was written stays whole, and the summary said how much there is.
    store = sqlite3.connect(kept / "store" / "posts.sqlite3")
    outbox = sqlite3.connect(kept / "alerts.sqlite3")
    for db in (store, outbox):
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    posts = [post_id for (post_id,) in store.execute("SELECT id FROM posts")]
    alerts = outbox.execute("SELECT count(*) FROM alerts").fetchone()[0]
    assert posts
    assert f"帖子库现有帖子 {len(posts)} 条，发件箱现有预警 {alerts} 条，各数据库经检查完好" in stop
