"""Patrol sign-off (seed 001 第五条: 上午、下午、晚上三个时间节点): at each checkpoint the duty officer
signs off the patrol — the sources seen healthy, the alerts since the previous checkpoint reviewed (or a
zero report, 无新增涉本地舆情, when there were none) and a note — once per checkpoint a day. A checkpoint
left unsigned reminds the duty officer REMIND_DUTY_AFTER its time and the supervisors (市委宣传部、市政府办)
REMIND_SUPERVISORS_AFTER, once an office has begun to sign off (an office that never uses the console is
not chased for it). Sign-offs go into the 舆情日志 (alerts/records.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from alerts.accounts import AccountError, Role
from alerts.calendar import SHANGHAI, Cadence
from alerts.models import Alert, AlertKind
from alerts.notices import local
from alerts.repositories.signoffs import SignOffRepository
from classifiers.types import Level

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

    from alerts.workflow import Workflow

NAMES = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
REMIND_DUTY_AFTER = timedelta(minutes=30)
REMIND_SUPERVISORS_AFTER = timedelta(minutes=60)
SIGNERS = (Role.DUTY, Role.ADMIN)
ZERO_REPORT = "无新增涉本地舆情"


@dataclass(frozen=True, slots=True)
class SignOff:
    day: date
    checkpoint: str  # morning, afternoon, evening
    account: str
    signed_at: datetime
    healthy: list[str]
    failed: list[str]
    reviewed: list[str]  # the alert keys reviewed
    zero_report: bool
    note: str

    @property
    def name(self) -> str:
        return NAMES[self.checkpoint]

    def line(self) -> str:
        """One line of the 舆情日志."""
        seen = ZERO_REPORT if self.zero_report else f"审阅预警 {len(self.reviewed)} 条"
        health = f"信息源正常 {len(self.healthy)} 个" + (
            f"，异常：{'、'.join(self.failed)}" if self.failed else ""
        )
        note = f"；备注：{self.note}" if self.note else ""
        return f"{self.name}时间节点 {self.account} {self.signed_at.astimezone(SHANGHAI):%H:%M} 签收：{seen}；{health}{note}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    key: str
    at: datetime
    signoff: SignOff | None

    @property
    def name(self) -> str:
        return NAMES[self.key]

    def state(self, now: datetime) -> str:
        if self.signoff is not None:
            return "已签收"
        if now < self.at:
            return "未到"
        return "已超时未签收" if now >= self.at + REMIND_DUTY_AFTER else "待签收"


def _signoff(row: RowMapping) -> SignOff:
    return SignOff(
        day=date.fromisoformat(row["day"]),
        checkpoint=row["checkpoint"],
        account=row["account"],
        signed_at=datetime.fromisoformat(row["signed_at"]),
        healthy=json.loads(row["healthy"]),
        failed=json.loads(row["failed"]),
        reviewed=json.loads(row["reviewed"]),
        zero_report=bool(row["zero_report"]),
        note=row["note"],
    )


class SignOffs:
    """The sign-offs of one alerts database, on the workflow's connection and clock."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.records = SignOffRepository(workflow.outbox.database)
        self.cadence = Cadence.from_schedule(workflow.office.schedule)
        self.keys = [k for k, _ in sorted(workflow.office.schedule.checkpoints.items(), key=lambda i: i[1])]

    def of_day(self, day: date) -> list[SignOff]:
        return [_signoff(r) for r in self.records.of_days(day.isoformat(), day.isoformat())]

    def checkpoints(self, day: date) -> list[Checkpoint]:
        signed = {s.checkpoint: s for s in self.of_day(day)}
        times = self.cadence.checkpoint_times(day)
        return [Checkpoint(key, at, signed.get(key)) for key, at in zip(self.keys, times, strict=True)]

    def due(self, now: datetime) -> Checkpoint | None:
        """The latest checkpoint that has come today, whether signed or not; None before the first."""
        come = [c for c in self.checkpoints(now.astimezone(SHANGHAI).date()) if c.at <= now]
        return come[-1] if come else None

    def since_previous(self, checkpoint: Checkpoint) -> list[Alert]:
        """The event alerts to review at this checkpoint: those raised since the last earlier checkpoint
        that was signed off (the one just before, if none was in two days), less those reviewed already."""
        day = checkpoint.at.astimezone(SHANGHAI).date()
        before = [
            c
            for c in (*self.checkpoints(day - timedelta(days=1)), *self.checkpoints(day))
            if c.at < checkpoint.at
        ]
        signed = [c for c in before if c.signoff]
        start = (signed or before)[-1].at
        seen = {key for c in signed if c.signoff for key in c.signoff.reviewed}
        return [
            a
            for a in self.workflow.outbox.alerts(since=start)
            if a.about_event and start <= a.created_at <= self.workflow.now() and a.key not in seen
        ]

    def sign(
        self,
        actor: str,
        checkpoint: Checkpoint,
        *,
        healthy: list[str],
        failed: list[str],
        reviewed: list[str],
        zero_report: bool,
        note: str,
    ) -> SignOff:
        """Signs the checkpoint off as `actor`; AccountError says why not (audited either way)."""
        book = self.workflow.accounts
        target = f"{checkpoint.at.astimezone(SHANGHAI):%Y-%m-%d} {checkpoint.name}时间节点"
        with book.on_record(actor, "signoff", target), self.workflow.outbox.database.transaction():
            account = book.acting(actor)
            if account.role not in SIGNERS:
                raise AccountError(f"{account.describe()}不能签收巡查：巡查签收须由值班员或管理员账号操作")
            now = self.workflow.now()
            if now < checkpoint.at:
                raise AccountError(f"{target}（{local(checkpoint.at)}）还没到，不能提前签收")
            day = checkpoint.at.astimezone(SHANGHAI).date()
            done = next((s for s in self.of_day(day) if s.checkpoint == checkpoint.key), None)
            if done is not None:
                raise AccountError(
                    f"{target}已由{done.account}于 {local(done.signed_at)} 签收，每个时间节点只签收一次"
                )
            new = [a.key for a in self.since_previous(checkpoint)]
            if zero_report and new:
                raise AccountError(
                    f"上一时间节点以来有 {len(new)} 条新预警，不能报「{ZERO_REPORT}」：请逐条审阅后签收"
                )
            if not new and not zero_report:
                raise AccountError(f"上一时间节点以来没有新预警：请勾选「{ZERO_REPORT}」作零报告后签收")
            missing = [key for key in new if key not in reviewed]
            if not zero_report and missing:
                raise AccountError(
                    f"还有 {len(missing)} 条新预警未勾选为已审阅；没有新预警时请选「{ZERO_REPORT}」"
                )
            signoff = SignOff(
                day, checkpoint.key, account.name, now, healthy, failed, new, zero_report, note.strip()
            )
            self.records.add(
                day=day.isoformat(),
                checkpoint=checkpoint.key,
                account=account.name,
                signed_at=now.isoformat(),
                healthy=healthy,
                failed=failed,
                reviewed=new,
                zero_report=zero_report,
                note=signoff.note,
            )
            book.record(account, "signoff", target, detail=signoff.line())
        return signoff

    def remind(self, now: datetime) -> list[str]:
        """Raises the reminders of today's checkpoints left unsigned, each once; their keys."""
        if not self.records.of_days("0000-00-00", "9999-99-99"):
            return []  # this office has not begun to sign off patrols
        city = self.workflow.city
        raised = []
        for checkpoint in self.checkpoints(now.astimezone(SHANGHAI).date()):
            if checkpoint.signoff is not None:
                continue
            for after, whom, stage in (
                (REMIND_DUTY_AFTER, list(city.duty), "值班"),
                (REMIND_SUPERVISORS_AFTER, [city.propaganda, city.gov_office], "督办"),
            ):
                if now < checkpoint.at + after:
                    continue
                key = f"巡查签收:{checkpoint.at.isoformat()}:{stage}"
                title = f"{checkpoint.name} {checkpoint.at.astimezone(SHANGHAI):%H:%M} 时间节点的巡查超过 {int(after.total_seconds() // 60)} 分钟未签收"
                reminder = Alert(
                    key=key,
                    post_id="",
                    event_id=key,
                    level=Level.HOT_TOPIC,
                    title=title,
                    url="",
                    source="巡查签收",
                    summary=title,
                    created_at=now,
                    reasons=[f"请值班员在控制台「巡查签收」页签收（{local(checkpoint.at)} 时间节点）"],
                    first=whom,
                    kind=AlertKind.PATROL,
                )
                if self.workflow.outbox.enqueue(reminder):
                    raised.append(key)
        return raised
