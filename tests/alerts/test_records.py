"""The assessment records (附件2 第六条 纳入考核, 第十二条 按季度通报) as supervisors read them: the
quarterly 通报 table and its CSV, the overdue list duty staff work from, and the daily 舆情日志."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alerts.outbox import Outbox
from alerts.records import assess, quarter_bounds
from alerts.workflow import DeadlineKind, Workflow
from classifiers.types import Level
from config.env import get_env
from config.loader import load_config
from pipeline.cli import app
from tests.alerts.test_workflow import Clock, at, raise_alert


@pytest.fixture
def outbox_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "alerts.sqlite3"
    monkeypatch.setenv("YUQING_OUTBOX", str(path))
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "220")
    get_env.cache_clear()
    yield path
    get_env.cache_clear()


def quarter_of_cases(path: Path) -> None:
    """Four cases: one answered in time, one left unclaimed then assigned, one with an approved
    extension, and one from the previous quarter."""
    clock = Clock("2026-09-30T23:00")
    outbox = Outbox(path)
    wf = Workflow(outbox, load_config(), clock)
    raise_alert(outbox, clock(), n=9, county="台前县")  # third quarter: not in the Q4 通报
    clock.set("2026-11-23T09:00")
    raise_alert(outbox, clock(), n=1, county="清丰县")
    raise_alert(outbox, clock(), n=2, county="南乐县")
    raise_alert(outbox, clock(), n=3, county="清丰县", level=Level.SENSITIVE)
    wf.sweep()
    clock.set("2026-11-23T09:10")
    wf.claim("sina:1", unit="清丰县政府办", by="王芳")
    wf.claim("sina:3", unit="清丰县政府办", by="王芳")
    clock.set("2026-11-23T09:30")
    wf.sweep()  # 南乐 unclaimed: escalated, lapse on record
    clock.set("2026-11-23T09:40")
    wf.reassign("sina:2", to="南乐县住房和城乡建设局", by="赵敏", unit="市委宣传部")
    clock.set("2026-11-23T10:00")
    wf.claim("sina:2", unit="南乐县住房和城乡建设局", by="孙丽")
    clock.set("2026-11-24T16:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, by="王芳", url="https://www.qingfeng.gov.cn/hf/1")
    wf.request_extension("sina:3", until=at("2026-11-27T18:00"), reason="需现场核查", by="王芳")
    wf.decide_extension("sina:3", by="赵敏", unit="市委宣传部", approve=True)
    wf.close()
    outbox.close()


def test_the_quarter_counts_each_unit_once_per_case(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite3"
    quarter_of_cases(path)
    outbox = Outbox(path)
    wf = Workflow(outbox, load_config(), Clock("2026-11-24T17:00"))
    start, end, name = quarter_bounds("2026Q4")
    assert (start, end, name) == (at("2026-10-01T00:00"), at("2027-01-01T00:00"), "2026年第四季度")
    result = {r.unit: r.row()[1:] for r in assess(wf, start, end, name).units}
    #                                 received, claimed in time, answered in time, overdue, ext., approved
    assert result["清丰县政府办"] == (2, 2, 1, 0, 1, 1)
    assert result["南乐县委宣传部"] == (1, 0, 0, 1, 0, 0)
    assert result["南乐县住房和城乡建设局"] == (1, 1, 0, 0, 0, 0)
    assert "台前县政府办" not in result  # its case was opened in the third quarter
    [lapse] = assess(wf, start, end, name).lapses
    assert (lapse.case_id, lapse.kind, lapse.units) == (
        "event:sina:2",
        DeadlineKind.CLAIM,
        ["南乐县委宣传部", "南乐县政府办", "南乐县人力资源和社会保障局"],
    )
    # Claimed after 市委宣传部 assigned it: on record as done late, by whom.
    assert (lapse.done_at, lapse.done_by) == (at("2026-11-23T10:00"), "南乐县住房和城乡建设局")
    wf.close()
    outbox.close()
    with pytest.raises(ValueError, match="write it like 2026Q4"):
        quarter_bounds("2026-4")


def test_report_prints_the_bulletin_and_writes_the_csv(
    outbox_path: Path, tmp_path: Path, monkeypatch
) -> None:
    quarter_of_cases(outbox_path)
    monkeypatch.setenv("YUQING_NOW", "2026-11-24T17:00:00+08:00")
    target = tmp_path / "2026Q4.csv"
    result = CliRunner().invoke(app, ["report", "--quarter", "2026Q4", "--csv", str(target)])
    assert result.exit_code == 0, result.output
    assert "2026年第四季度政务舆情认领回应情况通报" in result.output
    assert "逾期记录（记录在案、纳入考核）" in result.output
    lines = result.output.splitlines()
    assert any(
        "event:sina:2" in line
        and "南乐县委宣传部" in line
        and "2026-11-23 10:00 南乐县住房和城乡建设局" in line
        for line in lines
    )
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "unit",
        "received",
        "claimed_in_time",
        "answered_in_time",
        "overdue",
        "extensions_requested",
        "extensions_approved",
    ]
    assert ["清丰县政府办", "2", "2", "1", "0", "1", "1"] in rows
    assert ["南乐县委宣传部", "1", "0", "0", "1", "0", "0"] in rows
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheet programs read the Chinese right


def test_cases_overdue_lists_what_is_late_and_log_shows_the_day(outbox_path: Path, monkeypatch) -> None:
    clock = Clock("2026-11-23T09:00")
    outbox = Outbox(outbox_path)
    wf = Workflow(outbox, load_config(), clock)
    raise_alert(outbox, clock(), n=1, county="清丰县")
    raise_alert(outbox, clock(), n=2, county="南乐县", level=Level.MAJOR_EMERGENCY)
    wf.sweep()
    clock.set("2026-11-23T09:05")
    wf.claim("sina:2", unit="南乐县政府办", by="刘洋")
    wf.close()
    outbox.close()
    monkeypatch.setenv("YUQING_NOW", "2026-11-23T09:45:00+08:00")
    runner = CliRunner()
    overdue = runner.invoke(app, ["cases", "--overdue"])
    assert overdue.exit_code == 0, overdue.output
    assert "event:sina:1" in overdue.output
    assert "认领(11-23 09:30)" in overdue.output
    assert "event:sina:2" not in overdue.output
    every = runner.invoke(app, ["cases"])
    assert "event:sina:2" in every.output
    assert "首次发布 2026-11-23 10:00" in every.output
    log = runner.invoke(app, ["log", "--date", "2026-11-23"])
    assert log.exit_code == 0, log.output
    text = log.output
    assert "2026年11月23日 政务舆情日志（共 2 条）" in text
    assert text.index("【重大突发事态】1 条") < text.index("【社会热点问题】1 条")
    assert "责任单位：南乐县政府办；状态：已认领；认领按时，首次发布 11-23 10:00前" in text
    assert "状态：逾期未认领；认领逾期" not in text  # no sweep has run since 09:30 …
    assert "状态：新建；认领逾期" in text  # … but the log already shows the claim as late


def test_actions_on_the_command_line_name_what_went_wrong(outbox_path: Path, monkeypatch) -> None:
    clock = Clock("2026-11-23T09:00")
    outbox = Outbox(outbox_path)
    raise_alert(outbox, clock(), n=1, county="清丰县")
    outbox.close()
    monkeypatch.setenv("YUQING_NOW", "2026-11-23T09:05:00+08:00")
    runner = CliRunner()
    claimed = runner.invoke(app, ["claim", "sina:1", "--unit", "清丰县委宣传部", "--by", "王芳"])
    assert claimed.exit_code == 0, claimed.output
    assert "已认领：event:sina:1（已认领，清丰县委宣传部）；下一时限：回应 2026-11-25 09:00" in claimed.output
    bad = runner.invoke(
        app,
        ["extend", "sina:1", "--until", "下周五", "--reason", "核查", "--by", "王芳"],
        catch_exceptions=False,
    )
    assert bad.exit_code == 2
    assert "--until '下周五': not a time; write it like 2026-11-26 18:00" in bad.output
    wrong = runner.invoke(app, ["approve", "sina:1", "--by", "赵敏"])
    assert wrong.exit_code == 1
    assert "event:sina:1: no extension is waiting for a decision" in wrong.output
    asked = runner.invoke(
        app, ["extend", "sina:1", "--until", "2026-11-27 18:00", "--reason", "需现场核查", "--by", "王芳"]
    )
    assert asked.exit_code == 0, asked.output
    assert "延期待批" in asked.output
    approved = runner.invoke(app, ["approve", "sina:1", "--by", "赵敏"])
    assert approved.exit_code == 0, approved.output
    assert "下一时限：回应 2026-11-27 18:00" in approved.output
    answered = runner.invoke(
        app,
        [
            "respond",
            "sina:1",
            "--kind",
            "response",
            "--by",
            "王芳",
            "--url",
            "https://www.qingfeng.gov.cn/hf/9",
        ],
    )
    assert answered.exit_code == 0, answered.output
    assert "已回应" in answered.output
    closed = runner.invoke(app, ["close", "sina:1", "--by", "王芳"])
    assert "已办结" in closed.output
