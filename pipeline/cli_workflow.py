"""The responsibility-workflow commands of `yuqing`: route, claim, respond, extend, approve, reassign,
close, cases, sweep, report, log and serve. Registered on the main app in pipeline/cli.py."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
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
from alerts.silences import HELD, Silence, longest
from alerts.workflow import ANSWERED, Case, DeadlineKind, Workflow, WorkflowError
from config import databases
from config.env import get_env
from config.errors import ConfigError
from config.loader import ALL, load_config
from config.models import OfficeConfig
from pipeline import clock
from pipeline.userpaths import user_path

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


# The files each command reads, and only those, so a mistake in another file does not stop it. Cases
# need the city's units, the schedule's deadlines and alerts.yaml's silence limits (a held alert opens no
# case); `route` runs the analysis (rules, places, departments, severity) and shows channels and deadlines.
WORKFLOW = frozenset({"units", "schedule", "alerts"})

ROUTE = ALL - {"sources"}


def _office(only: frozenset[str]) -> OfficeConfig:
    try:
        return load_config(only=only)
    except ConfigError as exc:
        raise _fail(str(exc), 2) from None


@contextmanager
def _workflow(*, reading: bool = False) -> Iterator[Workflow]:
    """`reading`: a command that only shows; where the outbox cannot be written it is read as it stands."""
    office = _office(WORKFLOW)
    path = get_env().outbox_path
    read_only = reading and (not path.exists() or not databases.writable(path))
    if read_only and path.exists():
        err.print(f"注意：{path} 只读，这里只有已立案的案件；新预警要等它可写时才立案", highlight=False)
    # No re-alert policy: acting on cases raises no pipeline alert, only workflow notices.
    outbox = Outbox(path, read_only=read_only)
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

    office = _office(ROUTE)
    runner = OfflineRunner(Context(office=office, env=get_env()))
    cadence = Cadence.from_schedule(office.schedule)
    silences = _silences()
    failures = 0
    for number, outcome in run_json_lines(sys.stdin, runner, "route"):
        if isinstance(outcome, str):
            failures += 1
            result = {"line": number, "error": outcome}
        else:
            result = _route_output(number, outcome, office, clock.now(), cadence, silences)
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} line(s) could not be routed")


def _silences() -> list[Silence]:
    """The silences on record, read without creating an outbox where there is none."""
    path = get_env().outbox_path
    if not path.exists():
        return []
    outbox = Outbox(path)
    try:
        return outbox.silences()
    finally:
        outbox.close()


def _route_output(
    number: int,
    post: Any,
    office: OfficeConfig,
    now: datetime,
    cadence: Cadence,
    silences: Sequence[Silence] = (),
) -> dict[str, Any]:
    from alerts.dispatcher import routes
    from alerts.silences import judge
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
        "silenced": None,  # the id of the silence that would hold the alert back
        "silence_note": None,  # what a matching silence does to it, and why
    }
    if why_not is not None:
        return result
    alert = alert_from_post(post, now)
    hold = judge(alert, silences, office.alerts.silences, now)
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
    if hold is not None:
        result["silence_note"] = hold.note
        if hold.held:
            result["silenced"] = hold.silence.id
            return result  # nothing is sent and no clock starts until the silence ends
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
        untold = workflow.untold_cases()
        shown = [
            c
            for c in workflow.cases()
            if (show_all or c.state not in ANSWERED or c.id in late)
            and (not overdue or c.id in late)
            and c.id not in untold
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
        if not overdue:
            _print_held(workflow)


def _print_held(workflow: Workflow) -> None:
    """The alerts silences hold back now: nobody has them yet, so they are no case and nobody's overdue."""
    held = workflow.outbox.silence_records(HELD)
    if not held:
        return
    now, bound = workflow.now(), longest(workflow.office.alerts.silences)
    silences = {s.id: s for s in workflow.outbox.silences()}
    table = Table(title=f"静默暂缓的预警（{len(held)} 条：未发送，不立案、不计时、不考核；静默结束后补发）")
    for column in ("事件", "级别", "标题", "属地", "发现时间", "静默", "设置人及原因"):
        table.add_column(column)
    for record in held:
        alert, silence = record.alert, silences.get(record.silence_id)
        table.add_row(
            alert.event_id,
            alert.level.value,
            alert.title[:30],
            "、".join(alert.counties) or "-",
            _local(record.raised_at),
            (silence.label() if silence else f"静默 #{record.silence_id}")
            + ("" if silence and silence.active(now, bound) else "，已结束，下次发送时补发"),
            f"{silence.created_by}：{silence.reason}" if silence else "-",
        )
    out.print(table)


def sweep() -> None:
    """Run the deadline sweep once now (what `serve` does every few minutes) and send its notices."""
    from pipeline.serve import Service

    service = Service(_office(WORKFLOW), get_env())
    try:
        report = service.sweep()
    except WorkflowError as exc:
        raise _fail(str(exc)) from None
    out.print(
        f"时限检查：新案件 {report.opened} 件，已送达 {report.notified} 件，逾期升级 {report.escalated} 件，"
        f"回应逾期 {report.overdue} 项，提醒 {report.reminders} 条",
        highlight=False,
    )


def _writable_file(path: Path, option: str) -> Path:
    """Where the user asked a file to be written, checked before any work is done."""
    target = user_path(path)
    folder = target.parent
    if target.is_dir():
        raise _fail(f"{option} {target}：这是一个目录，请给出文件名", 2)
    if not folder.is_dir():
        raise _fail(f"{option} {target}：目录 {folder} 不存在", 2)
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise _fail(f"{option} {target}：没有写入权限", 2)
    return target


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
    target = _writable_file(csv_path, "--csv") if csv_path else None
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
    if target:
        try:
            write_csv(assessment, target)
        except OSError as exc:
            raise _fail(f"--csv {target}：写入失败：{exc.strerror or exc}") from None
        out.print(f"已导出 {target}", highlight=False, soft_wrap=True)


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

    try:
        # Loads the whole config itself: it starts on the last good one when an edit broke a file.
        run_service(get_env(), wait=wait, say=lambda line: out.print(line, highlight=False))
    except ConfigError as exc:
        raise _fail(str(exc), 2) from None
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
