"""Records for the assessment (附件2 第六条 纳入考核, 第十二条 按季度通报): per unit, items received,
claimed in time, answered in time, overdue and extensions; the lapses on record; the daily 舆情日志."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from alerts.calendar import SHANGHAI
from alerts.cases import RESPONSE_KINDS, Case, Deadline, DeadlineKind, State, short_id
from alerts.signoffs import SignOff, SignOffs
from alerts.workflow import Workflow
from classifiers.types import Level

FIELDS = (
    "unit",
    "received",
    "claimed_in_time",
    "answered_in_time",
    "overdue",
    "extensions_requested",
    "extensions_approved",
)
# The bulletin's columns, in the table and as the CSV's header: the offices read both.
BULLETIN_COLUMNS = ("单位", "收到", "按时认领", "按时回应", "逾期", "申请延期", "批准延期")
QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


@dataclass(slots=True)
class UnitRecord:
    unit: str
    received: int = 0
    claimed_in_time: int = 0
    answered_in_time: int = 0
    overdue: int = 0
    extensions_requested: int = 0
    extensions_approved: int = 0

    def row(self) -> tuple[str | int, ...]:
        return tuple(getattr(self, name) for name in FIELDS)


@dataclass(slots=True)
class LapseRecord:
    """One lapse on record: what was due, from whom, and when (if ever) it was done."""

    case_id: str
    title: str
    kind: DeadlineKind
    due_at: datetime
    units: list[str]
    done_at: datetime | None
    done_by: str | None

    @property
    def short_id(self) -> str:
        return short_id(self.case_id)


@dataclass(slots=True)
class FalseAlarm:
    """A case a supervisor found a false alarm: on record, counted against no unit."""

    case_id: str
    title: str
    units: list[str]
    at: datetime
    by: str
    reason: str

    @property
    def short_id(self) -> str:
        return short_id(self.case_id)


@dataclass(slots=True)
class Assessment:
    title: str
    start: datetime
    end: datetime
    units: list[UnitRecord]
    lapses: list[LapseRecord] = field(default_factory=list)
    false_alarms: list[FalseAlarm] = field(default_factory=list)


_QUARTER = re.compile(r"(\d{4})\s*[Qq]([1-4])")


def quarter_bounds(text: str) -> tuple[datetime, datetime, str]:
    """ "2026Q4" → its first moment, the first moment after it (Asia/Shanghai), and its Chinese name."""
    match = _QUARTER.fullmatch(text.strip())
    if not match:
        raise ValueError(f"--quarter {text}：不是季度，请写成 2026Q4 的样子")
    year, quarter = int(match[1]), int(match[2])
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=SHANGHAI)
    end = datetime(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1, tzinfo=SHANGHAI)
    return start, end, f"{year}年{QUARTER_NAMES[quarter]}"


def assess(workflow: Workflow, start: datetime, end: datetime, title: str) -> Assessment:
    """Every case opened in [start, end), counted for each unit it was put to. A case only a silence's
    held-back alerts ever stood for was never put to anyone and is not counted; one a supervisor found a
    false alarm (误报) is listed on its own and counted against no unit, its lapses included."""
    records: dict[str, UnitRecord] = {}
    untold = workflow.untold_cases()

    def unit(name: str) -> UnitRecord:
        return records.setdefault(name, UnitRecord(name))

    lapses: list[LapseRecord] = []
    false_alarms: list[FalseAlarm] = []
    for case in workflow.cases(opened_from=start, opened_to=end):
        if case.id in untold:
            continue
        if case.state is State.FALSE_ALARM:
            marked = next(h for h in reversed(workflow.history(case.id)) if h.action == "false_alarm")
            reason = marked.note.removeprefix("误报：")
            put_to = case.expected
            false_alarms.append(FalseAlarm(case.id, case.title, put_to, marked.at, marked.actor, reason))
            continue
        deadlines = workflow.deadlines(case.id)
        claims = [d for d in deadlines if d.kind is DeadlineKind.CLAIM]
        for name in dict.fromkeys(u for d in claims for u in d.units):
            unit(name).received += 1
        for name in {d.met_unit for d in claims if d.in_time and d.met_unit}:
            unit(name).claimed_in_time += 1
        answered_by = _answered_in_time(deadlines)
        if answered_by:
            unit(answered_by).answered_in_time += 1
        by_id = {d.id: d for d in deadlines}
        for lapse in workflow.lapses(case.id):
            for name in lapse.units:
                unit(name).overdue += 1
            done = by_id.get(lapse.deadline_id)
            lapses.append(
                LapseRecord(
                    case_id=case.id,
                    title=case.title,
                    kind=lapse.kind,
                    due_at=lapse.due_at,
                    units=lapse.units,
                    done_at=done.met_at if done else None,
                    done_by=done.met_unit if done else None,
                )
            )
        for extension in workflow.extensions(case.id):
            unit(extension.unit).extensions_requested += 1
            if extension.status == "approved":
                unit(extension.unit).extensions_approved += 1
    ordered = sorted(records.values(), key=lambda r: (-r.received, r.unit))
    return Assessment(
        title, start, end, ordered, sorted(lapses, key=lambda lapse: lapse.due_at), false_alarms
    )


def _answered_in_time(deadlines: list[Deadline]) -> str | None:
    """The unit that met every response deadline of the case in time, or None (late, or not yet)."""
    answers = [d for d in deadlines if d.kind in RESPONSE_KINDS and d.status != "cancelled"]
    if not answers or not all(d.in_time for d in answers):
        return None
    met = [(d.met_at, d.met_unit) for d in answers if d.met_at is not None]  # all of them, being in time
    return max(met, key=lambda pair: pair[0])[1]


def write_csv(assessment: Assessment, path: Path) -> None:
    # UTF-8 with a byte-order mark: the spreadsheet programs offices use then read the Chinese names right.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(BULLETIN_COLUMNS)
        writer.writerows(record.row() for record in assessment.units)


@dataclass(slots=True)
class LogEntry:
    case: Case
    deadlines: list[Deadline]


def concerns(case: Case, unit: str) -> bool:
    """Whether the case is one of the unit's: put to it to claim or to handle first, or claimed by it."""
    return unit in (*case.expected, *case.first, *case.claim, case.owner)


def daily_log(workflow: Workflow, day: date, unit: str | None = None) -> dict[Level, list[LogEntry]]:
    """The 舆情日志 of one day: the cases opened that day, by level (highest first), with their deadlines;
    with `unit`, that unit's own (seed 000 第八条: each department keeps its own)."""
    start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    by_level: dict[Level, list[LogEntry]] = {level: [] for level in sorted(Level, key=lambda lv: -lv.rank)}
    untold = workflow.untold_cases()
    for case in workflow.cases(opened_from=start, opened_to=start + timedelta(days=1)):
        if case.id in untold:
            continue  # held back by a silence: nobody was told, so it stands nowhere yet
        if unit is not None and not concerns(case, unit):
            continue
        by_level[case.level].append(LogEntry(case, workflow.deadlines(case.id)))
    return by_level


def deadline_summary(deadlines: list[Deadline], now: datetime) -> str:
    """One line of where each deadline stands: 认领按时 / 回应逾期 / 回应 11-25 09:00前."""
    parts = []
    for d in deadlines:
        if d.status == "cancelled":
            continue
        if d.met_at:
            parts.append(f"{d.kind.value}{'按时' if d.in_time else '逾期'}")
        elif d.status == "lapsed" or d.due_at <= now:
            parts.append(f"{d.kind.value}逾期")
        else:
            parts.append(f"{d.kind.value} {d.due_at.astimezone(SHANGHAI):%m-%d %H:%M}前")
    return "，".join(parts)


def daily_log_text(workflow: Workflow, day: date, unit: str | None = None) -> str:
    """The 舆情日志 of one day as filed: its cases by level, then the checkpoints' sign-offs (a unit's own
    log: its cases only)."""
    signoffs = SignOffs(workflow).of_day(day) if unit is None else ()
    return render_daily_log(day, daily_log(workflow, day, unit), workflow.now(), signoffs)


def render_daily_log(
    day: date, log: dict[Level, list[LogEntry]], now: datetime, signoffs: Sequence[SignOff] = ()
) -> str:
    total = sum(len(entries) for entries in log.values())
    lines = [f"{day:%Y年%m月%d日} 政务舆情日志（共 {total} 条）"]
    for level, entries in log.items():
        if not entries:
            continue
        lines.append("")
        lines.append(f"【{level.value}】{len(entries)} 条")
        for number, entry in enumerate(entries, start=1):
            case = entry.case
            who = case.owner or "、".join(case.expected)
            where = f"（{'、'.join(case.counties)}）" if case.counties else ""
            lines.append(
                f"{number}. 【{case.short_id}】{case.opened_at:%H:%M} {case.title}{where} 责任单位：{who}；"
                f"状态：{case.state.label}；{deadline_summary(entry.deadlines, now)}；{case.url}"
            )
    if signoffs:
        lines += ["", f"【巡查签收】{len(signoffs)} 次"]
        lines += [f"{number}. {s.line()}" for number, s in enumerate(signoffs, start=1)]
    return "\n".join(lines) + "\n"
