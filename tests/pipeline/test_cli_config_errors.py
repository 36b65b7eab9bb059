"""A broken config file stops every command that reads it with one line naming file, key and reason,
before any data is touched; the commands that do not read it go on working."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from alerts.cases import short_id
from tests.helpers import office_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["patrol"], ["demo"], ["search", "濮阳"], ["analyze"]])
def test_broken_config_gives_one_line_and_touches_nothing(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    units = config / "units.yaml"
    units.write_text(
        units.read_text(encoding="utf-8").replace(
            "county_unit: 市生态环境局{county}分局", "county_unit: 市生态环境局分局"
        ),
        encoding="utf-8",
    )
    data = tmp_path / "var"
    env = {**os.environ, "YUQING_CONFIG_DIR": str(config), "YUQING_DATA_DIR": str(data), "COLUMNS": "80"}
    env.pop("ES_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "commands.cli", *command],
        cwd=ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{units}:" in lines[0]
    assert "departments[0].county_unit" in lines[0]
    assert "要含有 {county}" in lines[0]
    assert not data.exists()


# -- one broken file stops only the commands that read it ------------------------------------------------------

NOW = "2026-11-23T09:00:00+08:00"
# A clerk's typo in each of the files the workflow never reads: the key, the file's line and what is wrong.
TYPOS = {
    "rules.yaml": ("    weight: 10\n", "    wieght: 10\n", "rules[0].wieght"),
    "severity.yaml": ("  社会热点问题: 35\n", "  社会热点问题 35\n", "YAML 格式错误：缺少冒号"),
    "sources.yaml": ("    max_pages: 3\n", "    max_pages: three\n", "sources[0].max_pages"),
}
# A command that does read the broken file, and so still stops on it.
NEEDS = {"rules.yaml": ["analyze"], "severity.yaml": ["analyze"], "sources.yaml": ["patrol"]}


def office_with_typos(tmp_path: Path, *names: str) -> tuple[Path, dict[str, int]]:
    """A copy of the shipped config with a typo in each named file; the line of each typo."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    lines = {}
    for name in names:
        old, new, _key = TYPOS[name]
        path = config / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is no longer in the shipped {name}"
        lines[name] = text[: text.index(old)].count("\n") + 1
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return config, lines


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# The accounts the desk acts as: an administrator, a clerk of 清丰县政府办 and a supervisor.
ACCOUNTS = [
    ["user", "add", "管理员", "--role", "admin"],
    ["user", "add", "王芳", "--role", "unit", "--unit", "清丰县政府办", "--as", "管理员"],
    ["user", "add", "李明", "--role", "supervisor", "--unit", "市委宣传部", "--as", "管理员"],
]


def desk_env(tmp_path: Path, config: Path, cases: int = 1) -> dict[str, str]:
    """The environment of a duty desk whose outbox holds `cases` alerts about 清丰县 raised at 09:00."""
    from alerts.outbox import Outbox
    from tests.alerts.test_workflow import raise_alert

    data = tmp_path / "var"
    outbox = Outbox(data / "alerts.sqlite3")
    for n in range(1, cases + 1):
        raise_alert(outbox, datetime.fromisoformat(NOW), n=n)
    outbox.close()
    return office_env(data, YUQING_CONFIG_DIR=str(config), YUQING_NOW=NOW)


@pytest.mark.parametrize("broken", list(TYPOS))
def test_a_typo_stops_only_the_commands_that_read_that_file(tmp_path: Path, broken: str) -> None:
    config, lines = office_with_typos(tmp_path, broken)
    env = desk_env(tmp_path, config)

    cases = cli(env, "cases")
    assert cases.returncode == 0, cases.stderr
    assert short_id("event:sina:1") in cases.stdout
    for account in ACCOUNTS:
        assert cli(env, *account).returncode == 0
    claim = cli(env, "claim", "event:sina:1", "--as", "王芳")
    assert claim.returncode == 0, claim.stderr
    assert f"已认领：案件 {short_id('event:sina:1')}" in claim.stdout
    sweep = cli(env, "sweep")
    assert sweep.returncode == 0, sweep.stderr
    assert "时限检查：" in sweep.stdout

    needing = cli(env, *NEEDS[broken], stdin='{"text": "濮阳县一化工厂夜间偷排"}\n')
    assert needing.returncode == 2
    [line] = needing.stderr.strip().splitlines()
    assert f"{config / broken}:{lines[broken]}: " in line
    assert TYPOS[broken][2] in line


def test_every_workflow_command_works_while_rules_severity_and_sources_are_broken(tmp_path: Path) -> None:
    config, _lines = office_with_typos(tmp_path, *TYPOS)
    env = desk_env(tmp_path, config, cases=2)
    case = "event:sina:1"
    steps = [
        (["cases"], short_id(case)),
        *((account, "已添加账号") for account in ACCOUNTS),
        (["user", "list"], "王芳"),
        (["claim", case, "--as", "王芳"], "已认领"),
        (
            ["extend", case, "--until", "2026-11-26 18:00", "--reason", "需现场核实", "--as", "王芳"],
            "已申请延期",
        ),
        (["approve", case, "--as", "李明"], "已批准延期"),
        (
            [
                "respond",
                case,
                "--kind",
                "response",
                "--url",
                "https://www.qingfeng.gov.cn/hf/1",
                "--as",
                "王芳",
            ],
            "已记录",
        ),
        (["close", case, "--as", "王芳"], "已办结"),
        (["reassign", "event:sina:2", "--to", "清丰县政府办", "--as", "李明"], "已指定清丰县政府办认领"),
        (["sweep"], "时限检查："),
        (["report", "--quarter", "2026Q4"], "清丰县政府办"),
        (["log", "--date", "2026-11-23"], "政务舆情日志"),
        (["deliver"], "送达"),
        (["digest"], "送达"),
        (["silence", "list"], "静默"),
    ]
    for args, shown in steps:
        result = cli(env, *args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        assert shown in result.stdout, f"{args}: {result.stdout}"
