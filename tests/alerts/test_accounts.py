"""Who acts on a case, through the real command line on a real outbox file: every action is taken by an
account, and checked against its role and unit, the case's state and responsible units, and the office's
files. A refusal is one Chinese line naming the rule, exit code 2, and it changes nothing but the audit
trail. Also: the accounts themselves, workflow values in Chinese, short case ids, tables at 80 columns."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result
from rich.cells import cell_len
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from alerts.accounts import Role
from alerts.cases import short_id
from alerts.models import Alert
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from commands.cli import app
from config.env import get_env
from config.loader import DEFAULT_DIR, load_config
from tests.alerts.test_workflow import Clock, raise_alert
from tests.helpers import office_env
from tests.helpers import yuqing as run_yuqing

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")

ROOT = Path(__file__).resolve().parents[2]
NINE = "2026-11-23T09:00:00+08:00"

# The office's people: an administrator, clerks of three units, the two supervisors, a duty officer.
PEOPLE = [
    ("管理员", ["--role", "admin"]),
    ("王芳", ["--role", "unit", "--unit", "清丰县政府办"]),
    ("李四", ["--role", "责任单位", "--unit", "清丰县委宣传部"]),
    ("张三", ["--role", "unit", "--unit", "范县政府办"]),
    ("刘洋", ["--role", "unit", "--unit", "范县县委宣传部"]),
    ("赵敏", ["--role", "督办", "--unit", "市委宣传部"]),
    ("钱伟", ["--role", "supervisor", "--unit", "市政府办"]),
    ("孙丽", ["--role", "值班员", "--unit", "市网信办值班室"]),
]


@pytest.fixture
def outbox_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "alerts.sqlite3"
    monkeypatch.setenv("YUQING_OUTBOX", str(path))
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    get_env.cache_clear()
    yield path
    get_env.cache_clear()


def yuqing(*args: str, now: str = NINE, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"YUQING_NOW": now, **(env or {})})


def ok(*args: str, now: str = NINE) -> str:
    result = yuqing(*args, now=now)
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str, now: str = NINE) -> str:
    """The one line a refusal prints (exit code 2)."""
    result = yuqing(*args, now=now)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("错误："), line
    return line


def staff() -> None:
    ok("user", "add", "管理员", "--role", "admin")
    for name, options in PEOPLE[1:]:
        ok("user", "add", name, *options, "--as", "管理员")


def alerts(path: Path, *raised: dict) -> list[str]:
    """Alerts raised at 09:00 (as raise_alert makes them); the short ids of their cases."""
    outbox = Outbox(path)
    made = [raise_alert(outbox, datetime.fromisoformat(NINE), **kwargs) for kwargs in raised]
    outbox.close()
    return [short_id(alert.event_id) for alert in made]


def desk(path: Path, now: str = "2026-11-23T12:00") -> tuple[Outbox, Workflow]:
    outbox = Outbox(path)
    return outbox, Workflow(outbox, load_config(), Clock(now))


def history(path: Path, case: str) -> list[tuple[str, str, str | None]]:
    outbox, workflow = desk(path)
    try:
        return [(h.action, h.actor, h.unit) for h in workflow.history(workflow.find(case).id)]
    finally:
        workflow.close()
        outbox.close()


# -- who acts ---------------------------------------------------------------------------------------------------


def test_an_action_without_an_account_is_refused_and_says_how_to_create_one(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    line = refused("claim", case)
    assert "未指明操作账号：请用 --as 账号名，或设置环境变量 YUQING_ACCOUNT" in line
    assert "yuqing user add 姓名 --role unit --unit 单位名" in line
    # A blank name is no account; nor is a name nobody created (the free text --by used to take).
    assert "未指明操作账号" in refused("claim", case, "--by", "")
    assert "没有名为「路人甲」的账号" in refused("claim", case, "--by", "路人甲")
    assert [action for action, _, _ in history(outbox_path, case)] == ["open"]


def test_the_account_comes_from_the_option_or_the_environment_and_is_what_history_records(
    outbox_path: Path,
) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    result = yuqing("claim", case, env={"YUQING_ACCOUNT": "王芳"})
    assert result.exit_code == 0, result.output
    assert f"已认领：案件 {case}（已认领，清丰县政府办）" in result.output
    assert history(outbox_path, case)[-1] == ("claim", "王芳", "清丰县政府办")


def test_only_a_unit_the_case_was_put_to_claims_it(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    line = refused("claim", case, "--as", "张三")
    assert f"案件 {case}：张三（责任单位，范县政府办）不能认领：只有本案的认领单位可以认领" in line
    assert "其他单位须由市委宣传部或市政府办指定认领" in line
    assert "赵敏（督办，市委宣传部）不能认领" in refused("claim", case, "--as", "赵敏")
    for name in ("孙丽", "管理员"):  # duty officers and administrators do not act on cases
        assert "认领须由责任单位账号或督办账号操作" in refused("claim", case, "--as", name)
    ok("claim", case, "--as", "李四")


def test_a_disabled_account_acts_no_more_and_what_it_did_stays(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    ok("claim", case, "--as", "王芳")
    assert "王芳（责任单位，清丰县政府办）不能管理账号" in refused("user", "disable", "李四", "--as", "王芳")
    ok("user", "disable", "王芳", "--as", "管理员", now="2026-11-23T10:00:00+08:00")
    line = refused(
        "respond", case, "--kind", "回应", "--url", "https://www.qingfeng.gov.cn/1", "--as", "王芳"
    )
    assert "账号王芳（责任单位，清丰县政府办）已于 2026-11-23 10:00 停用，不能再操作" in line
    listed = ok("user", "list")
    assert "停用（2026-11-23 10:00 管理员）" in listed
    assert history(outbox_path, case)[-1] == ("claim", "王芳", "清丰县政府办")


# -- the seen failures, one by one ----------------------------------------------------------------------------


def test_nobody_approves_their_own_extension_nor_one_of_their_own_unit(outbox_path: Path) -> None:
    # A city-level case that 市委宣传部 itself claims: a supervisor's own request needs the other supervisor.
    outbox = Outbox(outbox_path)
    city = Alert(
        key="event:sina:2@社会热点问题",
        post_id="sina:2",
        event_id="event:sina:2",
        level=Level.HOT_TOPIC,
        title="市民反映市区多处公交站牌信息多年未更新",
        url="https://news.sina.com.cn/c/doc-2.shtml",
        source="大河报",
        summary="",
        created_at=datetime.fromisoformat(NINE),
        first=["市政府办"],
        claim=["市委宣传部", "市政府办"],
        coordinate=["市委宣传部", "市政府办"],
    )
    assert outbox.enqueue(city)
    outbox.close()
    [county] = alerts(outbox_path, {"n": 1})
    staff()
    ok("user", "add", "周洁", "--role", "supervisor", "--unit", "市委宣传部", "--as", "管理员")

    # The unit that asked cannot approve: approving is a supervisor's (it used to default to 市委宣传部).
    ok("claim", county, "--as", "王芳")
    ok("extend", county, "--until", "2026-11-26 18:00", "--reason", "需现场核实", "--as", "王芳")
    line = refused("approve", county, "--as", "王芳")
    assert "王芳（责任单位，清丰县政府办）不能审批延期：审批延期须由督办账号操作" in line

    case = short_id(city.event_id)
    ok("claim", case, "--as", "赵敏")
    ok("extend", case, "--until", "2026-11-26 18:00", "--reason", "等待省里通报", "--as", "赵敏")
    assert "赵敏（督办，市委宣传部）不能审批自己提出的延期申请" in refused("approve", case, "--as", "赵敏")
    line = refused("approve", case, "--as", "周洁")
    assert "周洁（督办，市委宣传部）不能审批本单位（市委宣传部）的延期申请，须由另一督办单位审批" in line
    assert "已批准延期" in ok("approve", case, "--as", "钱伟")
    assert "已批准延期" in ok("approve", county, "--as", "赵敏")
    outbox, workflow = desk(outbox_path)
    decided = {e.case_id: (e.requested_by, e.decided_by) for e in workflow.extensions()}
    workflow.close()
    outbox.close()
    assert decided == {city.event_id: ("赵敏", "钱伟"), "event:sina:1": ("王芳", "赵敏")}


def test_an_extension_ends_at_most_max_extension_hours_after_the_original_deadline(
    outbox_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [case] = alerts(outbox_path, {})  # response due 2026-11-25 09:00
    staff()
    ok("claim", case, "--as", "王芳")
    line = refused("extend", case, "--until", "9999-12-31 00:00", "--reason", "以后再说", "--as", "王芳")
    assert (
        f"案件 {case}：延期至 9999-12-31 00:00 超过上限：回应最多比原时限 2026-11-25 09:00 延后 72 小时，"
        "即不晚于 2026-11-28 09:00（schedule.yaml 的 max_extension_hours）" in line
    )
    refused("extend", case, "--until", "2026-11-28 09:01", "--reason", "需现场核实", "--as", "王芳")
    ok("extend", case, "--until", "2026-11-28 09:00", "--reason", "需现场核实", "--as", "王芳")
    ok("approve", case, "--as", "赵敏")
    # A second request cannot push it further: the bound counts from the original deadline.
    ok("claim", alerts(outbox_path, {"n": 2})[0], "--as", "王芳")
    line = refused("extend", case, "--until", "2026-11-28 10:00", "--reason", "还需核实", "--as", "王芳")
    assert "即不晚于 2026-11-28 09:00" in line

    # The bound is the office's: schedule.yaml says it.
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    schedule = office / "schedule.yaml"
    text = schedule.read_text(encoding="utf-8")
    schedule.write_text(text.replace("max_extension_hours: 72", "max_extension_hours: 24"), encoding="utf-8")
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(office))
    [other] = alerts(outbox_path, {"n": 3})
    ok("claim", other, "--as", "王芳")
    line = refused("extend", other, "--until", "2026-11-26 09:01", "--reason", "需现场核实", "--as", "王芳")
    assert "延后 24 小时，即不晚于 2026-11-26 09:00" in line


def test_a_response_is_recorded_by_a_responsible_unit_with_an_http_address(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    ok("claim", case, "--as", "王芳")
    line = refused("respond", case, "--kind", "回应", "--url", "https://www.fanxian.gov.cn/1", "--as", "张三")
    assert f"案件 {case}：张三（责任单位，范县政府办）不是本案的责任单位，不能记录回应" in line
    for bad in (
        "javascript:alert(1)",
        "not a url",
        "https://",
        "ftp://www.qingfeng.gov.cn/1",
        "http://a b.cn/",
    ):
        line = refused("respond", case, "--kind", "回应", "--url", bad, "--as", "王芳")
        assert f"发布地址「{bad}」不是网址：须以 http:// 或 https:// 开头并带网站地址" in line
    assert [action for action, _, _ in history(outbox_path, case)] == ["open", "claim"]
    # Another responsible unit (here the county's 宣传部, which coordinates) may record the release.
    ok("respond", case, "--kind", "response", "--url", "https://www.qingfeng.gov.cn/hf/1", "--as", "李四")
    assert history(outbox_path, case)[-1] == ("respond", "李四", "清丰县委宣传部")


def test_a_case_is_assigned_only_to_a_unit_that_exists_and_only_by_a_supervisor(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {"level": Level.MAJOR_EMERGENCY, "county": "范县"})
    staff()
    ok("sweep", now="2026-11-23T09:31:00+08:00")  # unclaimed: escalated to the supervisors
    line = refused("reassign", case, "--to", "不存在的单位", "--as", "赵敏")
    assert "单位「不存在的单位」不存在：units.yaml 和 territory.yaml 里都没有这个单位" in line
    assert "是否指：范县政府办" in refused("reassign", case, "--to", "范县政府", "--as", "赵敏")
    # Nor can an account be made for it, so no one can claim in its name.
    assert "单位「不存在的单位」不存在" in refused(
        "user", "add", "路人乙", "--role", "unit", "--unit", "不存在的单位", "--as", "管理员"
    )
    assert "指定认领须由督办账号操作" in refused("reassign", case, "--to", "范县交通运输局", "--as", "张三")
    ok("user", "add", "吴强", "--role", "unit", "--unit", "范县交通运输局", "--as", "管理员")
    assert "已指定范县交通运输局认领" in ok("reassign", case, "--to", "范县交通运输局", "--as", "钱伟")
    assert "只有本案的认领单位可以认领（范县交通运输局）" in refused("claim", case, "--as", "张三")
    ok("claim", case, "--as", "吴强")


def test_closing_an_unclaimed_escalated_emergency_keeps_its_lapses_on_record(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {"level": Level.MAJOR_EMERGENCY, "county": "范县"})
    staff()
    ok("sweep", now="2026-11-23T09:31:00+08:00")  # claim missed at 09:30: escalated
    at = "2026-11-23T10:31:00+08:00"  # the first release (10:00) is missed too; no sweep since
    assert "没有名为「路人丙」的账号" in refused("close", case, "--by", "路人丙", "--note", "不用管", now=at)
    line = refused("close", case, "--as", "张三", "--note", "不用管", now=at)
    assert (
        "张三（责任单位，范县政府办）不能办结：只有认领本案的单位（尚无单位认领）回应后办结，或由督办办结"
        in line
    )
    line = refused("close", case, "--as", "赵敏", now=at)
    assert f"案件 {case}（逾期未认领）尚未回应：督办办结未回应的案件须写明理由" in line
    closed = ok("close", case, "--as", "赵敏", "--reason", "市里已统一发布通报", now=at)
    assert (
        f"已办结：案件 {case}（已办结）；逾期记录在案：认领（时限 2026-11-23 09:30）、首次发布（时限 2026-11-23 10:00）"
        in closed
    )
    # Still in the cases table, overdue, and both lapses count in the quarter.
    assert case in ok("cases", "--overdue", now=at)
    report = ok("report", "--quarter", "2026Q4", now=at)
    bulletin = {line.split()[0]: line.split()[1:] for line in report.splitlines() if line.startswith("范县")}
    assert bulletin["范县人力资源和社会保障局"] == ["1", "0", "0", "2", "0", "0"]
    assert bulletin["范县政府办"] == ["1", "0", "0", "1", "0", "0"]
    assert report.count(case) == 2
    assert "首次发布" in report
    assert history(outbox_path, case)[-1][:2] == ("close", "赵敏")


def test_an_answered_case_is_closed_by_the_unit_that_claimed_it(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    ok("claim", case, "--as", "王芳")
    line = refused("close", case, "--as", "王芳")
    assert f"案件 {case}（已认领）尚未回应完毕：责任单位须先回应再办结" in line
    ok("respond", case, "--kind", "回应", "--url", "https://www.qingfeng.gov.cn/hf/1", "--as", "王芳")
    assert "只有认领本案的单位（清丰县政府办）回应后办结" in refused("close", case, "--as", "李四")
    assert "已办结" in ok("close", case, "--as", "王芳")
    assert "已了结，不能再办结" in refused("close", case, "--as", "赵敏", "--reason", "再关一次")


def test_a_false_alarm_needs_a_supervisor_and_a_reason_and_counts_against_no_unit(outbox_path: Path) -> None:
    wrong, real = alerts(outbox_path, {"n": 1, "county": "南乐县"}, {"n": 2, "county": "清丰县"})
    staff()
    ok("sweep", now="2026-11-23T09:31:00+08:00")  # both unclaimed at 09:30: lapses on record
    assert "标记误报须由督办账号操作" in refused("false-alarm", wrong, "--reason", "非本地", "--as", "王芳")
    assert "标记误报须写明理由" in refused("false-alarm", wrong, "--reason", " ", "--as", "赵敏")
    marked = ok("false-alarm", wrong, "--reason", "系外省同名村，非本市", "--as", "赵敏")
    assert f"已标记误报：案件 {wrong}（误报）；不计入任何单位的考核" in marked
    report = ok("report", "--quarter", "2026Q4", now="2026-11-23T10:00:00+08:00")
    bulletin, rest = report.split("逾期记录")
    assert "南乐县" not in bulletin  # its units are not counted, lapse included
    assert "清丰县委宣传部" in bulletin
    lapses, false_alarms = rest.split("误报（不计入考核）")
    assert real in lapses
    assert wrong not in lapses
    assert wrong in false_alarms
    assert "系外省同名村，非本市" in false_alarms
    assert "赵敏" in false_alarms
    cases = ok("cases", "--all", now="2026-11-23T10:00:00+08:00")
    [row] = [n for n, line in enumerate(cases.splitlines()) if wrong in line]
    assert "误报" in cases.splitlines()[row + 1]
    assert wrong not in ok("cases", "--overdue", now="2026-11-23T10:00:00+08:00")


# -- the accounts themselves ------------------------------------------------------------------------------------


def test_accounts_are_added_by_an_administrator_with_a_role_and_a_unit_that_exist(outbox_path: Path) -> None:
    line = refused("user", "add", "王芳", "--role", "unit", "--unit", "清丰县政府办")
    assert "还没有管理员账号：请先创建第一个管理员（yuqing user add 姓名 --role admin）" in line
    assert "已添加账号：管理员（管理员）" in ok("user", "add", "管理员", "--role", "管理员")
    # Once there is one, accounts are made by an administrator only.
    assert "未指明操作账号" in refused("user", "add", "王芳", "--role", "unit", "--unit", "清丰县政府办")
    assert "角色「boss」不存在" in yuqing("user", "add", "王芳", "--role", "boss", "--as", "管理员").output
    assert "责任单位账号须用 --unit 指明所属单位" in refused(
        "user", "add", "王芳", "--role", "unit", "--as", "管理员"
    )
    line = refused("user", "add", "赵敏", "--role", "督办", "--unit", "清丰县政府办", "--as", "管理员")
    assert "督办账号须用 --unit 指明 市委宣传部 或 市政府办，收到 清丰县政府办" in line
    assert "账号名不能为空" in refused("user", "add", " ", "--role", "analyst", "--as", "管理员")
    assert "账号名「王 芳」不可用" in refused("user", "add", "王 芳", "--role", "analyst", "--as", "管理员")
    ok("user", "add", "王芳", "--role", "unit", "--unit", "清丰县政府办", "--as", "管理员")
    assert "账号「王芳」已存在" in refused("user", "add", "王芳", "--role", "duty", "--as", "管理员")
    line = refused("user", "disable", "管理员", "--as", "管理员")
    assert "是唯一启用的管理员" in line
    listed = ok("user", "list")
    assert re.search(r"王芳\s+责任单位\s+清丰县政府办\s+启用\s+2026-11-23 09:00 管理员", listed)
    assert re.search(r"管理员\s+管理员\s+-\s+启用\s+2026-11-23 09:00 本机初始化", listed)


def test_every_action_and_refusal_is_on_the_audit_trail_which_cannot_be_rewritten(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {})
    staff()
    refused("claim", case, "--as", "张三")
    ok("claim", case, "--as", "王芳")
    refused("user", "add", "王五", "--role", "admin", "--as", "王芳")
    outbox, workflow = desk(outbox_path)
    trail = [(e.account, e.action, e.outcome) for e in workflow.accounts.audit_trail()]
    assert trail[0] == ("本机初始化", "user_add", "done")
    assert trail[-3:] == [
        ("张三", "claim", "refused"),
        ("王芳", "claim", "done"),
        ("王芳", "user_add", "refused"),
    ]
    assert (
        "王芳（责任单位，清丰县政府办）不能管理账号"
        in workflow.accounts.audit_trail(account="王芳")[-1].detail
    )
    last = workflow.accounts.audit_trail(target="event:sina:1")[-1]
    assert (last.account, last.role, last.unit) == ("王芳", Role.UNIT, "清丰县政府办")
    assert workflow.accounts.verify_trail() is None
    workflow.close()
    outbox.close()
    # The database itself refuses to change or remove a row, whoever opens it.
    url = os.environ.get("YUQING_DB_URL") or f"sqlite:///{outbox_path}"
    behind_the_back = create_engine(url, poolclass=NullPool)
    for statement in (f"UPDATE audit SET account = '李四' WHERE id = {last.id}", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="审计记录只能追加"), behind_the_back.begin() as db:
            db.exec_driver_sql(statement)
    # With the guard dropped, a changed row breaks the chain.
    on = " ON audit" if behind_the_back.dialect.name == "postgresql" else ""
    with behind_the_back.begin() as db:
        db.exec_driver_sql(f"DROP TRIGGER audit_no_update{on}")
        db.exec_driver_sql("UPDATE audit SET detail = '' WHERE account = '张三'")
    behind_the_back.dispose()
    outbox, workflow = desk(outbox_path)
    tampered = workflow.accounts.verify_trail()
    assert tampered == next(e.id for e in workflow.accounts.audit_trail() if e.account == "张三")
    workflow.close()
    outbox.close()


def test_every_unit_routing_can_name_is_known_to_the_accounts() -> None:
    from alerts.routing import Router
    from config.models import unit_names

    office = load_config()
    known = unit_names(office.units, office.territory)
    router = Router(office)
    counties = [c.name for c in office.territory.counties]
    topics = [d.topic for d in office.units.departments]
    named: set[str] = set()
    for level in Level:
        for where in ([], *([c] for c in counties), counties[:2]):
            for topic in ([], *([t] for t in topics), topics[:2]):
                decision = router.route(where, topic, level)
                named.update(decision.first + decision.coordinate + decision.claim + decision.inform)
    assert named - set(known) == set()


# -- the workflow in Chinese, with short ids, at 80 columns -----------------------------------------------------


def test_response_kinds_are_taken_in_chinese_and_every_command_takes_the_short_id(outbox_path: Path) -> None:
    [case] = alerts(outbox_path, {"level": Level.MAJOR_EMERGENCY, "county": "范县"})
    staff()
    ok("claim", case, "--as", "张三")
    line = yuqing("respond", case, "--kind", "通报", "--url", "https://www.fanxian.gov.cn/1", "--as", "张三")
    assert line.exit_code == 2
    assert (
        "通报 不是回应方式；可选：首次发布（first_release）、新闻发布会（press_conference）、回应（response）"
        in (line.output)
    )
    refusal = refused(
        "respond", case, "--kind", "回应", "--url", "https://www.fanxian.gov.cn/1", "--as", "张三"
    )
    assert "重大突发事态的回应方式是首次发布、新闻发布会，不是回应" in refusal
    first = ok("respond", case, "--kind", "首次发布", "--url", "https://www.fanxian.gov.cn/1", "--as", "张三")
    assert f"已记录：案件 {case}（已首次发布，范县政府办）；下一时限：新闻发布会 2026-11-24 09:00" in first
    ok("extend", case, "--until", "2026-11-24 18:00", "--reason", "等待事故调查结论", "--as", "张三")
    ok("approve", case, "--deny", "--as", "赵敏")
    done = ok(
        "respond", case, "--kind", "新闻发布会", "--url", "https://www.fanxian.gov.cn/2", "--as", "张三"
    )
    assert f"已记录：案件 {case}（已回应，范县政府办）" in done
    ok("close", case, "--as", "张三")
    ok("false-alarm", case, "--reason", "核实为演练", "--as", "钱伟")
    actions = [action for action, _, _ in history(outbox_path, case)]
    assert actions == [
        "open",
        "claim",
        "respond",
        "request_extension",
        "deny_extension",
        "respond",
        "close",
        "false_alarm",
    ]
    # Any other string is no case; a short id is matched whole.
    assert "没有编号为 0000ffff 的案件" in refused("claim", "0000ffff", "--as", "张三")


def test_the_cases_table_at_80_columns_shows_whole_ids_and_units(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    long_units = [
        "市自然资源和规划局濮阳县分局",
        "濮阳经济技术开发区党工委宣传部",
        "濮阳县人力资源和社会保障局",
    ]
    alert = Alert(
        key="event:weibo_search:5012345678901234567@重大突发事态",
        post_id="weibo_search:5012345678901234567",
        event_id="event:weibo_search:5012345678901234567",
        level=Level.MAJOR_EMERGENCY,
        title="濮阳县一村庄耕地被违规占用建厂，村民称举报多次无人处理，现场视频在多个平台传播",
        url="https://m.weibo.cn/detail/5012345678901234567",
        source="微博",
        summary="",
        created_at=datetime.fromisoformat("2026-11-23T01:00:00+00:00"),  # 09:00 in Beijing
        first=long_units[:1],
        claim=long_units[1:],
        counties=["濮阳县"],
    )
    assert outbox.enqueue(alert)
    outbox.close()
    shared = {k: v for k, v in os.environ.items() if k == "YUQING_DB_URL"}  # the database under test
    env = office_env(tmp_path, YUQING_NOW="2026-11-23T01:40:00+00:00", COLUMNS="80", **shared)
    result = run_yuqing("cases", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "舆情案件（1 件，2026-11-23 09:40）" in lines[0]
    assert "…" not in result.stdout
    [row] = [n for n, line in enumerate(lines) if short_id(alert.event_id) in line]
    block = lines[row : row + 6]
    for unit in long_units:
        assert any(unit in line for line in block), unit
    assert "重大突发事态" in block[0]
    assert "逾期未认领" not in block[1]  # no sweep yet; the state is as it stands
    assert "认领 逾期" in block[0]
    assert any("09:30" in line for line in block)  # Beijing time, as duty staff read it
    assert max(cell_len(line) for line in lines) <= 80


def test_the_workflow_commands_speak_chinese() -> None:
    english = re.compile(r"\b[A-Za-z]{3,}(?: [A-Za-z]{2,}){1,}\b")
    allowed = {"Asia/Shanghai"}
    for command in (
        *("route", "claim", "respond", "extend", "approve", "reassign", "close", "false-alarm"),
        *("cases", "sweep", "report", "log", "serve"),
        "user add",
        "user list",
        "user disable",
    ):
        result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "用法：" in result.output
        # Left aside: the usage line (the runner's program name), commands, options, variables, files.
        text = re.sub(
            r"用法：.*|yuqing( [a-z-]+)+|--[a-z-]+|[A-Z_]{4,}|\S+\.yaml|[a-z_]+\|[a-z_|]+", "", result.output
        )
        found = [m for m in english.findall(text) if m not in allowed]
        assert not found, f"{command}: {found}"
