"""A broken config file stops every command with one line naming file, key and reason, before any data
is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
        [sys.executable, "-m", "pipeline.cli", *command],
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
    assert "must contain {county}" in lines[0]
    assert not data.exists()
