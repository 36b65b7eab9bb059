"""A path the user types means the folder it was typed in, though the `./yuqing` launcher runs the command
from the repository; and a file the user asks for is checked before the work is done."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.cli import app
from config.env import PROJECT_ROOT

PAGE = PROJECT_ROOT / "tests" / "fixtures" / "extract" / "county_gov_article.html"


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    """The launcher as shipped, in a checkout of its own whose .venv holds the installed command: it then
    changes into that checkout exactly as it does into the repository, without installing anything."""
    checkout = tmp_path / "checkout"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "yuqing", checkout / "yuqing")
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", checkout / "pyproject.toml")
    (checkout / ".venv" / "bin" / "yuqing").symlink_to(Path(sys.executable).with_name("yuqing"))
    stamp = checkout / ".venv" / ".installed"
    stamp.touch()
    later = (checkout / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))
    return checkout / "yuqing"


def typed(launcher: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    environment.update(env)
    return subprocess.run(
        [str(launcher), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_extract_reads_the_file_in_the_folder_it_was_typed_in(launcher: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(PAGE, work / "page.html")
    done = typed(launcher, work, "extract", "page.html")
    assert done.returncode == 0, done.stderr
    assert "拖欠金额约112万元" in done.stdout


def test_report_writes_its_csv_in_the_folder_it_was_typed_in(launcher: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "exports").mkdir(parents=True)
    done = typed(
        launcher,
        work,
        "report",
        "--quarter",
        "2026Q4",
        "--csv",
        "exports/q4.csv",
        YUQING_DATA_DIR=str(tmp_path / "data"),
        YUQING_NOW="2026-11-23T09:00:00+08:00",
    )
    assert done.returncode == 0, done.stderr
    written = work / "exports" / "q4.csv"
    assert f"已导出 {written}\n" in done.stdout
    with written.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle))[:2] == ["单位", "收到"]
    assert not (launcher.parent / "exports").exists()


def test_a_csv_that_cannot_be_written_is_refused_before_the_report(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_NOW": "2026-11-23T09:00:00+08:00"}
    missing = runner.invoke(app, ["report", "--quarter", "2026Q4", "--csv", "/nonexistent/x.csv"], env=env)
    assert missing.exit_code == 2
    assert "--csv /nonexistent/x.csv：目录 /nonexistent 不存在" in " ".join(missing.output.split())
    assert "通报" not in missing.output  # refused before the bulletin was made
    folder = runner.invoke(app, ["report", "--quarter", "2026Q4", "--csv", str(tmp_path)], env=env)
    assert folder.exit_code == 2
    assert "这是一个目录，请给出文件名" in folder.output
