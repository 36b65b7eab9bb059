"""The wording of what the workflow tells people about a case: reminders before a deadline, lapses and
escalations after it, and a reopened case. Pure: each function makes the notice as an alert, and
alerts/workflow.py raises it through the outbox like any other alert, exactly once per key."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.calendar import SHANGHAI
from alerts.cases import Case, Deadline, DeadlineKind
from alerts.models import Alert, AlertKind
from classifiers.types import Level
from config.models import CityUnits


def local(moment: datetime) -> str:
    """A time as people read it: Beijing time to the minute."""
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def duration(span: timedelta) -> str:
    """A time left, in hours and minutes (` 2 小时 5 分钟`)."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return (f" {hours} 小时" if hours else "") + (f" {minutes} 分钟" if minutes or not hours else "")


def notice_key(case_id: str, round_: int, what: str, *parts: object) -> str:
    """The key of a notice about a case: the case, its round, what it says, and what makes it one of a
    kind (the deadline, its due time, the reminder's lead). Raised once per key, so each is told once."""
    # The leading word keeps the keys of notices already raised the same across upgrades.
    return ":".join(["工作流", case_id, str(round_), what, *(str(p) for p in parts)])


def notice(
    case: Case,
    *,
    key: str,
    title: str,
    summary: str,
    created_at: datetime,
    level: Level | None = None,
    first: list[str] | None = None,
    claim: list[str] | None = None,
    coordinate: list[str] | None = None,
    inform: list[str] | None = None,
    reasons: list[str] | None = None,
) -> Alert:
    """A notice about `case`, told like an alert of the case's event and level. `created_at` is the start
    of the case's round, so the deadlines the message lists are the round's."""
    return Alert(
        key=key,
        post_id=case.post_id,
        event_id=case.id,
        level=level or case.level,
        title=title,
        url=case.url,
        source=case.source,
        summary=summary,
        created_at=created_at,
        reasons=reasons or [],
        first=first if first is not None else list(case.first),
        coordinate=coordinate or [],
        claim=claim or [],
        inform=inform or [],
        counties=list(case.counties),
        kind=AlertKind.WORKFLOW,
    )


def reopened(case: Case, reason: str, dues: list[Deadline], city: CityUnits) -> Alert:
    """The case was answered and the event flared up again: the units answer once more, by `dues`."""
    due_text = "；".join(f"{d.kind.value}时限 {local(d.due_at)}" for d in dues)
    return notice(
        case,
        key=notice_key(case.id, case.round, "重新打开"),
        title=f"【舆情反弹，重新打开】{case.title}",
        summary=f"回应后舆情再次发酵：{reason}。请再次回应：{due_text}。",
        created_at=case.round_started_at,
        first=case.answerable,
        coordinate=[city.propaganda, city.gov_office],
        inform=list(city.duty),
        reasons=[reason],
    )


def claim_lapsed(case: Case, deadline: Deadline, city: CityUnits) -> Alert:
    """Nobody claimed in time: 市委宣传部 with 市政府办 must name the unit that claims."""
    units = deadline.units
    return notice(
        case,
        key=notice_key(case.id, deadline.round, "认领逾期", deadline.id),
        title=f"【逾期未认领，请指定认领】{case.title}",
        summary=(
            f"认领时限 {local(deadline.due_at)} 已过，{'、'.join(units)}未认领。"
            f"请{city.propaganda}会同{city.gov_office}指定认领；逾期已记录在案、纳入考核。"
        ),
        created_at=case.round_started_at,
        claim=[city.propaganda, city.gov_office],
        inform=[*city.duty, *units],
        reasons=["附件2 第六条：逾期未认领的，由市委宣传部门会同市政府办指定认领并记录在案、纳入考核"],
    )


def response_lapsed(case: Case, deadline: Deadline, city: CityUnits) -> Alert:
    """A response deadline passed unmet: the units it was held against are told it is on record."""
    units = deadline.units
    kind = deadline.kind.value
    return notice(
        case,
        key=notice_key(case.id, deadline.round, f"{kind}逾期", deadline.id),
        title=f"【{kind}逾期】{case.title}",
        summary=f"{kind}时限 {local(deadline.due_at)} 已过，{'、'.join(units)}尚未{kind}；逾期已记录在案。",
        created_at=case.round_started_at,
        first=units,
        coordinate=[city.propaganda, city.gov_office],
        inform=list(city.duty),
    )


def lapsed(case: Case, deadline: Deadline, city: CityUnits) -> Alert:
    """What a lapse of `deadline` tells: an escalation for a claim, an overdue notice for a response."""
    if deadline.kind is DeadlineKind.CLAIM:
        return claim_lapsed(case, deadline, city)
    return response_lapsed(case, deadline, city)


def escalation_note(deadline: Deadline, city: CityUnits) -> str:
    """The case history's line for an unclaimed case handed to the supervisors."""
    return (
        f"认领时限 {local(deadline.due_at)} 已过，{'、'.join(deadline.units)}未认领；"
        f"转{city.propaganda}会同{city.gov_office}指定认领"
    )


def overdue_note(deadline: Deadline) -> str:
    """The case history's line for a response deadline passed unmet."""
    return f"{deadline.kind.value}时限 {local(deadline.due_at)} 已过，{'、'.join(deadline.units)}逾期"


def reminder(case: Case, deadline: Deadline, lead: int, now: datetime) -> Alert:
    """`lead` minutes (or less) before `deadline`: whoever it is held against is reminded."""
    kind = deadline.kind.value
    # The due time is part of the key: an approved extension gets reminders of its own.
    due = f"{deadline.due_at.astimezone(SHANGHAI):%Y%m%d%H%M}"
    claiming = deadline.kind is DeadlineKind.CLAIM
    return notice(
        case,
        key=notice_key(case.id, deadline.round, f"{kind}提醒", deadline.id, due, lead),
        title=f"【{kind}提醒】{case.title}",
        summary=f"请于 {local(deadline.due_at)} 前{kind}（还有{duration(deadline.due_at - now)}）。",
        created_at=case.round_started_at,
        first=list(case.first) if claiming else deadline.units,
        claim=deadline.units if claiming else [],
    )
