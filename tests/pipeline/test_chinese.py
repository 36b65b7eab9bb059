"""Chinese for Chinese users, checked as a duty officer meets the program: every help text, the search the
README shows (`search 化工厂 排污`), the patrol summary's problems, health alerts as delivered, `doctor`, and
the `-v` logs, whose times are Beijing time on a machine set to another zone."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer

from alerts.outbox import Outbox
from commands.cli import app
from config.env import PROJECT_ROOT
from config.loader import load_config
from config.models import AlertsFile
from pipeline.health import PROBLEMS
from pipeline.items import SHANGHAI
from tests.helpers import office_env, yuqing
from tests.services import free_port

# A word of three or more letters standing alone. Anything joined to code-like characters is left alone:
# option names (--reason), paths and files (var/demo/, alerts.yaml), URLs, identifiers (sina_news),
# metavars ({ID}) and value labels (<文本>).
ENGLISH = re.compile(r"(?<![\w\-./:@=<>{}\[\]()$])[A-Za-z]{3,}(?![\w\-./:@=<>{}\[\]()])")
# Names that are not English sentences: the program and its commands, formats, and products.
NAMES = {"yuqing", "README", "SQLite", "Elasticsearch", "Chromium", "JavaScript"}
NAMES |= {"chinesecalendar", "pip", "install"}  # the command that upgrades the holiday data


def commands(group: Any = None, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    group = group or typer.main.get_command(app)
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += commands(command, (*path, name))
    return found


COMMAND_NAMES = {part for path in commands() for part in path}


def english(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """The English words of `text`; abbreviations in capitals (DNS, TLS, HTTP) are names too."""
    words = {word for word in ENGLISH.findall(text) if not word.isupper()}
    return sorted(words - NAMES - COMMAND_NAMES - set(allowed))


# The commands whose help texts live in commands/cli.py, commands/cli_alerts.py and commands/demo.py.
OURS = [
    (),
    ("patrol",),
    ("demo",),
    ("search",),
    ("analyze",),
    ("extract",),
    ("doctor",),
    ("backup",),
    ("deliver",),
    ("digest",),
    ("silence",),
    ("silence", "add"),
    ("silence", "lift"),
    ("silence", "list"),
]


@pytest.mark.parametrize("command", OURS, ids=lambda c: " ".join(c) or "yuqing")
def test_help_has_no_english_sentence(command: tuple[str, ...], data_env: dict[str, str]) -> None:
    # The installed command, as a user types it, so the usage line reads `yuqing …`.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "yuqing"), *command, "--help"],
        cwd=PROJECT_ROOT,
        env={**data_env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    if not command:  # the command list: the rows of the commands above
        rows = [row for row in text.splitlines() if not re.match(r"^│ (\w+) ", row)]
        rows += [row for row in text.splitlines() if (m := re.match(r"^│ (\w+) ", row)) and (m[1],) in OURS]
        text = "\n".join(rows)
    assert english(text) == [], text


def test_the_english_check_catches_a_sentence_and_passes_code() -> None:
    assert english("Find stored posts; the query is cut into words") == [
        "Find",
        "cut",
        "into",
        "posts",
        "query",
        "stored",
        "the",
        "words",
    ]
    assert english("--reason <文本> 见 var/demo/、alerts.yaml、sina_news、{ID}、http(s) 网址") == []


# -- a demo on a machine in UTC, its clock given in UTC too ------------------------------------------------

DEMO_SOURCES = ("weibo_timeline", "sina_news", "tieba")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("chinese-demo")
    # The demo's moment (09:00 in Beijing) written in UTC, on a machine whose zone is UTC: every time a
    # person reads must still come out in Beijing time.
    env = office_env(root / "var", TZ="UTC", YUQING_NOW="2026-11-23T01:00:00+00:00", NO_COLOR="1")
    before = datetime.now(SHANGHAI)
    sources = [arg for name in DEMO_SOURCES for arg in ("--source", name)]
    run = yuqing("-v", "demo", *sources, env=env, timeout=600)  # with -v before the command
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {"env": env, "run": run, "root": root, "before": before, "after": datetime.now(SHANGHAI)}


def test_search_with_several_words_finds_the_posts_holding_each(demo: dict[str, Any]) -> None:
    found = yuqing("search", "化工厂", "排污", "--json", "--demo", env=demo["env"])
    assert found.returncode == 0, found.stderr
    docs = [json.loads(line) for line in found.stdout.splitlines()]
    assert docs
    for doc in docs:
        text = f"{doc.get('title') or ''}{doc['text']}"
        assert "化工厂" in text
        assert "排污" in text
    # Each word alone finds more: the words are joined by AND.
    one = yuqing("search", "化工厂", "--json", "--demo", env=demo["env"])
    assert len(one.stdout.splitlines()) > len(docs)


def test_search_results_name_the_source_and_keep_the_link(demo: dict[str, Any]) -> None:
    table = yuqing("search", "化工厂", "排污", "--demo", env=demo["env"])
    assert table.returncode == 0, table.stderr
    header = next(row for row in table.stdout.splitlines() if "标题" in row)
    assert re.findall(r"[^\s┃│]+", header) == ["时间", "级别", "属地", "标题", "来源", "链接"]
    rows = [row for row in table.stdout.splitlines() if "2026-11-2" in row]
    assert rows
    assert all("微博" in row for row in rows)
    assert "https://m.weibo.cn/" in table.stdout
    assert "weibo" not in table.stdout.replace("m.weibo.cn", "")
    # Published at 08:52 in Beijing (the recording says +0800): shown so, not in the machine's UTC.
    assert "2026-11-23 08:52" in table.stdout


def test_patrol_summary_names_its_problems_in_chinese(demo: dict[str, Any]) -> None:
    out = demo["run"].stdout
    summary = out[out.rindex("演示巡查") :]
    assert f"{PROBLEMS['body_repeated']} 1" in summary
    assert f"{PROBLEMS['charset_mismatch']} 1" in summary
    for name in ("body_repeated", "charset_mismatch", "DropItem"):
        assert name not in summary


def test_alert_deadlines_are_in_beijing_time(demo: dict[str, Any]) -> None:
    out = demo["run"].stdout
    alerts = [block for block in out.split("── 致 ")[1:] if "时限：" in block]
    assert alerts
    # Raised at 09:00 in Beijing: the 48-hour response is due at 09:00, the first release of a
    # 重大突发事态 at 10:00, whatever zone the clock was given in.
    assert all(re.search(r"时限：2026-11-2\d (09|10):00前", block) for block in alerts), alerts[0]
    assert "01:00前" not in out
    assert "来源sina" not in out
    assert "来源weibo" not in out


STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)([+-]\d\d:?\d\d)?")


def _stamps(lines: list[str]) -> list[tuple[str, str | None]]:
    return [(m[1], m[2]) for line in lines if (m := STAMP.match(line))]


def _near(stamp: str, demo: dict[str, Any]) -> bool:
    moment = datetime.fromisoformat(stamp).replace(tzinfo=SHANGHAI)
    return demo["before"] - timedelta(seconds=5) <= moment <= demo["after"] + timedelta(seconds=5)


def test_verbose_logs_carry_beijing_time_from_the_cli_and_from_each_crawl(demo: dict[str, Any]) -> None:
    cli = _stamps(demo["run"].stderr.splitlines())
    assert len(cli) > 5, demo["run"].stderr[:2000]
    assert {offset for _stamp, offset in cli} == {"+08:00"}
    assert all(_near(stamp, demo) for stamp, _offset in cli)
    # One log for the patrol's crawls, all in one process.
    [log] = (demo["root"] / "var" / "demo" / "logs").glob("*.log")
    text = log.read_text(encoding="utf-8")
    saved = [line for line in text.splitlines() if "已保存抓取状态" in line]
    # Each crawl's line names its source, as all of them write into the one log.
    assert all(any(line.split(" ")[2] == f"[{source}]" for line in saved) for source in DEMO_SOURCES), saved
    crawl = _stamps(text.splitlines())
    assert len(crawl) > 5, log
    assert {offset for _stamp, offset in crawl} == {"+08:00"}, log
    assert all(_near(stamp, demo) for stamp, _offset in crawl), log


# -- an offline patrol: sources that cannot be reached ------------------------------------------------------

OFFLINE = ("sina_news", "puyang_gov_zwdt")


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("chinese-offline")
    env = office_env(root / "var", TZ="UTC", YUQING_NOW="2026-11-23T01:00:00+00:00", NO_COLOR="1")
    sources = [arg for name in OFFLINE for arg in ("--source", name)]
    patrol = yuqing(
        "patrol", *sources, env={**env, "YUQING_REPLAY_URL": f"http://127.0.0.1:{free_port()}"}, timeout=600
    )
    assert patrol.returncode == 3, patrol.stdout[-3000:] + patrol.stderr[-3000:]
    return {"env": env, "root": root, "patrol": patrol, "doctor": yuqing("doctor", env=env)}


def test_a_health_alert_as_delivered_is_chinese_and_names_the_source_in_chinese(
    offline: dict[str, Any],
) -> None:
    # Both sources unreachable at once: one alert names them both, in their Chinese names.
    [block] = [block for block in offline["patrol"].stdout.split("── 致 ")[1:] if "【信息源异常】" in block]
    office = load_config()
    labels = {s.name: s.label for s in office.sources.sources}
    assert f"【信息源异常】全部 {len(OFFLINE)} 个来源均无法访问，可能是本机网络中断" in block
    assert "原因：网站无法访问（" in block
    for name in OFFLINE:
        shown = f"{labels[name] or '新浪新闻'}（{name}）"
        assert f"{shown}，自 2026-11-23 09:00 起连续 1 次：" in block
    assert english(block.split("\n", 1)[1], set()) == [], block
    assert "unreachable" not in block
    # Every channel is given the same text, rendered from what the outbox keeps.
    outbox = Outbox(offline["root"] / "var" / "alerts.sqlite3", read_only=True)
    try:
        kept = [alert for alert in outbox.alerts() if alert.kind == "health"]
    finally:
        outbox.close()
    assert len(kept) == 1
    for alert in kept:
        assert english(alert.render(), set()) == [], alert.render()


def test_doctor_has_no_english_status_words(offline: dict[str, Any]) -> None:
    doctor = offline["doctor"]
    assert doctor.returncode == 1, doctor.stderr
    lines = doctor.stdout.splitlines()
    assert lines
    # What the office named in its files (channels, sources), and the keys of alerts.yaml a line says to edit.
    office = load_config()
    identifiers = {c.name for c in office.alerts.channels} | {s.name for s in office.sources.sources}
    identifiers |= set(AlertsFile.model_fields)
    for line in lines:
        assert line.split(" ", 1)[0] in ("正常", "注意", "故障"), line
        assert english(line, identifiers) == [], line


def test_a_source_is_alerted_once_per_beijing_day_whatever_offset_the_clock_has() -> None:
    from datetime import UTC

    from pipeline.health import HealthState, assess, health_alert

    verdict = assess("sina_news", "unreachable", {}, label="新浪新闻")
    late = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 01:30 on the 24th in Beijing
    state = HealthState("sina_news", "unreachable", late.isoformat(), 1, verdict.detail, late.isoformat())
    alert = health_alert(verdict, state, ["市网信办值班室"], late)
    assert alert.key.endswith(":2026-11-24")
    assert "自 2026-11-24 01:30（北京时间）起" in alert.render()
