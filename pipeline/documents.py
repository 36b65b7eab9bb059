"""The records an office files, assembled from everything they report on: the cases and sign-offs of the
alerts database, each source's health, and the stored posts. The documents themselves are laid out by
alerts/documents.py; this is where the command line and the console get them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from alerts.calendar import SHANGHAI
from alerts.cases import HISTORY_LABELS, Deadline, DeadlineKind
from alerts.documents import (
    DeadlineRecord,
    EventPost,
    Handling,
    SourceLine,
    bulletin_docx,
    daily_log_docx,
    review_docx,
    special_report_docx,
)
from alerts.models import Alert, AlertKind
from alerts.records import Assessment, daily_log
from alerts.signoffs import SignOffs
from alerts.workflow import Workflow
from classifiers.types import Level
from config.env import Env
from pipeline.events import EventStore
from pipeline.health import source_verdicts
from pipeline.items import source_name
from pipeline.store import open_store


def source_lines(env: Env, workflow: Workflow) -> list[SourceLine]:
    """Each configured source's health as a log reports it: 正常, or 故障/注意 with the reason."""
    lines = []
    for verdict in source_verdicts(env, workflow.office, workflow.now()):
        if not verdict["configured"]:
            continue
        if verdict["status"] == "ok":
            said = "正常"
        else:
            said = f"{'故障' if verdict['status'] == 'fail' else '注意'}：{verdict['reason']}"
        lines.append(SourceLine(verdict["label"], said))
    return lines


def daily_log_document(workflow: Workflow, env: Env, day: date, unit: str | None = None) -> bytes:
    """The day's 舆情日志 as a Word document (needs the territory, units and sources config loaded); with
    `unit`, that unit's own log of its own cases, issued by it."""
    office = workflow.office
    return daily_log_docx(
        office=office.territory.city if unit is None else unit,
        issuer=office.units.city_units.cyberspace if unit is None else unit,
        day=day,
        log=daily_log(workflow, day, unit),
        checkpoints=SignOffs(workflow).checkpoints(day) if unit is None else None,
        sources=source_lines(env, workflow) if unit is None else None,
        now=workflow.now(),
    )


# What each deadline asks of the units, in the words of the seeds (濮政办〔2018〕63号 and its 附件2).
DUTIES = {
    DeadlineKind.CLAIM: "责任单位在{due}前认领",
    DeadlineKind.FIRST_RELEASE: "在{due}前发布权威信息（首次发布）",
    DeadlineKind.PRESS_CONFERENCE: "在{due}前举行新闻发布会",
    DeadlineKind.RESPONSE: "在{due}前作出回应",
}
OFFICIAL = ("official_media", "government")
# Where a post is the press speaking (a portal's article), not a netizen (a forum, Weibo, a message board).
NEWS = frozenset({"sina", "people", "ifeng", "netease", "sohu"})


def _standing(deadline: Deadline, now: datetime) -> str:
    if deadline.met_at is not None:
        return f"{deadline.met_at.astimezone(SHANGHAI):%m-%d %H:%M} 完成，{'按时' if deadline.in_time else '逾期'}"
    if deadline.status == "lapsed" or deadline.due_at <= now:
        return "已逾期，尚未完成"
    return "尚未到期"


def special_report_document(workflow: Workflow, env: Env, event_id: str) -> bytes | None:
    """The event's 专报 as a Word document; None when the event is not known."""
    events = EventStore(env.events_path)
    try:
        event_id = events.current(event_id)  # an event merged into another is reported as that one
        listed = events.posts_of(event_id)
        totals = events.totals(event_id) if listed else None
    finally:
        events.close()
    if not listed or totals is None:
        return None
    store = open_store(env, read_only=True)
    try:
        docs = [doc for post_id, _, _ in listed if (doc := store.get(post_id))]
    finally:
        store.close()
    posts = [_event_post(doc) for doc in docs]
    now = workflow.now()
    handling = None
    duties: list[str] = []
    for alert in workflow.outbox.alerts():
        owner = workflow.records.case_of_alert(alert.key) if alert.event_id == event_id else None
        case = workflow.get(owner) if owner else None
        if case is None:
            continue
        deadlines = [d for d in workflow.deadlines(case.id) if d.status != "cancelled"]
        handling = Handling(
            ref=f"案件 {case.short_id}（{case.level.value}）",
            state=case.state.label,
            units=(case.owner and [case.owner]) or list(case.expected),
            steps=[
                (
                    h.at,
                    HISTORY_LABELS.get(h.action, h.action),
                    h.actor + (f"·{h.unit}" if h.unit else ""),
                    h.note,
                )
                for h in workflow.history(case.id)
            ],
            deadlines=[(d.kind.value, d.due_at, _standing(d, now)) for d in deadlines],
        )
        duties = [
            DUTIES[d.kind].format(due=f"{d.due_at.astimezone(SHANGHAI):%m月%d日%H时%M分}") for d in deadlines
        ]
        break
    office = workflow.office
    return special_report_docx(
        office=office.territory.city,
        issuer=office.units.city_units.cyberspace,
        event_id=event_id,
        level=totals.level.value if totals.level else None,
        counties=totals.counties,
        posts=posts,
        handling=handling,
        duties=duties,
        now=now,
    )


def _event_post(doc: dict[str, Any]) -> EventPost:
    analysis = doc.get("analysis") or {}
    counts = doc.get("counts") or {}
    return EventPost(
        id=doc["id"],
        source=source_name(doc.get("source")),
        media=doc.get("media"),
        author=doc.get("author"),
        title=doc.get("title"),
        text=doc.get("text") or "",
        url=doc.get("url") or "",
        published_at=datetime.fromisoformat(doc["published_at"]),
        polarity=analysis.get("polarity"),
        reach=sum(int(counts.get(k) or 0) for k in ("comments", "reposts", "likes")),
        official=doc.get("author_kind") in OFFICIAL
        or (doc.get("source") in NEWS and "留言板" not in (doc.get("media") or "")),
    )


def bulletin_document(workflow: Workflow, assessment: Assessment) -> bytes:
    """The quarterly 通报 of `assessment` as a Word document, its appendix every case of the period."""
    untold = workflow.untold_cases()
    cases = [
        case
        for case in workflow.cases(opened_from=assessment.start, opened_to=assessment.end)
        if case.id not in untold
    ]
    office = workflow.office
    return bulletin_docx(
        office=office.territory.city,
        issuer=office.units.city_units.cyberspace,
        assessment=assessment,
        cases=cases,
        timelines={case.id: workflow.history(case.id) for case in cases},
        categories={case.id: _categories(workflow, case.alert_key) for case in cases},
        now=workflow.now(),
    )


def review_document(workflow: Workflow, env: Env, event_id: str) -> bytes | None:
    """The 总结评估 of the event's handling as a Word document; None when the event is not known."""
    events = EventStore(env.events_path)
    try:
        event_id = events.current(event_id)  # an event merged into another is reviewed as that one
        listed = events.posts_of(event_id)
    finally:
        events.close()
    if not listed:
        return None
    store = open_store(env, read_only=True)
    try:
        posts = [_event_post(doc) for post_id, _, _ in listed if (doc := store.get(post_id))]
    finally:
        store.close()
    raised = sorted(
        (a for a in workflow.outbox.alerts() if a.event_id == event_id), key=lambda a: a.created_at
    )
    handling, records = None, []
    for alert in raised:
        owner = workflow.records.case_of_alert(alert.key)
        case = workflow.get(owner) if owner else None
        if case is None:
            continue
        handling = Handling(
            ref=f"案件 {case.short_id}",
            state=case.state.label,
            units=[case.owner] if case.owner else list(case.expected),
            steps=[
                (
                    h.at,
                    HISTORY_LABELS.get(h.action, h.action),
                    h.actor + (f"·{h.unit}" if h.unit else ""),
                    h.note,
                )
                for h in workflow.history(case.id)
            ],
            deadlines=[],
        )
        records = [
            DeadlineRecord(d.kind.value, d.due_at, d.met_at, d.met_unit, d.in_time)
            for d in workflow.deadlines(case.id)
            if d.status != "cancelled"
        ]
        break
    first = min(posts, key=lambda p: p.published_at) if posts else None
    office = workflow.office
    return review_docx(
        office=office.territory.city,
        issuer=office.units.city_units.cyberspace,
        title=(first.title or first.text[:30]) if first else event_id,
        posts=posts,
        alerts=[(a.created_at, a.level.value) for a in raised],
        handling=handling,
        deadlines=records,
        now=workflow.now(),
    )


def file_daily_logs(workflow: Workflow, env: Env, day: date) -> list[Alert]:
    """The day's 舆情日志 filed as Word documents under `<data>/daily/<day>/`: the office's, and each unit's
    own for the units that had cases that day. Returned as records to send (seed 000 第八条): each unit's
    log to the unit, the office's to its duty staff, every one copied to 市委宣传部 and 市政府办."""
    folder = env.data_dir / "daily" / f"{day:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    city = workflow.office.units.city_units
    copies = [city.propaganda, city.gov_office]
    log = daily_log(workflow, day)
    units = list(
        dict.fromkeys(
            unit
            for entries in log.values()
            for entry in entries
            for unit in (
                *entry.case.expected,
                *entry.case.first,
                *([entry.case.owner] if entry.case.owner else []),
            )
        )
    )
    filed: list[Alert] = []
    for unit in [None, *units]:
        name = f"{unit or workflow.office.territory.city}政务舆情日志-{day:%Y%m%d}.docx"
        path = folder / name
        path.write_bytes(daily_log_document(workflow, env, day, unit))
        cases = sum(len(e) for e in (daily_log(workflow, day, unit) if unit else log).values())
        told = [unit] if unit else list(city.duty)
        filed.append(
            Alert(
                key=f"log:{day:%Y-%m-%d}:{unit or 'office'}",
                post_id="",
                event_id="log",
                level=Level.GENERAL,
                title=f"{day.month}月{day.day}日{unit or workflow.office.territory.city}政务舆情日志",
                url="",
                source="舆情日志",
                summary=f"当日 {cases} 件",
                created_at=workflow.now(),
                reasons=[
                    f"当日新增涉本地政务舆情 {cases} 件" if cases else "当日无新增涉本地政务舆情（零报告）",
                    f"日志全文见附件（{name}），也可在控制台下载",
                ],
                inform=list(dict.fromkeys([*told, *copies])),
                kind=AlertKind.RECORD,
                attachment=str(path),
            )
        )
    return filed


def _categories(workflow: Workflow, alert_key: str) -> list[str]:
    """The rule categories the case's alert matched (its 类别 in the 通报's trends)."""
    alert = workflow.outbox.alert(alert_key)
    return list(alert.categories) if alert else []
