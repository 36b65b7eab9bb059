"""Values no command can work with are refused up front with one clear line: a count out of range, a clock
set to something that is not a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.cli import MAX_SEARCH_RESULTS, app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_NOW": "2026-11-23T09:00:00+08:00"}


@pytest.mark.parametrize("limit", ["100000000000000000000", str(MAX_SEARCH_RESULTS + 1), "0", "-1"])
def test_a_search_limit_out_of_range_is_refused(env: dict[str, str], limit: str) -> None:
    result = CliRunner().invoke(app, ["search", "化工厂", "--limit", limit], env=env)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a refusal, not a crash
    assert f"--limit 应为 1 到 {MAX_SEARCH_RESULTS:,} 之间的整数，收到 {limit}" in " ".join(
        result.output.split()
    )


def test_the_largest_search_limit_still_searches(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["search", "化工厂", "--limit", str(MAX_SEARCH_RESULTS)], env=env)
    assert result.exit_code == 0, result.output
    assert "检索「化工厂」：0 条" in result.output


@pytest.mark.parametrize(
    ("command", "stdin"),
    [(["log"], None), (["cases"], None), (["sweep"], None), (["analyze"], '{"text": "清丰县停暖"}\n')],
)
def test_a_clock_that_is_not_a_time_is_named_with_the_form_it_needs(
    env: dict[str, str], command: list[str], stdin: str | None
) -> None:
    result = CliRunner().invoke(app, command, input=stdin, env={**env, "YUQING_NOW": "garbage"})
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a refusal, not a crash
    message = " ".join(result.output.split())
    assert "环境变量 YUQING_NOW 的值 'garbage' 不是时间" in message
    assert "2026-11-23T09:00:00+08:00" in message
    assert result.stdout == ""  # nothing was done: the error is all there is, on stderr
