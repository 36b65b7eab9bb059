"""The command line speaks Chinese around our own texts too: usage, panels, the help option, usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        [str(Path(sys.executable).parent / "yuqing"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_is_framed_in_chinese() -> None:
    result = run("--help")
    assert result.returncode == 0
    for words in ("用法：yuqing [选项] 命令 [参数]...", "选项", "命令", "显示本帮助并退出。"):
        assert words in result.stdout
    for english in ("Usage:", "Show this message and exit.", "<bool>", "[OPTIONS]"):
        assert english not in result.stdout


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (["respond", "abc"], "缺少选项 '--kind'。"),
        (["nosuch"], "没有命令 'nosuch'。"),
        (["search", "化工厂", "--limit", "many"], "'--limit' 的值无效：应为整数"),
        (["patrol", "--nope"], "没有选项 --nope。"),
    ],
)
def test_usage_errors_are_in_chinese(args: list[str], chinese: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert chinese in result.stderr
    assert "错误" in result.stderr
    assert "Missing" not in result.stderr
    assert "No such" not in result.stderr
