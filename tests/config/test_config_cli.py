"""What a duty officer sees from the real CLI when a config file breaks a rule it promises: one line naming
the file, line, key and reason, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import office_env, yuqing

ROOT = Path(__file__).resolve().parents[2]


def office(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return config


def cli(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return yuqing(*args, env=office_env(data, YUQING_CONFIG_DIR=str(config)), input="", timeout=180)


def test_doctor_names_a_folder_in_place_of_severity_yaml(tmp_path: Path) -> None:
    config = office(tmp_path)
    severity = config / "severity.yaml"
    severity.unlink()
    severity.mkdir()
    result = cli(config, tmp_path / "var", "doctor")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if str(severity) in line]
    assert line.startswith(("FAIL", "故障")), line
    assert line.endswith(f"{severity}: -: 这是一个文件夹，不是文件")


@pytest.mark.parametrize(
    ("name", "old", "new", "said"),
    [
        (
            "sources.yaml",
            "    spider: sina_news",
            "    spider: nosuch",
            "sources[0].spider: 没有名为“nosuch”的爬虫",
        ),
        (
            "alerts.yaml",
            "recipients: {}",
            "recipients:\n  清丰县宣传部: [console]",
            "recipients.清丰县宣传部: 没有名为“清丰县宣传部”的单位",
        ),
        ("severity.yaml", "  media: 0.15\n", "  media: 0.15\n  media: 0.5\n", "weights.media: 键重复："),
    ],
)
def test_patrol_stops_on_a_broken_promise_before_crawling(
    tmp_path: Path, name: str, old: str, new: str, said: str
) -> None:
    config = office(tmp_path)
    path = config / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in the shipped {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    data = tmp_path / "var"
    result = cli(config, data, "patrol")
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"{path}:" in line
    assert said in line
    assert not data.exists()
