"""Patrol sign-off on the alerts database, on SQLite and PostgreSQL: one per checkpoint a day by duty
staff, the alerts since the previous checkpoint reviewed or a zero report only when there were none, the
reminders of an unsigned checkpoint (duty staff after 30 minutes, supervisors after 60, each once, and
only once an office signs off at all), and the sign-offs in the 舆情日志."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.accounts import AccountError, Role
from alerts.models import AlertKind
from alerts.outbox import Outbox
from alerts.records import daily_log_text
from alerts.signoffs import SignOffs
from alerts.workflow import Workflow
from classifiers.types import Level
from config.loader import load_config
from tests.alerts.conftest import make_alert
from tests.alerts.test_workflow import Clock, at, person

pytestmark = pytest.mark.usefixtures("alerts_backend")


@pytest.fixture
def desk(tmp_path: Path):
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    clock = Clock("2026-11-23T08:50")
    workflow = Workflow(outbox, load_config(), clock)
    try:
        yield workflow, clock
    finally:
        workflow.close()
        outbox.close()


def sign(book: SignOffs, who: str, now, **given):
    options = {
        "healthy": ["新浪新闻"],
        "failed": ["微博搜索"],
        "reviewed": [],
        "zero_report": False,
        "note": "",
    }
    return book.sign(who, book.due(now), **{**options, **given})


def test_a_checkpoint_is_signed_once_by_duty_staff_with_every_new_alert_reviewed(desk) -> None:
    workflow, clock = desk
    duty = person(workflow, "李娜", role=Role.DUTY)
    unit = person(workflow, "王芳", "清丰县政府办")
    book = SignOffs(workflow)
    assert [(c.name, c.state(clock())) for c in book.checkpoints(clock().date())] == [
        ("上午", "待签收"),
        ("下午", "未到"),
        ("晚上", "未到"),
    ]
    raised = make_alert(1, Level.SENSITIVE, at=at("2026-11-23T08:45"))
    assert workflow.outbox.enqueue(raised)
    old = make_alert(2, Level.HOT_TOPIC, at=at("2026-11-22T20:00"))  # before last night's checkpoint
    assert workflow.outbox.enqueue(old)
    assert [a.key for a in book.since_previous(book.due(clock()))] == [raised.key]

    with pytest.raises(AccountError, match="须由值班员或管理员"):
        sign(book, unit, clock(), reviewed=[raised.key])
    with pytest.raises(AccountError, match="有 1 条新预警，不能报「无新增涉本地舆情」"):
        sign(book, duty, clock(), zero_report=True)
    with pytest.raises(AccountError, match="还有 1 条新预警未勾选"):
        sign(book, duty, clock())
    done = sign(book, duty, clock(), reviewed=[raised.key], note="微博搜索登录失效，已通知技术人员")
    assert (done.account, done.reviewed, done.zero_report) == ("李娜", [raised.key], False)
    with pytest.raises(AccountError, match="已由李娜于 2026-11-23 08:50 签收"):
        sign(book, duty, clock(), reviewed=[raised.key])
    assert book.checkpoints(clock().date())[0].state(clock()) == "已签收"

    # Every attempt is on the audit trail, the refusals too.
    trail = [(e.account, e.outcome) for e in workflow.accounts.audit_trail() if e.action == "signoff"]
    assert trail == [
        ("王芳", "refused"),
        ("李娜", "refused"),
        ("李娜", "refused"),
        ("李娜", "done"),
        ("李娜", "refused"),
    ]

    clock.set("2026-11-23T14:40")
    with pytest.raises(AccountError, match="请勾选「无新增涉本地舆情」作零报告"):
        sign(book, duty, clock())  # nothing new, and no zero report said
    afternoon = sign(book, duty, clock(), zero_report=True)  # nothing new since 08:30's: a zero report
    assert afternoon.zero_report

    log = daily_log_text(workflow, clock().date())
    assert "【巡查签收】2 次" in log
    assert (
        "1. 上午时间节点 李娜 08:50 签收：审阅预警 1 条；信息源正常 1 个，异常：微博搜索；备注：微博搜索登录失效"
        in log
    )
    assert "2. 下午时间节点 李娜 14:40 签收：无新增涉本地舆情" in log


def test_an_unsigned_checkpoint_reminds_duty_staff_then_the_supervisors_once(desk) -> None:
    workflow, clock = desk
    duty = person(workflow, "李娜", role=Role.DUTY)
    clock.set("2026-11-23T09:40")
    # An office that has never signed off is not chased.
    assert workflow.sweep().notices == []
    book = SignOffs(workflow)
    sign(book, duty, clock(), zero_report=True)

    clock.set("2026-11-23T14:59")  # the afternoon checkpoint, 14:30, 29 minutes ago
    assert workflow.sweep().notices == []
    clock.set("2026-11-23T15:00")
    [to_duty] = workflow.sweep().notices
    clock.set("2026-11-23T15:30")
    [to_supervisors] = workflow.sweep().notices
    assert workflow.sweep().notices == []  # each once
    told = {a.key: a for a in workflow.outbox.alerts() if a.kind is AlertKind.PATROL}
    assert told[to_duty].first == ["市网信办值班室"]
    assert told[to_supervisors].first == ["市委宣传部", "市政府办"]
    assert told[to_duty].subject() == "【巡查签收】下午 14:30 时间节点的巡查超过 30 分钟未签收"
    assert "下午 14:30 时间节点的巡查超过 60 分钟未签收" in told[to_supervisors].render()
