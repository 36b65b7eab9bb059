"""The responsibility-workflow commands of `yuqing`: route, claim, respond, extend, approve, reassign,
close, false-alarm, cases, sweep, report, log and serve. Registered on the main app in commands/cli.py.

The commands that act on a case act as an account (`--as NAME` or `YUQING_ACCOUNT`); a refusal is one
line saying which rule it breaks, with exit code 2, as for every other mistake of the person typing."""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.table import Table

from alerts import database as alerts_db
from alerts.accounts import Refused
from alerts.calendar import SHANGHAI, Cadence, calendar_data_ends, calendar_warning
from alerts.cases import ANSWERED, RESPONSE_KINDS, Case, Deadline, DeadlineKind, State, deadlines_for
from alerts.outbox import Outbox
from alerts.silences import HELD, Silence, longest
from alerts.workflow import Workflow
from commands.common import Exit, err, fail, load_office, out
from commands.userpaths import user_path
from config.env import get_env
from config.errors import ConfigError
from config.loader import ALL
from config.models import OfficeConfig, unit_names
from pipeline import clock

# The files each command reads, and only those, so a mistake in another file does not stop it. Cases
# need the city's units, the schedule's deadlines and alerts.yaml's silence limits (a held alert opens no
# case); `route` runs the analysis (rules, places, departments, severity) and shows channels and deadlines.
WORKFLOW = frozenset({"units", "schedule", "alerts"})
# Acting on a case, or on accounts, names units: they are checked against units.yaml and territory.yaml.
ACTING = WORKFLOW | {"territory"}

ROUTE = ALL - {"sources"}


@contextmanager
def _workflow(only: frozenset[str] = WORKFLOW, *, reading: bool = False) -> Iterator[Workflow]:
    """`reading`: a command that only shows; where the outbox cannot be written it is read as it stands."""
    office = load_office(only)
    path = get_env().outbox_path
    read_only = reading and (not alerts_db.exists(path) or not alerts_db.writable(path))
    if read_only and alerts_db.exists(path):
        err.print(f"注意：{path} 只读，这里只有已立案的案件；新预警要等它可写时才立案", highlight=False)
    # No re-alert policy: acting on cases raises no pipeline alert, only workflow notices.
    outbox = Outbox(path, read_only=read_only)
    workflow = Workflow(outbox, office, clock.now)
    try:
        yield workflow
    except Refused as exc:
        raise fail(str(exc)) from None
    finally:
        workflow.close()
        outbox.close()


def _local(moment: datetime | None) -> str:
    """A time as people here read it: Beijing time."""
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if moment else "-"


def _parse_time(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise fail(f"{option} {text}：不是时间，请写成 2026-11-26 18:00 的样子（北京时间）") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _pending(workflow: Workflow, case: Case) -> list[Deadline]:
    """The deadlines of the case's round still to meet, soonest first, whether running or missed."""
    return sorted(
        (
            d
            for d in workflow.deadlines(case.id)
            if d.status in ("open", "lapsed") and d.met_at is None and d.round == case.round
        ),
        key=lambda d: d.due_at,
    )


def _outstanding(workflow: Workflow, case: Case) -> str:
    """The next deadline still to meet (a new one a reassignment set before the one that lapsed), or
    what is overdue."""
    pending = _pending(workflow, case)
    if not pending:
        return "-"
    first = next((d for d in pending if d.status == "open"), pending[0])
    late = "（已逾期）" if first.due_at <= workflow.now() else ""
    return f"{first.kind.value} {_local(first.due_at)}{late}"


def _said(case: Case, workflow: Workflow, what: str) -> None:
    owner = f"，{case.owner}" if case.owner else ""
    if case.state is State.FALSE_ALARM:
        after = "；不计入任何单位的考核"
    elif case.state in ANSWERED:
        missed = [d for d in _pending(workflow, case) if d.status == "lapsed"]
        after = "；逾期记录在案：" + "、".join(f"{d.kind.value}（时限 {_local(d.due_at)}）" for d in missed)
        after = after if missed else ""
    else:
        after = f"；下一时限：{_outstanding(workflow, case)}"
    out.print(f"{what}：{case.ref}（{case.state.label}{owner}）{after}", highlight=False, soft_wrap=True)


# -- yuqing route ----------------------------------------------------------------------------------------


def route() -> None:
    """谁会收到每条信息：标准输入逐行读入帖子（JSON），每行输出一行 JSON。

    每行答复列出责任单位、各接收单位的角色和渠道、投递方式和各项时限，供核对规则。"""
    from pipeline.context import Context
    from pipeline.runner import OfflineRunner, run_json_lines

    office = load_office(ROUTE)
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
        err.print(f"{failures} 行未能判定（见各行 error）", highlight=False)


def _silences() -> list[Silence]:
    """The silences on record, read without creating an outbox where there is none."""
    path = get_env().outbox_path
    if not alerts_db.exists(path):
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
    result["deadlines"] = {
        kind.value: due.isoformat()
        for kind, due in deadlines_for(alert.level, alert.created_at, cadence).items()
    }
    return result


# -- acting on a case --------------------------------------------------------------------------------------

KINDS_HELP = "、".join(f"{k.value}（{k.option}）" for k in RESPONSE_KINDS)


def _kind(text: str) -> DeadlineKind:
    try:
        kind = DeadlineKind.parse(text)
    except ValueError:
        kind = None
    if kind is None or kind not in RESPONSE_KINDS:
        raise typer.BadParameter(f"{text} 不是回应方式；可选：{KINDS_HELP}")
    return kind


Key = Annotated[
    str, typer.Argument(help="案件编号（yuqing cases 所列的 8 位编号），或事件 id、预警 key", metavar="编号")
]
Actor = Annotated[
    str | None,
    typer.Option(
        "--as",
        "--by",
        envvar="YUQING_ACCOUNT",
        show_envvar=True,
        help="以哪个账号操作（账号见 yuqing user list）",
    ),
]


def claim(key: Key, actor: Actor = None) -> None:
    """认领：本案的认领单位以本单位账号认领（按时或逾期，都记录在案）。"""
    with _workflow(ACTING) as workflow:
        _said(workflow.claim(key, actor=actor), workflow, "已认领")


def respond(
    key: Key,
    kind: Annotated[
        str, typer.Option("--kind", help=f"回应方式：{KINDS_HELP}", metavar="方式", show_default=False)
    ],
    url: Annotated[str, typer.Option("--url", help="发布地址（http:// 或 https:// 网址）")],
    actor: Actor = None,
) -> None:
    """回应：责任单位记录首次发布、新闻发布会或回应，以及发布地址。"""
    chosen = _kind(kind)
    with _workflow(ACTING) as workflow:
        _said(workflow.respond(key, kind=chosen, actor=actor, url=url), workflow, "已记录")


def extend(
    key: Key,
    until: Annotated[str, typer.Option("--until", help="申请延至的时间（北京时间），如 2026-11-26 18:00")],
    reason: Annotated[str, typer.Option("--reason", help="为什么需要延期")],
    actor: Actor = None,
) -> None:
    """申请延期：认领单位申请推后回应时限；督办批准后才生效，最多推后 schedule.yaml 的 max_extension_hours。"""
    moment = _parse_time(until, "--until")
    with _workflow(ACTING) as workflow:
        case = workflow.request_extension(key, until=moment, reason=reason, actor=actor)
        _said(case, workflow, "已申请延期，待督办审批")


def approve(
    key: Key,
    actor: Actor = None,
    deny: Annotated[bool, typer.Option("--deny", help="不批准")] = False,
) -> None:
    """审批延期：督办批准（或用 --deny 不批准）待审批的延期申请；不能审批自己或本单位的申请。"""
    with _workflow(ACTING) as workflow:
        case = workflow.decide_extension(key, actor=actor, approve=not deny)
        _said(case, workflow, "不批准延期" if deny else "已批准延期")


def reassign(
    key: Key,
    to: Annotated[str, typer.Option("--to", help="须认领的单位（units.yaml 或 territory.yaml 中的单位名）")],
    actor: Actor = None,
    reason: Annotated[str, typer.Option("--reason", help="指定的理由")] = "",
) -> None:
    """指定认领：督办（市委宣传部、市政府办）指定须认领本案的单位。"""
    with _workflow(ACTING) as workflow:
        case = workflow.reassign(key, to=to, actor=actor, reason=reason)
        _said(case, workflow, f"已指定{case.assigned}认领")


def close(
    key: Key,
    actor: Actor = None,
    note: Annotated[
        str, typer.Option("--note", "--reason", help="办结说明；督办办结未回应的案件须写明理由")
    ] = "",
) -> None:
    """办结：认领单位回应后办结，或督办办结；已过的时限先记为逾期。办结后仍跟踪 follow_up.watch_days 天。"""
    with _workflow(ACTING) as workflow:
        _said(workflow.close_case(key, actor=actor, note=note), workflow, "已办结")


def false_alarm(
    key: Key,
    reason: Annotated[str, typer.Option("--reason", help="为什么是误报")],
    actor: Actor = None,
) -> None:
    """误报：督办认定预警有误，案件以误报了结，时限停止，季度通报不计入任何单位。"""
    with _workflow(ACTING) as workflow:
        _said(workflow.mark_false_alarm(key, actor=actor, reason=reason), workflow, "已标记误报")


# -- what duty staff and supervisors read ------------------------------------------------------------------


def _table(title: str) -> Table:
    # No outer frame and no rules between columns: every cell of an 80-column terminal goes to the text.
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")


def _id_column(table: Table, header: str = "编号") -> None:
    table.add_column(header, no_wrap=True, min_width=8)


def _units_column(table: Table, header: str, names: list[str], others: int) -> None:
    """One unit a line, never cut: the column is as wide as the longest name it shows, when the other
    columns (`others` cells, padding included) leave the room; a longer name wraps onto a second line."""
    widest = max((cell_len(name) for name in names), default=4)
    if widest <= out.width - others:
        table.add_column(header, no_wrap=True, min_width=widest)
    else:
        table.add_column(header, overflow="fold", min_width=max(8, out.width - others))


def _deadline_lines(workflow: Workflow, case: Case, late: list[Deadline]) -> str:
    """The case's deadlines still to meet, two lines each: the kind (and 逾期 once missed), then its
    time in Beijing time (MM-DD HH:MM; the table's title gives the year)."""
    now = workflow.now()
    shown = {d.id: d for d in [*_pending(workflow, case), *late]}
    lines = []
    for deadline in sorted(shown.values(), key=lambda d: d.due_at):
        missed = " 逾期" if deadline.due_at <= now else ""
        lines.append(f"{deadline.kind.value}{missed}\n{deadline.due_at.astimezone(SHANGHAI):%m-%d %H:%M}")
    return "\n".join(lines) or "-"


def cases(
    overdue: Annotated[bool, typer.Option("--overdue", help="只列时限已过而未完成的案件")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="也列出已回应、已办结和误报的案件")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="每个案件输出一行 JSON（编号、级别、状态、各单位及其职责、时限），供脚本读取"
        ),
    ] = False,
) -> None:
    """案件表：编号、级别、标题、责任单位、状态，以及尚未完成的时限（北京时间）和逾期。"""
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
        shown.sort(key=lambda c: (-c.level.rank, c.opened_at))
        if as_json:
            for case in shown:
                sys.stdout.write(json.dumps(_case_json(workflow, case), ensure_ascii=False) + "\n")
            return
        title = "逾期案件" if overdue else "舆情案件"
        table = _table(f"{title}（{len(shown)} 件，{_local(workflow.now())}）")
        who = {c.id: [c.owner] if c.owner else c.expected for c in shown}
        # Ids, levels, units and times are never cut: only the title wraps to make room at 80 columns.
        _id_column(table)
        table.add_column("级别／状态", no_wrap=True, min_width=12)
        table.add_column("标题", overflow="fold", ratio=1, min_width=6)
        _units_column(table, "责任单位", [u for units in who.values() for u in units], 8 + 12 + 6 + 11 + 8)
        table.add_column("时限", no_wrap=True, min_width=11)
        for case in shown:
            table.add_row(
                case.short_id,
                f"{case.level.value}\n{case.state.label}",
                case.title,
                "\n".join(who[case.id]),
                _deadline_lines(workflow, case, late.get(case.id, [])),
            )
        out.print(table)
        if not overdue:
            _print_held(workflow)


def _case_json(workflow: Workflow, case: Case) -> dict[str, Any]:
    """One case for scripts: its ids (`short_id` opens /cases/<short_id> in the console), level, state, the
    units with their roles, and every deadline in Beijing time."""

    def when(moment: datetime | None) -> str | None:
        return moment.astimezone(SHANGHAI).isoformat(timespec="minutes") if moment else None

    return {
        "id": case.id,
        "short_id": case.short_id,
        "level": case.level.value,
        "state": case.state.label,
        "title": case.title,
        "counties": case.counties,
        "opened_at": when(case.opened_at),
        "units": {
            "first": case.first,
            "claim": case.expected,
            "owner": case.owner,
            "assigned": case.assigned,
            "responsible": workflow.responsible(case),
        },
        "deadlines": [
            {
                "kind": d.kind.value,
                "round": d.round,
                "due": when(d.due_at),
                "original_due": when(d.original_due_at),
                "status": d.status,
                "met_at": when(d.met_at),
                "units": d.units,
            }
            for d in sorted(workflow.deadlines(case.id), key=lambda d: (d.round, d.due_at))
        ],
        "alerts": [key for _case, key in workflow.records.alert_keys(case.id)],
    }


def _print_held(workflow: Workflow) -> None:
    """The alerts silences hold back now: nobody has them yet, so they are no case and nobody's overdue."""
    held = workflow.outbox.silence_records(HELD)
    if not held:
        return
    now, bound = workflow.now(), longest(workflow.office.alerts.silences)
    silences = {s.id: s for s in workflow.outbox.silences()}
    table = _table(f"静默暂缓的预警（{len(held)} 条：未发送，不立案、不计时、不考核；静默结束后补发）")
    table.add_column("事件", overflow="fold", min_width=12)
    table.add_column("级别", no_wrap=True, min_width=6)
    table.add_column("标题", overflow="fold", ratio=1)
    table.add_column("属地", overflow="fold")
    table.add_column("发现时间", overflow="fold")
    table.add_column("静默", overflow="fold")
    table.add_column("设置人及原因", overflow="fold")
    for record in held:
        alert, silence = record.alert, silences.get(record.silence_id)
        table.add_row(
            alert.event_id,
            alert.level.value,
            alert.title,
            "、".join(alert.counties) or "-",
            _local(record.raised_at),
            (silence.label() if silence else f"静默 #{record.silence_id}")
            + ("" if silence and silence.active(now, bound) else "，已结束，下次发送时补发"),
            f"{silence.created_by}：{silence.reason}" if silence else "-",
        )
    out.print(table)


def sweep() -> None:
    """现在做一次时限检查（serve 每隔几分钟做一次）：提醒、记录逾期、逾期升级，并发出通知。"""
    from commands.serve import Service

    service = Service(load_office(WORKFLOW), get_env())
    try:
        report = service.sweep()
    except Refused as exc:
        raise fail(str(exc), Exit.FAILED) from None
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
        raise fail(f"{option} {target}：这是一个目录，请给出文件名")
    if not folder.is_dir():
        raise fail(f"{option} {target}：目录 {folder} 不存在")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise fail(f"{option} {target}：没有写入权限")
    return target


def report(
    quarter: Annotated[str | None, typer.Option("--quarter", help="季度，如 2026Q4")] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="或任一时段的起始日（含），如 2026-11-01；第三方评估的材料")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="该时段的截止日（含），如 2026-11-30")] = None,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="同时把各单位数字导出为 CSV 文件（表头为中文）")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="同时写成 Word 通报（.docx，公文格式，含态势图和计入案件一览）"),
    ] = None,
) -> None:
    """季度通报：各单位收到、按时认领、按时回应、逾期、申请和批准延期；逾期记录；误报（不计入考核）。"""
    from alerts.records import BULLETIN_COLUMNS, assess, write_csv

    start, end, name = _period(quarter, first, last)
    target = _writable_file(csv_path, "--csv") if csv_path else None
    _document_kind(out_file, "通报")
    document_target = _writable_file(out_file, "--out") if out_file else None
    with _workflow(LOG_FILES if document_target else WORKFLOW, reading=True) as workflow:
        workflow.sync()
        assessment = assess(workflow, start, end, name)
        if document_target is not None:
            from pipeline.documents import bulletin_document

            document = bulletin_document(workflow, assessment)
    table = _table(f"{name}政务舆情认领回应情况通报")
    _units_column(table, BULLETIN_COLUMNS[0], [r.unit for r in assessment.units], 6 * 4 + 12)
    for column in BULLETIN_COLUMNS[1:]:
        # Four-character headings on two lines, so the units' names keep the width.
        table.add_column(column if len(column) <= 2 else f"{column[:2]}\n{column[2:]}", justify="right")
    for record in assessment.units:
        table.add_row(*(str(value) for value in record.row()))
    out.print(table)
    if assessment.lapses:
        lapses = _table("逾期记录（记录在案、纳入考核）")
        _id_column(lapses)
        lapses.add_column("标题", overflow="fold", ratio=1, min_width=6)
        lapses.add_column("事项／时限", no_wrap=True, min_width=11)
        _units_column(
            lapses, "应办单位", [u for lapse in assessment.lapses for u in lapse.units], 8 + 6 + 11 + 11 + 10
        )
        lapses.add_column("后来办理", overflow="fold", min_width=11)
        for lapse in assessment.lapses:
            lapses.add_row(
                lapse.short_id,
                lapse.title,
                f"{lapse.kind.value}\n{lapse.due_at.astimezone(SHANGHAI):%m-%d %H:%M}",
                "\n".join(lapse.units),
                f"{lapse.done_at.astimezone(SHANGHAI):%m-%d %H:%M}\n{lapse.done_by}"
                if lapse.done_at
                else "未办",
            )
        out.print(lapses)
    else:
        out.print("本期无逾期。")
    if assessment.false_alarms:
        wrong = _table("误报（不计入考核）")
        _id_column(wrong)
        wrong.add_column("标题", overflow="fold", ratio=1, min_width=6)
        _units_column(
            wrong, "原责任单位", [u for f in assessment.false_alarms for u in f.units], 8 + 6 + 11 + 6 + 10
        )
        wrong.add_column("认定", overflow="fold", min_width=11)
        wrong.add_column("理由", overflow="fold", min_width=6)
        for item in assessment.false_alarms:
            when = f"{item.at.astimezone(SHANGHAI):%m-%d %H:%M}\n{item.by}"
            wrong.add_row(item.short_id, item.title, "\n".join(item.units), when, item.reason)
        out.print(wrong)
    if target:
        try:
            write_csv(assessment, target)
        except OSError as exc:
            raise fail(f"--csv {target}：写入失败：{exc.strerror or exc}", Exit.FAILED) from None
        out.print(f"已导出 {target}", highlight=False, soft_wrap=True)
    if document_target:
        _write_document(document_target, document)


def log(
    day: Annotated[
        str | None, typer.Option("--date", help="哪一天，如 2026-11-23（默认今天，北京时间）")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="另存为 Word 文档（.docx，公文格式，附所列信息一览），如 --out 日志.docx"),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="只列该单位的案件（各部门的舆情日志），如 --unit 范县县委宣传部"),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="现在归档并发出当天的 Word 日志：全市的给值班室，各单位的给该单位，均抄送市委宣传部、市政府办"
            "（serve 每天按时做）",
        ),
    ] = False,
) -> None:
    """舆情日志：当天的舆情按级别列出，以及各自办理到哪一步。"""
    from alerts.records import daily_log_text

    try:
        when = date.fromisoformat(day) if day else clock.now().astimezone(SHANGHAI).date()
    except ValueError:
        raise fail(f"--date {day}：不是日期，请写成 2026-11-23 的样子") from None
    _document_kind(out_file, "舆情日志")
    target = _writable_file(out_file, "--out") if out_file else None
    if send:
        _send_logs(when)
        return
    with _workflow(LOG_FILES if target or unit else WORKFLOW, reading=True) as workflow:
        workflow.sync()
        if unit is not None:
            known = unit_names(workflow.office.units, workflow.office.territory)
            if unit not in known:
                close = difflib.get_close_matches(unit, sorted(known), n=3, cutoff=0.5)
                raise fail(
                    f"--unit {unit}：没有这个单位" + (f"，是否是 {'、'.join(close)}？" if close else "")
                )
        if target is None:
            sys.stdout.write(daily_log_text(workflow, when, unit))
            return
        document = _daily_document(workflow, when, unit)
    _write_document(target, document)


def special(
    event: Annotated[
        str, typer.Argument(help="事件编号，如 event:weibo:5302043889664515（见 cases --json、控制台事件页）")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="写入的 Word 文档（.docx），如 --out 专报.docx")],
    review: Annotated[
        bool, typer.Option("--review", help="改写总结评估：事件经过、各项时限的执行情况和据记录的评估")
    ] = False,
) -> None:
    """舆情专报：一个事件的舆情概况、传播情况（含每小时信息量图）、内容分析、处置情况与建议，附所引信息一览。"""
    from pipeline.documents import review_document, special_report_document

    _document_kind(out_file, "专报")
    target = _writable_file(out_file, "--out")
    with _workflow(LOG_FILES, reading=True) as workflow:
        workflow.sync()
        make = review_document if review else special_report_document
        document = make(workflow, get_env(), event.strip())
    if document is None:
        raise fail(f"没有事件 {event}：请用事件页或 yuqing search --json 中的 analysis.event_id")
    _write_document(target, document)


def _period(quarter: str | None, first: str | None, last: str | None) -> tuple[datetime, datetime, str]:
    """The period asked for: a quarter, or the days --from to --to (both included), with its Chinese name."""
    from alerts.records import quarter_bounds

    if (quarter is None) == (first is None and last is None):
        raise fail("请给出 --quarter 2026Q4，或 --from 与 --to 两个日期（二者选一）")
    if quarter is not None:
        try:
            return quarter_bounds(quarter)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if first is None or last is None:
        raise fail("--from 与 --to 须一起给出")
    try:
        begin, finish = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise fail(f"--from {first} --to {last}：日期请写成 2026-11-01 的样子") from None
    if finish < begin:
        raise fail(f"--to {last} 早于 --from {first}")
    start = datetime(begin.year, begin.month, begin.day, tzinfo=SHANGHAI)
    end = datetime(finish.year, finish.month, finish.day, tzinfo=SHANGHAI) + timedelta(days=1)
    return (
        start,
        end,
        f"{begin.year}年{begin.month}月{begin.day}日至{finish.year}年{finish.month}月{finish.day}日",
    )


def _document_kind(path: Path | None, what: str) -> None:
    if path is not None and path.suffix.lower() not in (".docx", ".pdf"):
        raise fail(f"--out {path}：{what}可存为 Word 文档（.docx）或 PDF（.pdf），请以其中之一结尾")


def _write_document(target: Path, document: bytes) -> None:
    """The .docx as it is, or turned into PDF when the file asked for ends in .pdf."""
    from alerts.documents import DocumentError, to_pdf

    if target.suffix.lower() == ".pdf":
        try:
            document = to_pdf(document)
        except DocumentError as exc:
            raise fail(str(exc), Exit.FAILED) from None
    try:
        target.write_bytes(document)
    except OSError as exc:
        raise fail(f"无法写入 {target}：{exc.strerror or exc}", Exit.FAILED) from None
    err.print(f"已写入 {target}", highlight=False)


# The Word log also names the city and each source's health.
LOG_FILES = WORKFLOW | {"territory", "sources"}


def _send_logs(day: date) -> None:
    """Files the day's Word logs and sends them through the outbox, as serve does at the set time."""
    from commands.cli_alerts import deliver
    from pipeline.documents import file_daily_logs

    with _workflow(LOG_FILES) as workflow:
        workflow.sync()
        records = file_daily_logs(workflow, get_env(), day)
        for record in records:
            workflow.outbox.enqueue(record)
    out.print(f"已归档 {len(records)} 份舆情日志（{get_env().data_dir / 'daily'}），发送：", highlight=False)
    deliver()


def _daily_document(workflow: Workflow, day: date, unit: str | None = None) -> bytes:
    from pipeline.documents import daily_log_document

    return daily_log_document(workflow, get_env(), day, unit)


def serve(
    wait: Annotated[bool, typer.Option("--wait", help="已有一个实例在运行时，待命并在它停止后接替")] = False,
) -> None:
    """运行调度：按日历巡查、三个时间节点、时限检查、每日舆情日志。"""
    from commands.serve import AlreadyServing, LeadershipLost
    from commands.serve import serve as run_service

    try:
        # Loads the whole config itself: it starts on the last good one when an edit broke a file.
        run_service(get_env(), wait=wait, say=lambda line: out.print(line, highlight=False))
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except AlreadyServing as exc:
        raise fail(str(exc), Exit.INCOMPLETE) from None
    except LeadershipLost as exc:
        raise fail(str(exc), Exit.LEADERSHIP_LOST) from None


def calendar_line() -> tuple[bool, str]:
    """For `yuqing doctor`: (fine, detail) about the official holiday data."""
    warning = calendar_warning(clock.now().astimezone(SHANGHAI).date())
    return (warning is None, warning or f"法定节假日和调休数据覆盖到 {calendar_data_ends()}")


COMMANDS: dict[str, Callable[..., None]] = {
    "route": route,
    "claim": claim,
    "respond": respond,
    "extend": extend,
    "approve": approve,
    "reassign": reassign,
    "close": close,
    "false-alarm": false_alarm,
    "cases": cases,
    "sweep": sweep,
    "report": report,
    "log": log,
    "special": special,
    "serve": serve,
}
