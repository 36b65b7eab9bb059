"""Claim and response, travelling in time with a clock the test sets: deadlines stored as absolute
times, reminders before them, escalation of unclaimed cases to 市委宣传部 and 市政府办 with the lapse on
record, extensions that need the supervisor, reopening on resurgence, and a sweep that does each thing
once however often it runs and whatever restarts in between. Real SQLite files, no stand-ins."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.accounts import Role
from alerts.cases import DeadlineKind, State, WorkflowError
from alerts.models import Alert, alert_key
from alerts.outbox import Outbox
from alerts.workflow import Workflow
from classifiers.types import Level
from config.loader import load_config
from config.models import OfficeConfig

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


class Clock:
    def __init__(self, start: str) -> None:
        self.moment = at(start)

    def __call__(self) -> datetime:
        return self.moment

    def set(self, text: str) -> None:
        self.moment = at(text)


@pytest.fixture(scope="module")
def office() -> OfficeConfig:
    return load_config()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "alerts.sqlite3"


class Desk:
    """One process's view: an outbox and the workflow over it, as `serve` or a CLI command opens them."""

    def __init__(self, path: Path, office: OfficeConfig, clock: Clock) -> None:
        self.outbox = Outbox(path)
        self.workflow = Workflow(self.outbox, office, clock)

    def notices(self) -> list[Alert]:
        return [a for a in self.outbox.alerts() if a.kind == "workflow"]

    def close(self) -> None:
        self.workflow.close()
        self.outbox.close()


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-11-23T09:00")


@pytest.fixture
def desk(path: Path, office: OfficeConfig, clock: Clock):
    desk = Desk(path, office, clock)
    yield desk
    desk.close()


def raise_alert(
    outbox: Outbox,
    when: datetime,
    *,
    n: int = 1,
    level: Level = Level.HOT_TOPIC,
    county: str = "清丰县",
    realert: int = 0,
    source: str = "大河报",
) -> Alert:
    event = f"event:sina:{n}"
    alert = Alert(
        key=alert_key(event, level, realert),
        realert=realert,
        post_id=f"sina:{n}",
        event_id=event,
        level=level,
        title=f"{county}一工地农民工讨薪（{n}）",
        url=f"https://news.sina.com.cn/c/doc-{n}.shtml",
        source=source,
        summary="数十名农民工称被拖欠工资近半年。",
        created_at=when,
        first=[f"{county}人力资源和社会保障局"],
        claim=[f"{county}委宣传部", f"{county}政府办"],
        coordinate=[f"{county}政府办", f"{county}委宣传部"],
        inform=["市网信办值班室"],
        counties=[county],
    )
    assert outbox.enqueue(alert)
    return alert


ADMIN = "管理员"


def person(workflow: Workflow, name: str, unit: str | None = None, role: Role = Role.UNIT) -> str:
    """The account `name` acting for `unit`, created by the office's administrator the first time; its
    name, which is what an action is given."""
    if workflow.accounts.get(ADMIN) is None:
        workflow.accounts.add(ADMIN, Role.ADMIN, None, by=None)
    if workflow.accounts.get(name) is None:
        workflow.accounts.add(name, role, unit, by=ADMIN)
    return name


def supervisor(workflow: Workflow, name: str, unit: str = "市委宣传部") -> str:
    return person(workflow, name, unit, Role.SUPERVISOR)


def deadline(workflow: Workflow, case_id: str, kind: DeadlineKind):
    return [d for d in workflow.deadlines(case_id) if d.kind is kind and d.status != "cancelled"][-1]


# -- a working day ------------------------------------------------------------------------------------------


def test_unclaimed_on_a_working_day_escalates_at_the_next_hourly_patrol(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    assert wf.sweep().opened == 1
    case = wf.find("event:sina:1")
    assert case.state is State.NEW
    assert deadline(wf, case.id, DeadlineKind.CLAIM).due_at == at("2026-11-23T09:30")
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).due_at == at("2026-11-25T09:00")

    clock.set("2026-11-23T09:19")
    assert wf.sweep().reminders == 0
    clock.set("2026-11-23T09:20")
    assert wf.sweep().reminders == 1  # ten minutes before, to the units that must claim
    [reminder] = desk.notices()
    assert "请于 2026-11-23 09:30 前认领" in reminder.summary
    assert {"清丰县委宣传部", "清丰县政府办"} <= set(reminder.recipients())

    clock.set("2026-11-23T09:29:59")
    assert wf.sweep().escalated == 0
    assert wf.find(case.id).state is State.NEW
    clock.set("2026-11-23T09:30")
    assert wf.sweep().escalated == 1
    case = wf.find(case.id)
    assert case.state is State.ESCALATED
    escalation = next(n for n in desk.notices() if "逾期未认领" in n.title)
    assert escalation.claim == ["市委宣传部", "市政府办"]
    assert {"市委宣传部", "市政府办", "市网信办值班室", "清丰县委宣传部"} <= set(escalation.recipients())
    [lapse] = wf.lapses(case.id)
    assert (lapse.kind, lapse.due_at) == (DeadlineKind.CLAIM, at("2026-11-23T09:30"))
    assert "清丰县委宣传部" in lapse.units
    last = wf.history(case.id)[-1]
    assert (last.action, last.actor, last.to_state) == ("escalate", "系统", State.ESCALATED)
    assert "转市委宣传部会同市政府办指定认领" in last.note


def test_every_transition_is_recorded_with_who_and_when(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    clock.set("2026-11-23T09:12")
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县委宣传部"))
    clock.set("2026-11-24T15:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/1")
    clock.set("2026-11-25T10:00")
    wf.close_case("sina:1", actor="王芳", note="已协调支付")
    history = wf.history("event:sina:1")
    assert [(h.action, h.to_state, h.actor, h.at) for h in history] == [
        ("open", State.NEW, "系统", at("2026-11-23T09:00")),
        ("claim", State.CLAIMED, "王芳", at("2026-11-23T09:12")),
        ("respond", State.RESPONDED, "王芳", at("2026-11-24T15:00")),
        ("close", State.CLOSED, "王芳", at("2026-11-25T10:00")),
    ]
    assert history[1].unit == "清丰县委宣传部"
    assert "按时认领" in history[1].note
    assert "https://www.qingfeng.gov.cn/hf/1" in history[2].note
    assert deadline(wf, "event:sina:1", DeadlineKind.RESPONSE).in_time


def test_wrong_moves_are_refused_with_the_reason(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    with pytest.raises(WorkflowError, match="尚未认领：先认领，再记录回应"):
        wf.respond(
            "sina:1", kind=DeadlineKind.RESPONSE, actor=person(wf, "王芳", "清丰县政府办"), url="https://x"
        )
    with pytest.raises(
        WorkflowError,
        match=r"张三（责任单位，范县政府办）不能认领：只有本案的认领单位可以认领.*须由市委宣传部或市政府办指定认领",
    ):
        wf.claim("sina:1", actor=person(wf, "张三", "范县政府办"))
    wf.claim("sina:1", actor="王芳")
    with pytest.raises(WorkflowError, match="已是已认领（清丰县政府办），不能再认领"):
        wf.claim("sina:1", actor=person(wf, "李四", "清丰县委宣传部"))
    with pytest.raises(WorkflowError, match="社会热点问题的回应方式是回应，不是首次发布"):
        wf.respond("sina:1", kind=DeadlineKind.FIRST_RELEASE, actor="王芳", url="https://x")
    with pytest.raises(WorkflowError, match="没有编号为 event:nowhere 的案件"):
        wf.claim("event:nowhere", actor="王芳")


# -- nights, weekends, holidays, 调休, and a year the calendar does not know ---------------------------------


@pytest.mark.parametrize(
    ("raised", "due", "quiet", "escalates"),
    [
        # Night: after the 22:00 patrol nobody patrols until the morning (night duty runs to 24:00).
        ("2026-11-23T22:10", "2026-11-24T08:30", "2026-11-24T08:29", "2026-11-24T08:30"),
        # Weekend: holiday duty, every two hours.
        ("2026-11-28T11:00", "2026-11-28T12:30", "2026-11-28T12:29", "2026-11-28T12:30"),
        # 国庆 holiday.
        ("2026-10-01T09:00", "2026-10-01T10:30", "2026-10-01T10:29", "2026-10-01T10:30"),
        # 调休 Saturday: a workday, hourly.
        ("2026-10-10T09:00", "2026-10-10T09:30", "2026-10-10T09:29", "2026-10-10T09:30"),
        # 2027, beyond the holiday data: the earlier of both cadences.
        ("2027-01-04T18:10", "2027-01-04T18:30", "2027-01-04T18:29", "2027-01-04T18:30"),
    ],
)
def test_claim_deadlines_and_escalation_follow_the_calendar(
    desk: Desk, clock: Clock, raised: str, due: str, quiet: str, escalates: str
) -> None:
    clock.set(raised)
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    assert deadline(wf, "event:sina:1", DeadlineKind.CLAIM).due_at == at(due)
    clock.set(quiet)
    assert wf.sweep().escalated == 0
    clock.set(escalates)
    assert wf.sweep().escalated == 1
    assert wf.find("sina:1").state is State.ESCALATED


def test_a_major_emergency_at_night_must_be_claimed_before_its_first_release_is_due(
    desk: Desk, clock: Clock
) -> None:
    clock.set("2026-11-23T22:30")
    raise_alert(desk.outbox, clock(), level=Level.MAJOR_EMERGENCY, county="范县")
    wf = desk.workflow
    wf.sweep()
    case = wf.find("sina:1")
    assert deadline(wf, case.id, DeadlineKind.FIRST_RELEASE).due_at == at("2026-11-23T23:30")
    assert deadline(wf, case.id, DeadlineKind.PRESS_CONFERENCE).due_at == at("2026-11-24T22:30")
    assert deadline(wf, case.id, DeadlineKind.CLAIM).due_at == at("2026-11-23T23:30")


# -- the sweep is idempotent and survives restarts ----------------------------------------------------------


def test_sweeping_twice_and_after_a_restart_does_each_thing_once(
    path: Path, office: OfficeConfig, clock: Clock
) -> None:
    first = Desk(path, office, clock)
    raise_alert(first.outbox, clock())
    raise_alert(first.outbox, clock(), n=2, county="南乐县")
    first.workflow.sweep()
    clock.set("2026-11-23T09:31")
    report = first.workflow.sweep()
    assert report.escalated == 2
    assert first.workflow.sweep().escalated == 0
    notices = len(first.notices())
    first.close()  # the process stops

    second = Desk(path, office, clock)  # and starts again
    again = second.workflow.sweep()
    assert (again.opened, again.escalated, again.reminders, again.notices) == (0, 0, 0, [])
    assert len(second.notices()) == notices
    for case_id in ("event:sina:1", "event:sina:2"):
        assert [h.action for h in second.workflow.history(case_id)].count("escalate") == 1
        assert len(second.workflow.lapses(case_id)) == 1
    second.close()


def test_deadlines_that_passed_while_nothing_ran_are_caught_up_once(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    desk.workflow.sweep()
    clock.set("2026-11-23T13:00")  # down from 09:00 to 13:00: the reminder window passed unseen
    report = desk.workflow.sweep()
    assert (report.escalated, report.reminders) == (1, 0)
    [lapse] = desk.workflow.lapses("event:sina:1")
    assert lapse.due_at == at("2026-11-23T09:30")
    assert lapse.lapsed_at == at("2026-11-23T13:00")


def test_two_sweepers_at_once_escalate_once(path: Path, office: OfficeConfig, clock: Clock) -> None:
    setup = Desk(path, office, clock)
    for n in range(1, 6):
        raise_alert(setup.outbox, clock(), n=n)
    setup.workflow.sync()
    setup.close()
    clock.set("2026-11-23T09:45")
    barrier = threading.Barrier(2)
    reports = []

    def run() -> None:  # each its own connections, as two processes would have
        desk = Desk(path, office, clock)
        barrier.wait()
        reports.append(desk.workflow.sweep())
        desk.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reports) == 2
    assert sum(r.escalated for r in reports) == 5
    check = Desk(path, office, clock)
    assert len([n for n in check.notices() if "逾期未认领" in n.title]) == 5
    assert len(check.workflow.lapses()) == 5
    check.close()


# -- escalation is followed by assignment ---------------------------------------------------------------------


def test_propaganda_assigns_an_escalated_case_and_the_new_unit_gets_its_own_deadline(
    desk: Desk, clock: Clock
) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    clock.set("2026-11-23T09:30")
    wf.sweep()
    with pytest.raises(
        WorkflowError, match="王芳（责任单位，清丰县政府办）不能指定认领：指定认领须由督办账号操作"
    ):
        wf.reassign("sina:1", to="清丰县住房和城乡建设局", actor=person(wf, "王芳", "清丰县政府办"))
    clock.set("2026-11-23T09:40")
    case = wf.reassign(
        "sina:1",
        to="清丰县住房和城乡建设局",
        actor=supervisor(wf, "赵敏", "市委宣传部"),
        reason="系工程款纠纷",
    )
    assert case.state is State.REASSIGNED
    assert deadline(wf, case.id, DeadlineKind.CLAIM).due_at == at("2026-11-23T10:30")
    with pytest.raises(WorkflowError, match="只有本案的认领单位可以认领（清丰县住房和城乡建设局）"):
        wf.claim("sina:1", actor=person(wf, "李四", "清丰县委宣传部"))
    clock.set("2026-11-23T10:05")
    case = wf.claim("sina:1", actor=person(wf, "孙丽", "清丰县住房和城乡建设局"))
    assert case.state is State.CLAIMED
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).units == ["清丰县住房和城乡建设局"]


# -- response deadlines, reminders and extensions --------------------------------------------------------------


def test_a_major_emergency_needs_a_first_release_in_an_hour_and_a_press_conference_in_a_day(
    desk: Desk, clock: Clock
) -> None:
    raise_alert(desk.outbox, clock(), level=Level.MAJOR_EMERGENCY, county="范县")
    wf = desk.workflow
    wf.sweep()
    clock.set("2026-11-23T09:10")
    wf.claim("sina:1", actor=person(wf, "李明", "范县政府办"))
    clock.set("2026-11-23T09:40")
    assert wf.sweep().reminders == 1
    assert any("请于 2026-11-23 10:00 前首次发布" in n.summary for n in desk.notices())
    clock.set("2026-11-23T09:55")
    case = wf.respond(
        "sina:1", kind=DeadlineKind.FIRST_RELEASE, actor="李明", url="https://weibo.com/fanxian/1"
    )
    assert case.state is State.FIRST_RELEASE
    clock.set("2026-11-24T09:01")
    report = wf.sweep()
    assert report.overdue == 1  # no press conference within 24 hours
    [lapse] = wf.lapses(case.id)
    assert (lapse.kind, lapse.units) == (DeadlineKind.PRESS_CONFERENCE, ["范县政府办"])
    assert any("新闻发布会逾期" in n.title for n in desk.notices())
    clock.set("2026-11-24T10:00")
    case = wf.respond(
        "sina:1", kind=DeadlineKind.PRESS_CONFERENCE, actor="李明", url="https://www.fanxian.gov.cn/xwfb"
    )
    assert case.state is State.RESPONDED
    assert "新闻发布会逾期" in wf.history(case.id)[-1].note


def test_an_extension_counts_only_once_the_supervisor_approves(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县政府办"))
    clock.set("2026-11-24T10:00")
    with pytest.raises(WorkflowError, match="申请延期须写明理由"):
        wf.request_extension("sina:1", until=at("2026-11-27T18:00"), reason=" ", actor="王芳")
    case = wf.request_extension(
        "sina:1", until=at("2026-11-27T18:00"), reason="需调取工程合同核实", actor="王芳"
    )
    assert case.state is State.EXTENSION_REQUESTED
    # Pending, the original 48 hours still apply.
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).due_at == at("2026-11-25T09:00")
    with pytest.raises(
        WorkflowError, match="王芳（责任单位，清丰县政府办）不能审批延期：审批延期须由督办账号操作"
    ):
        wf.decide_extension("sina:1", actor="王芳", approve=True)
    clock.set("2026-11-24T11:00")
    case = wf.approve_extension("sina:1", actor=supervisor(wf, "赵敏", "市委宣传部"))
    assert case.state is State.CLAIMED
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).due_at == at("2026-11-27T18:00")
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).original_due_at == at("2026-11-25T09:00")
    clock.set("2026-11-25T09:30")
    assert wf.sweep().overdue == 0  # the old deadline no longer applies
    clock.set("2026-11-27T16:00")
    assert wf.sweep().reminders == 1  # reminded before the new one
    clock.set("2026-11-27T17:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/2")
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).in_time
    [extension] = wf.extensions(case.id)
    assert (extension.status, extension.decided_by, extension.unit) == ("approved", "赵敏", "清丰县政府办")


def test_a_refused_extension_leaves_the_deadline_where_it_was(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县政府办"))
    wf.request_extension("sina:1", until=at("2026-11-27T18:00"), reason="需调取工程合同核实", actor="王芳")
    case = wf.deny_extension("sina:1", actor=supervisor(wf, "赵敏", "市委宣传部"))
    assert case.state is State.CLAIMED
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).due_at == at("2026-11-25T09:00")
    clock.set("2026-11-25T09:00:01")
    assert wf.sweep().overdue == 1


# -- follow-up: 回应—演化—新回应—再演化 ------------------------------------------------------------------------------


def answered(desk: Desk, clock: Clock) -> Workflow:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    wf.observe("event:sina:1", {"reposts": 300, "comments": 500, "likes": 200, "reads": 90000})
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县政府办"))
    clock.set("2026-11-24T09:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/3")
    return wf


def test_growth_after_the_response_reopens_the_case_with_new_deadlines(desk: Desk, clock: Clock) -> None:
    wf = answered(desk, clock)
    clock.set("2026-11-25T09:00")
    # Reads do not count, and 1000 → 1300 interactions is under the 50% threshold.
    assert (
        wf.observe("event:sina:1", {"reposts": 400, "comments": 700, "likes": 200, "reads": 900000}) is None
    )
    assert wf.find("sina:1").state is State.RESPONDED
    clock.set("2026-11-26T20:00")
    reason = wf.observe("event:sina:1", {"reposts": 900, "comments": 1400, "likes": 400, "reads": 900000})
    assert reason == "互动量由 1300 增至 2700（增长 1400）"
    case = wf.find("sina:1")
    assert (case.state, case.round, case.owner) == (State.REOPENED, 1, "清丰县政府办")
    assert deadline(wf, case.id, DeadlineKind.RESPONSE).due_at == at("2026-11-28T20:00")
    assert wf.history(case.id)[-1].note == reason
    [notice] = [n for n in desk.notices() if "重新打开" in n.title]
    assert "清丰县政府办" in notice.recipients()
    assert reason in notice.summary
    # The second response closes the second round.
    clock.set("2026-11-27T09:00")
    wf.respond("sina:1", kind=DeadlineKind.RESPONSE, actor="王芳", url="https://www.qingfeng.gov.cn/hf/4")
    assert wf.find("sina:1").state is State.RESPONDED


def test_new_negative_coverage_reopens_and_old_outlets_do_not(desk: Desk, clock: Clock) -> None:
    wf = answered(desk, clock)
    wf.observe("event:sina:1", None, ["大河报"])  # already carried it before the response
    assert wf.find("sina:1").state is State.RESPONDED
    clock.set("2026-11-25T08:00")
    assert wf.observe("event:sina:1", None, ["大河报", "澎湃新闻"]) == "出现新的负面报道：澎湃新闻"
    assert wf.find("sina:1").state is State.REOPENED


def test_the_outbox_re_telling_a_growing_event_reopens_an_answered_case(desk: Desk, clock: Clock) -> None:
    wf = answered(desk, clock)
    clock.set("2026-11-25T12:00")
    raise_alert(desk.outbox, clock(), realert=2)
    wf.sweep()
    case = wf.find("sina:1")
    assert case.state is State.REOPENED
    assert "事件持续发酵" in wf.history(case.id)[-1].note


def test_after_the_watch_the_event_is_left_alone(desk: Desk, clock: Clock) -> None:
    wf = answered(desk, clock)
    clock.set("2026-12-02T09:00")  # seven days after the response
    assert wf.observe("event:sina:1", {"reposts": 9000, "comments": 9000}, ["澎湃新闻"]) is None
    assert wf.find("sina:1").state is State.RESPONDED


def test_a_higher_level_before_the_response_tightens_the_deadlines(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    wf = desk.workflow
    wf.sweep()
    wf.claim("sina:1", actor=person(wf, "王芳", "清丰县政府办"))
    clock.set("2026-11-23T11:00")
    raise_alert(desk.outbox, clock(), level=Level.MAJOR_EMERGENCY)
    wf.sweep()
    case = wf.find("sina:1")
    assert case.level is Level.MAJOR_EMERGENCY
    assert deadline(wf, case.id, DeadlineKind.FIRST_RELEASE).due_at == at("2026-11-23T12:00")
    assert deadline(wf, case.id, DeadlineKind.PRESS_CONFERENCE).due_at == at("2026-11-24T11:00")
    assert not [d for d in wf.deadlines(case.id, status="open") if d.kind is DeadlineKind.RESPONSE]


def test_notices_never_open_cases_of_their_own(desk: Desk, clock: Clock) -> None:
    raise_alert(desk.outbox, clock())
    desk.workflow.sweep()
    clock.set("2026-11-23T09:30")
    desk.workflow.sweep()
    assert desk.notices()
    assert [c.id for c in desk.workflow.cases()] == ["event:sina:1"]
    assert desk.workflow.overdue(clock() + timedelta(minutes=1)).keys() == {"event:sina:1"}
