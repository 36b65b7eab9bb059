"""The alert-delivery commands of `yuqing`: deliver, digest and silence, and the delivery lines of
`yuqing doctor`. Registered on the main app in commands/cli.py."""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from alerts import database as alerts_db
from alerts.calendar import SHANGHAI
from alerts.database import OutboxBusy
from alerts.dispatcher import DispatchReport, delivery_checks, dispatch, dispatch_digest, open_channels
from alerts.outbox import Outbox
from alerts.silences import HELD, RELEASED, SUPERSEDED, SilenceError, Targets, longest, silence_end
from classifiers.types import Level
from commands.common import Exit, alerts_config, err, fail, out
from commands.demo import demo_option
from config.env import Env, get_env
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import AlertsFile, RulesFile, TerritoryFile, UnitsFile, unit_names
from pipeline import clock

silence_app = typer.Typer(
    no_args_is_help=True, help="静默：暂缓某事件、县（区）、乡镇或规则类别的预警（重大突发事态从不暂缓）"
)


def _summary(report: DispatchReport) -> str:
    parts = [f"送达 {report.sent} 次", f"失败 {report.failed} 次", f"待重试 {report.deferred} 条"]
    if report.fell_back:
        parts.append(f"经后备渠道送达 {report.fell_back} 次")
    if report.silenced:
        parts.append(f"静默暂缓 {report.silenced} 条")
    if report.released:
        parts.append(f"静默结束补发 {report.released} 条")
    if report.held:
        parts.append(f"留待摘要 {report.held} 条")
    if report.digests:
        parts.append(f"发出摘要 {report.digests} 份")
    if report.channels_dead:
        parts.append(f"渠道失效：{'、'.join(report.channels_dead)}")
    return "\n".join(["，".join(parts), *report.silence_notes])


def _send(digest: bool, wait: float | None) -> DispatchReport:
    config = alerts_config()
    env = get_env()
    channels, unavailable = open_channels(config)
    for name, reason in unavailable.items():
        err.print(f"渠道 {name} 不可用：{reason}", highlight=False, markup=False, soft_wrap=True)
    outbox = Outbox(env.outbox_path, realert=config.realert)
    send = dispatch_digest if digest else dispatch
    try:
        return send(outbox, config, channels, clock.now, unavailable=unavailable, wait=wait)
    finally:
        outbox.close()


def _run(digest: bool, wait: float | None) -> None:
    try:
        report = _send(digest, wait)
    except OutboxBusy as exc:
        raise fail(str(exc), Exit.FAILED) from None
    out.print(_summary(report), highlight=False)


WaitOption = Annotated[
    float | None,
    typer.Option(help="最多等待多少秒，等限频窗口和重试到期（默认按 alerts.yaml）"),
]


def deliver(wait: WaitOption = None) -> None:
    """发送待发队列里的预警：重试、改走后备渠道，以及上次运行中断时没发完的。"""
    _run(digest=False, wait=wait)


def digest(wait: WaitOption = None) -> None:
    """在时间节点汇总发送：把上次以来留存的低级别预警，给每个单位汇成一份摘要发出。"""
    _run(digest=True, wait=wait)


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _targets(outbox_path: Path) -> tuple[Targets, list[str]]:
    """What `--match` may name, and which files could not be read to say so."""
    problems: list[str] = []
    loaded: dict[str, Any] = {}
    for name, model in (("territory", TerritoryFile), ("rules", RulesFile)):
        try:
            loaded[name] = load_file(config_dir() / f"{name}.yaml", model)
        except ConfigError as exc:
            loaded[name] = None
            problems.append(str(exc))
    events: list[str] = []
    if alerts_db.exists(outbox_path):
        outbox = Outbox(outbox_path)
        try:
            events = outbox.alerted_events()
        finally:
            outbox.close()
    return Targets.of(loaded["territory"], loaded["rules"], events), problems


@silence_app.command("add")
@demo_option
def silence_add(
    match: Annotated[
        str,
        typer.Option(
            help="暂缓什么：案件编号（yuqing cases 所列的 8 位编号）或事件 id、县（区，如 濮阳县）、乡镇（如 柳屯镇）或规则类别（如 民生诉求）"
        ),
    ],
    until: Annotated[
        str,
        typer.Option(
            help="到何时为止：2026-11-24 18:00（北京时间），或时长如 4h、30m、2d；不超过规定的最长天数"
        ),
    ],
    reason: Annotated[str, typer.Option(help="为什么暂缓，记录在案")],
    by: Annotated[str | None, typer.Option(help="设置人（默认：当前登录名）")] = None,
) -> None:
    """暂缓与某事件、地方或类别有关的预警到某一时刻；被暂缓的预警留有记录、不立案、不计时，静默结束后补发。
    重大突发事态从不暂缓。"""
    now = clock.now()
    policy = alerts_config().silences
    try:
        end = silence_end(until, now, policy)
    except SilenceError as exc:
        raise fail(str(exc)) from None
    if not reason.strip():
        raise fail("--reason 不能为空：请写明为什么暂缓，记录在案")
    path = get_env().outbox_path
    targets, problems = _targets(path)
    try:
        name = targets.resolve(match)
    except SilenceError as exc:
        unread = f"（无法读取：{'；'.join(problems)}）" if problems else ""
        raise fail(f"{exc}{unread}") from None
    who = by or os.environ.get("USER") or getpass.getuser()
    outbox = Outbox(path)
    try:
        silence = outbox.add_silence(name, end, reason.strip(), who, now)
    finally:
        outbox.close()
    out.print(
        f"静默 #{silence.id}：{silence.match}，至 {_local(end)}，{who}：{silence.reason}", highlight=False
    )
    above = [level.value for level in Level if level.rank > policy.max_level.rank]
    out.print(
        f"只暂缓{policy.max_level.value}及以下的预警；{'、'.join(above)}照常发送。"
        f"提前结束：yuqing silence lift {silence.id} --reason …",
        highlight=False,
    )


@silence_app.command("lift")
@demo_option
def silence_lift(
    silence_id: Annotated[
        str, typer.Argument(metavar="ID", help="静默编号，如 3（yuqing silence list 的 # 列）")
    ],
    reason: Annotated[str, typer.Option(help="为什么提前解除，记录在案")] = "",
    by: Annotated[str | None, typer.Option(help="解除人（默认：当前登录名）")] = None,
    wait: Annotated[float | None, typer.Option(help="补发时等待限频和重试的秒数")] = None,
) -> None:
    """提前解除一项静默，记录谁、何时、为何解除；它暂缓的预警随即补发，时限自补发时起算。"""
    number = silence_id.strip().lstrip("#")
    if not number.isdigit():
        raise fail(f"「{silence_id}」不是静默编号：请写数字，如 3（见 yuqing silence list）")
    now = clock.now()
    path = get_env().outbox_path
    if not alerts_db.exists(path):
        raise fail(f"没有静默 #{number}：{path} 里还没有任何静默")
    who = by or os.environ.get("USER") or getpass.getuser()
    outbox = Outbox(path)
    try:
        silence = outbox.silence(int(number))
        if silence is None:
            raise fail(f"没有静默 #{number}（全部静默见 yuqing silence list --all）")
        lifted = outbox.lift_silence(silence.id, who, reason.strip(), now)
        if lifted is None:
            ended = silence.lifted_at or silence.until
            raise fail(
                f"静默 #{silence.id}（{silence.match}）{silence.state(now)}（{_local(ended)}），无需解除"
            )
        held = sum(1 for _alert, sid in outbox.silenced() if sid == silence.id)
    finally:
        outbox.close()
    out.print(
        f"已解除静默 #{silence.id}（{silence.match}）：{who}，{_local(now)}，原因：{reason.strip() or '未说明'}",
        highlight=False,
    )
    if not held:
        return
    out.print(f"补发它暂缓的 {held} 条预警：", highlight=False)
    try:
        report = _send(digest=False, wait=wait)
    except OutboxBusy:
        out.print("另一进程正在发送，暂缓的预警由它补发（或运行 yuqing deliver）。", highlight=False)
        return
    out.print(_summary(report), highlight=False)


@silence_app.command("list")
@demo_option
def silence_list(
    show_all: Annotated[bool, typer.Option("--all", help="也列出已到期、已解除的")] = False,
) -> None:
    """生效中的静默（或全部）：匹配什么、到何时、谁设置、为什么，暂缓了几条预警。"""
    now = clock.now()
    bound = longest(alerts_config().silences)
    outbox = Outbox(get_env().outbox_path, read_only=True)
    try:
        silences = [s for s in outbox.silences() if show_all or s.active(now, bound)]
        held: dict[int, int] = {}
        waiting: dict[int, int] = {}
        for record in outbox.silence_records(HELD, RELEASED, SUPERSEDED):
            held[record.silence_id] = held.get(record.silence_id, 0) + 1
            if record.state == HELD:
                waiting[record.silence_id] = waiting.get(record.silence_id, 0) + 1
    finally:
        outbox.close()
    table = Table(title=f"静默（{'全部' if show_all else '生效中'}）")
    for column in ("#", "匹配", "至", "原因", "设置人", "设置时间", "已暂缓", "状态"):
        table.add_column(column, overflow="fold")  # an event id is typed back in full: never cut
    for s in silences:
        state = s.state(now, bound)
        if s.lifted_at is not None and state == "已解除":
            state += f"（{s.lifted_by}，{_local(s.lifted_at)}：{s.lift_reason or '未说明原因'}）"
        count = str(held.get(s.id, 0)) + (f"（待补发 {waiting[s.id]}）" if waiting.get(s.id) else "")
        table.add_row(
            str(s.id),
            s.match,
            _local(s.until),
            s.reason,
            s.created_by,
            _local(s.created_at),
            count,
            state,
        )
    out.print(table)


def doctor_lines(env: Env) -> list[dict[str, Any]]:
    """Checks for `yuqing doctor` (`name`, `status` ok, warn or fail, `detail`): channels (built from the
    environment, never showing a secret), their health, waiting deliveries, and the units no channel but
    the console reaches."""
    try:
        config = load_file(config_dir() / "alerts.yaml", AlertsFile)
    except ConfigError:
        return []  # the config line of doctor already says what is wrong
    lines: list[dict[str, Any]] = []
    for ok, what, detail in delivery_checks(config, env.outbox_path):
        kind, _, name = what.partition(" ")
        title = {"channel": f"渠道 {name}", "deliveries": "待发送预警"}.get(kind, what)
        lines.append({"name": title, "status": "ok" if ok else "fail", "detail": detail})
    try:
        units = load_file(config_dir() / "units.yaml", UnitsFile)
        territory = load_file(config_dir() / "territory.yaml", TerritoryFile)
    except ConfigError:
        return lines
    return lines + unit_reach_lines(config, list(unit_names(units, territory)))


UNIT_REACH = "单位通知"


def unit_reach_lines(
    config: AlertsFile, units: list[str], *, environ: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """A warning naming every unit that no channel but the console reaches (all of them under `units`):
    its alerts are printed where duty staff watch, and nobody else tells the unit. A channel that cannot
    be built here (a variable not set) reaches nobody either. Also names units in `recipients` that no
    alert can ever name."""
    kinds = {c.name: c.type for c in config.channels}
    _channels, unavailable = open_channels(config, environ=environ)
    console_only: list[str] = []
    shown: list[str] = []
    for unit in units:
        own = [name for name in config.recipients.get(unit, []) if name in kinds]
        reaching = [name for name in own if kinds[name] != "console" and name not in unavailable]
        if not reaching:
            down = [name for name in own if name in unavailable]
            console_only.append(unit)
            shown.append(f"{unit}（渠道 {'、'.join(down)} 不可用）" if down else unit)
    lines: list[dict[str, Any]] = []
    if console_only:
        why = (
            "它们的预警只显示在控制台，须由值班人员转告；"
            "在 alerts.yaml 的 recipients 里为单位配置邮件或机器人渠道后才会直接通知到单位"
        )
        if shown == units:  # not one unit has a channel of its own: the names would say nothing more
            detail = f"没有一个单位配置了可用的推送渠道，全部 {len(units)} 个单位只有控制台能通知到：{why}"
            detail += "（doctor --json 列出每个单位）"
        else:
            detail = f"{len(console_only)} 个单位只有控制台能通知到，{why}：{'、'.join(shown)}"
        lines.append({"name": UNIT_REACH, "status": "warn", "detail": detail, "units": console_only})
    strangers = [unit for unit in config.recipients if unit not in units]
    if strangers:
        detail = (
            "alerts.yaml 的 recipients 里有 units.yaml、territory.yaml 中没有的单位（名称写错了？），"
            "这些名字永远收不到预警：" + "、".join(strangers)
        )
        lines.append({"name": UNIT_REACH, "status": "warn", "detail": detail, "units": strangers})
    return lines
