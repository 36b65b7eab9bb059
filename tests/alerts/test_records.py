"""The assessment records (附件2 第六条 纳入考核, 第十二条 按季度通报) as supervisors read them: the
quarterly 通报 table and its CSV, the overdue list duty staff work from, and the daily 舆情日志."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alerts.cases import DeadlineKind, short_id
from alerts.outbox import Outbox
from alerts.records import assess, quarter_bounds
from alerts.workflow import Workflow
from classifiers.types import Level
from commands.cli import app
from config.env import get_env
from config.loader import load_config
from tests.alerts.test_workflow import Clock, at, person, raise_alert, supervisor

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")


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
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县政府办"))
    wf.claim("sina:3", actor=person(wf, "王芳", "清丰县政府办"))
    clock.set("2026-11-23T09:30")
    wf.sweep()  # 南乐 unclaimed: escalated, lapse on record
    clock.set("2026-11-23T09:40")
    wf.reassign("sina:2", to="南乐县住房和城乡建设局", actor=supervisor(wf, "赵敏"))
    clock.set("2026-11-23T10:00")
    wf.claim("sina:2", actor=person(wf, "孙丽", "南乐县住房和城乡建设局"))
    clock.set("2026-11-24T16:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/1")
    wf.request_extension("sina:3", until=at("2026-11-27T18:00"), reason="需现场核查", actor="王芳")
    wf.decide_extension("sina:3", actor="赵敏", approve=True)
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
    with pytest.raises(ValueError, match="不是季度，请写成 2026Q4 的样子"):
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
    # The lapse by its short id: due 09:30 from the units first named, done at 10:00 by the one assigned.
    [row] = [n for n, line in enumerate(lines) if short_id("event:sina:2") in line]
    assert all(word in lines[row] for word in ("认领", "南乐县委宣传部", "11-23 10:00"))
    assert all(word in lines[row + 1] for word in ("11-23 09:30", "南乐县政府办", "南乐县住房和城乡建设局"))
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["单位", "收到", "按时认领", "按时回应", "逾期", "申请延期", "批准延期"]
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
    wf.claim("sina:2", actor=person(wf, "刘洋", "南乐县政府办"))
    wf.close()
    outbox.close()
    monkeypatch.setenv("YUQING_NOW", "2026-11-23T09:45:00+08:00")
    runner = CliRunner()
    late, major = short_id("event:sina:1"), short_id("event:sina:2")
    overdue = runner.invoke(app, ["cases", "--overdue"])
    assert overdue.exit_code == 0, overdue.output
    lines = overdue.output.splitlines()
    [row] = [n for n, line in enumerate(lines) if late in line]
    assert "社会热点问题" in lines[row]
    assert "认领 逾期" in lines[row]
    assert "新建" in lines[row + 1]
    assert "11-23 09:30" in lines[row + 1]
    assert major not in overdue.output
    every = runner.invoke(app, ["cases"]).output.splitlines()
    [row] = [n for n, line in enumerate(every) if major in line]
    assert "重大突发事态" in every[row]
    assert "首次发布" in every[row]
    assert "已认领" in every[row + 1]
    assert "11-23 10:00" in every[row + 1]
    log = runner.invoke(app, ["log", "--date", "2026-11-23"])
    assert log.exit_code == 0, log.output
    text = log.output
    assert "2026年11月23日 政务舆情日志（共 2 条）" in text
    assert text.index("【重大突发事态】1 条") < text.index("【社会热点问题】1 条")
    assert f"1. 【{major}】09:00 南乐县一工地农民工讨薪（2）（南乐县）" in text
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
    for account in (
        ["管理员", "--role", "admin"],
        ["王芳", "--role", "责任单位", "--unit", "清丰县委宣传部", "--as", "管理员"],
        ["赵敏", "--role", "督办", "--unit", "市委宣传部", "--as", "管理员"],
    ):
        added = runner.invoke(app, ["user", "add", *account])
        assert added.exit_code == 0, added.output
    case = short_id("event:sina:1")
    claimed = runner.invoke(app, ["claim", "sina:1", "--as", "王芳"])
    assert claimed.exit_code == 0, claimed.output
    assert f"已认领：案件 {case}（已认领，清丰县委宣传部）；下一时限：回应 2026-11-25 09:00" in claimed.output
    bad = runner.invoke(
        app,
        ["extend", case, "--until", "下周五", "--reason", "核查", "--as", "王芳"],
        catch_exceptions=False,
    )
    assert bad.exit_code == 2
    assert "错误：--until 下周五：不是时间，请写成 2026-11-26 18:00 的样子（北京时间）" in bad.output
    wrong = runner.invoke(app, ["approve", case, "--as", "赵敏"])
    assert wrong.exit_code == 2
    assert f"错误：案件 {case}：没有待审批的延期申请" in wrong.output
    # --by still names the account, as before accounts existed; YUQING_ACCOUNT does too.
    asked = runner.invoke(
        app, ["extend", case, "--until", "2026-11-27 18:00", "--reason", "需现场核查", "--by", "王芳"]
    )
    assert asked.exit_code == 0, asked.output
    assert "延期待批" in asked.output
    approved = runner.invoke(app, ["approve", case], env={"YUQING_ACCOUNT": "赵敏"})
    assert approved.exit_code == 0, approved.output
    assert "下一时限：回应 2026-11-27 18:00" in approved.output
    answered = runner.invoke(
        app, ["respond", case, "--kind", "回应", "--as", "王芳", "--url", "https://www.qingfeng.gov.cn/hf/9"]
    )
    assert answered.exit_code == 0, answered.output
    assert "已回应" in answered.output
    closed = runner.invoke(app, ["close", case, "--as", "王芳"])
    assert closed.exit_code == 0, closed.output
    assert f"已办结：案件 {case}（已办结，清丰县委宣传部）" in closed.output
