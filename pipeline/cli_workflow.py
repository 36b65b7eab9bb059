"""The responsibility-workflow commands of `yuqing`: route, claim, respond, extend, approve, reassign,
close, cases, sweep, report, log and serve. Registered on the main app in pipeline/cli.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alerts.calendar import SHANGHAI, Cadence, calendar_data_ends, calendar_warning
from alerts.outbox import Outbox
from alerts.workflow import ANSWERED, Case, DeadlineKind, Workflow, WorkflowError
from config import databases
from config.env import get_env
from config.errors import ConfigError
from config.loader import load_config
from config.models import OfficeConfig
from pipeline import clock

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _office() -> OfficeConfig:
    try:
        return load_config()
    except ConfigError as exc:
        raise _fail(str(exc), 2) from None


@contextmanager
def _workflow(*, reading: bool = False) -> Iterator[Workflow]:
    """`reading`: a command that only shows; where the outbox cannot be written it is read as it stands."""
    office = _office()
    path = get_env().outbox_path
    read_only = reading and (not path.exists() or not databases.writable(path))
    if read_only and path.exists():
        err.print(f"注意：{path} 只读，这里只有已立案的案件；新预警要等它可写时才立案", highlight=False)
    outbox = Outbox(path, realert=office.alerts.realert, read_only=read_only)
    workflow = Workflow(outbox, office, clock.now)
    try:
        yield workflow
    except WorkflowError as exc:
        raise _fail(str(exc)) from None
    finally:
        workflow.close()
        outbox.close()


def _local(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if moment else "-"


def _parse_time(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise _fail(f"{option} {text!r}: not a time; write it like 2026-11-26 18:00", 2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _outstanding(workflow: Workflow, case: Case) -> str:
    """The next deadline still to meet, or what is overdue."""
    now = workflow.now()
    pending = [
        d
        for d in workflow.deadlines(case.id)
        if d.status in ("open", "lapsed") and d.met_at is None and d.round == case.round
    ]
    if not pending:
        return "-"
    first = min(pending, key=lambda d: d.due_at)
    late = "（已逾期）" if first.due_at <= now else ""
    return f"{first.kind.value} {_local(first.due_at)}{late}"


def _said(case: Case, workflow: Workflow, what: str) -> None:
    owner = f"，{case.owner}" if case.owner else ""
    out.print(
        f"{what}：{case.id}（{case.state.label}{owner}）；下一时限：{_outstanding(workflow, case)}",
        highlight=False,
    )


# -- yuqing route ----------------------------------------------------------------------------------------


def route() -> None:
    """Who would receive each item: JSON lines of posts in, one JSON line out each.

    Each answer holds the responsible units, each recipient's roles and channels, the deliveries and
    every deadline, so an office can check its rules."""
    from pipeline.context import Context
    from pipeline.runner import OfflineRunner, run_json_lines

    office = _office()
    runner = OfflineRunner(Context(office=office, env=get_env()))
    cadence = Cadence.from_schedule(office.schedule)
    failures = 0
    for number, outcome in run_json_lines(sys.stdin, runner, "route"):
        if isinstance(outcome, str):
            failures += 1
            result = {"line": number, "error": outcome}
        else:
            result = _route_output(number, outcome, office, clock.now(), cadence)
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} line(s) could not be routed")


def _route_output(
    number: int, post: Any, office: OfficeConfig, now: datetime, cadence: Cadence
) -> dict[str, Any]:
    from alerts.dispatcher import routes
    from alerts.workflow import deadlines_for
    from pipeline.stages.alert import alert_from_post, warrants_alert

    analysis = post.analysis
    responsible = analysis.responsible
    why_not = warrants_alert(post, office.alerts.min_level)
    result: dict[str, Any] = {
        "line": number,
        "id": post.id,
        "level": analysis.severity.level.value if analysis.severity else None,
        "counties": list(analysis.territory.counties) if analysis.territory else [],
        "alert": why_not is None,
        "not_alerted_because": why_not,
        "responsible": {
            role: list(getattr(responsible, role, []) or [])
            for role in ("first", "claim", "coordinate", "inform", "reasons")
        },
        "recipients": [],
        "deliveries": [],
        "deadlines": {},
    }
    if why_not is not None:
        return result
    alert = alert_from_post(post, now)
    roles = {
        "first": alert.first,
        "claim": alert.claim,
        "coordinate": alert.coordinate,
        "inform": alert.inform,
    }
    result["recipients"] = [
        {
            "unit": unit,
            "roles": [role for role, units in roles.items() if unit in units],
            "channels": list(office.alerts.recipients.get(unit, [])),
        }
        for unit in alert.recipients()
    ]
    result["deliveries"] = [
        {"recipient": recipient, "channels": chain}
        for recipient, chain in routes(alert.recipients(), office.alerts)
    ]
    result["deadlines"] = {kind.value: due.isoformat() for kind, due in deadlines_for(alert, cadence).items()}
    return result


# -- acting on a case --------------------------------------------------------------------------------------


class ResponseKind(StrEnum):
    first_release = "first_release"
    press_conference = "press_conference"
    response = "response"


Key = Annotated[str, typer.Argument(help="the case: its event id, an alert key, or a part of the id")]
By = Annotated[str, typer.Option("--by", help="who acts (name, recorded)")]


def claim(
    key: Key,
    unit: Annotated[str, typer.Option("--unit", help="the unit claiming, as in units.yaml / territory.yaml")],
    by: By,
) -> None:
    """认领: a responsible unit takes the case (on time or late, both recorded)."""
    with _workflow() as workflow:
        _said(workflow.claim(key, unit=unit, by=by), workflow, "已认领")


def respond(
    key: Key,
    kind: Annotated[ResponseKind, typer.Option("--kind", help="first_release, press_conference or response")],
    by: By,
    url: Annotated[str, typer.Option("--url", help="where the release or response was published")],
    unit: Annotated[str | None, typer.Option("--unit", help="default: the unit that claimed")] = None,
) -> None:
    """回应: record a first release, a press conference or a response, with where it was published."""
    with _workflow() as workflow:
        case = workflow.respond(key, kind=DeadlineKind[kind.name.upper()], by=by, url=url, unit=unit)
        _said(case, workflow, "已记录")


def extend(
    key: Key,
    until: Annotated[str, typer.Option("--until", help="the new deadline, e.g. 2026-11-26 18:00")],
    reason: Annotated[str, typer.Option("--reason", help="why more time is needed")],
    by: By,
    unit: Annotated[str | None, typer.Option("--unit", help="default: the unit that claimed")] = None,
) -> None:
    """申请延期: ask for more time; it applies only once 市委宣传部 approves."""
    with _workflow() as workflow:
        case = workflow.request_extension(
            key, until=_parse_time(until, "--until"), reason=reason, by=by, unit=unit
        )
        _said(case, workflow, "已申请延期，待审批")


def approve(
    key: Key,
    by: By,
    unit: Annotated[str | None, typer.Option("--unit", help="default: 市委宣传部 (units.yaml)")] = None,
    deny: Annotated[bool, typer.Option("--deny", help="refuse the request instead")] = False,
) -> None:
    """审批延期: the supervisor approves (or, with --deny, refuses) a pending extension."""
    with _workflow() as workflow:
        case = workflow.decide_extension(key, by=by, unit=unit or workflow.city.propaganda, approve=not deny)
        _said(case, workflow, "不批准延期" if deny else "已批准延期")


def reassign(
    key: Key,
    to: Annotated[str, typer.Option("--to", help="the unit that must claim it")],
    by: By,
    unit: Annotated[str | None, typer.Option("--unit", help="default: 市委宣传部; or 市政府办")] = None,
    reason: Annotated[str, typer.Option("--reason")] = "",
) -> None:
    """指定认领: 市委宣传部 or 市政府办 names the unit that must claim the case."""
    with _workflow() as workflow:
        case = workflow.reassign(key, to=to, by=by, unit=unit or workflow.city.propaganda, reason=reason)
        _said(case, workflow, f"已指定{to}认领")


def close(
    key: Key,
    by: By,
    unit: Annotated[str | None, typer.Option("--unit")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """办结: close the case (it stays watched for resurgence for follow_up.watch_days)."""
    with _workflow() as workflow:
        _said(workflow.close_case(key, by=by, unit=unit, note=note), workflow, "已办结")


# -- what duty staff and supervisors read ------------------------------------------------------------------


def cases(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="only cases with a deadline passed and not met")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="closed and answered cases too")] = False,
) -> None:
    """The cases table: level, title, who must act, state, next deadline and what is overdue."""
    with _workflow(reading=True) as workflow:
        workflow.sync()
        late = workflow.overdue()
        shown = [
            c
            for c in workflow.cases()
            if (show_all or c.state not in ANSWERED or c.id in late) and (not overdue or c.id in late)
        ]
        title = "逾期案件" if overdue else "舆情案件"
        table = Table(title=f"{title}（{len(shown)} 件，{_local(workflow.now())}）")
        for column in ("事件", "级别", "标题", "责任单位", "状态", "下一时限", "逾期"):
            table.add_column(column)
        for case in sorted(shown, key=lambda c: (-c.level.rank, c.opened_at)):
            who = case.owner or "、".join(case.expected)
            lapsed = "、".join(f"{d.kind.value}({_local(d.due_at)[5:]})" for d in late.get(case.id, []))
            table.add_row(
                case.id,
                case.level.value,
                case.title[:30],
                who,
                case.state.label,
                _outstanding(workflow, case),
                lapsed or "-",
            )
        out.print(table)


def sweep() -> None:
    """Run the deadline sweep once now (what `serve` does every few minutes) and send its notices."""
    from pipeline.serve import Service

    service = Service(_office(), get_env())
    try:
        report = service.sweep()
    except WorkflowError as exc:
        raise _fail(str(exc)) from None
    out.print(
        f"时限检查：新案件 {report.opened} 件，已送达 {report.notified} 件，逾期升级 {report.escalated} 件，"
        f"回应逾期 {report.overdue} 项，提醒 {report.reminders} 条",
        highlight=False,
    )


def report(
    quarter: Annotated[str, typer.Option("--quarter", help="e.g. 2026Q4")],
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="also write the per-unit figures as CSV")
    ] = None,
) -> None:
    """The quarterly 通报: per unit, received, claimed in time, answered in time, overdue, extensions."""
    from alerts.records import BULLETIN_COLUMNS, assess, quarter_bounds, write_csv

    try:
        start, end, name = quarter_bounds(quarter)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    with _workflow(reading=True) as workflow:
        workflow.sync()
        assessment = assess(workflow, start, end, name)
    table = Table(title=f"{name}政务舆情认领回应情况通报")
    for column in BULLETIN_COLUMNS:
        table.add_column(column, justify="left" if column == "单位" else "right")
    for record in assessment.units:
        table.add_row(*(str(value) for value in record.row()))
    out.print(table)
    if assessment.lapses:
        lapses = Table(title="逾期记录（记录在案、纳入考核）")
        for column in ("事件", "标题", "事项", "时限", "应办单位", "后来办理"):
            lapses.add_column(column)
        for lapse in assessment.lapses:
            lapses.add_row(
                lapse.case_id,
                lapse.title[:24],
                lapse.kind.value,
                _local(lapse.due_at),
                "、".join(lapse.units),
                f"{_local(lapse.done_at)} {lapse.done_by}" if lapse.done_at else "未办",
            )
        out.print(lapses)
    else:
        out.print("本季度无逾期。")
    if csv_path:
        write_csv(assessment, csv_path)
        out.print(f"已导出 {csv_path}", highlight=False)


def log(
    day: Annotated[
        str | None, typer.Option("--date", help="the day, e.g. 2026-11-23 (default: today)")
    ] = None,
) -> None:
    """The daily 舆情日志: the day's items by level, with where each stands."""
    from alerts.records import daily_log, render_daily_log

    try:
        when = date.fromisoformat(day) if day else clock.now().astimezone(SHANGHAI).date()
    except ValueError:
        raise _fail(f"--date {day!r}: not a date; write it like 2026-11-23", 2) from None
    with _workflow(reading=True) as workflow:
        workflow.sync()
        sys.stdout.write(render_daily_log(when, daily_log(workflow, when), workflow.now()))


def serve(
    wait: Annotated[
        bool, typer.Option("--wait", help="if another instance runs, stand by and take over when it stops")
    ] = False,
) -> None:
    """Run the scheduler: patrols on the calendar's cadence, checkpoints, deadline sweep, 舆情日志."""
    from pipeline.serve import AlreadyServing
    from pipeline.serve import serve as run_service

    office = _office()
    try:
        run_service(office, get_env(), wait=wait, say=lambda line: out.print(line, highlight=False))
    except AlreadyServing as exc:
        raise _fail(str(exc), 3) from None


def calendar_line() -> tuple[bool, str]:
    """For `yuqing doctor`: (fine, detail) about the official holiday data."""
    warning = calendar_warning(clock.now().astimezone(SHANGHAI).date())
    return (warning is None, warning or f"official holidays and 调休 known to {calendar_data_ends()}")


COMMANDS = {
    "route": route,
    "claim": claim,
    "respond": respond,
    "extend": extend,
    "approve": approve,
    "reassign": reassign,
    "close": close,
    "cases": cases,
    "sweep": sweep,
    "report": report,
    "log": log,
    "serve": serve,
}
