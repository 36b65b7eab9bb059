"""The alert-delivery commands of `yuqing`: deliver, digest and silence, and the delivery lines of
`yuqing doctor`. Registered on the main app in pipeline/cli.py."""

from __future__ import annotations

import getpass
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alerts.dispatcher import DispatchReport, delivery_checks, dispatch, dispatch_digest, open_channels
from alerts.outbox import Outbox, OutboxBusy
from alerts.silences import parse_until
from config.env import Env, get_env
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import AlertsFile, TerritoryFile, UnitsFile
from pipeline import clock

out = Console()
err = Console(stderr=True)

silence_app = typer.Typer(
    no_args_is_help=True, help="silences: hold back alerts about an event, county or category"
)


def _alerts_config() -> AlertsFile:
    # Only alerts.yaml: a mistake in another file must not stop alerts already raised from going out.
    try:
        return load_file(config_dir() / "alerts.yaml", AlertsFile)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _summary(report: DispatchReport) -> str:
    parts = [f"送达 {report.sent} 次", f"失败 {report.failed} 次", f"待重试 {report.deferred} 条"]
    if report.fell_back:
        parts.append(f"经后备渠道送达 {report.fell_back} 次")
    if report.silenced:
        parts.append(f"静默 {report.silenced} 条")
    if report.held:
        parts.append(f"留待摘要 {report.held} 条")
    if report.digests:
        parts.append(f"发出摘要 {report.digests} 份")
    if report.channels_dead:
        parts.append(f"渠道失效：{'、'.join(report.channels_dead)}")
    return "，".join(parts)


def _run(digest: bool, wait: float | None) -> None:
    config = _alerts_config()
    env = get_env()
    channels, unavailable = open_channels(config)
    for name, reason in unavailable.items():
        err.print(f"channel {name} unavailable: {reason}", highlight=False, markup=False)
    outbox = Outbox(env.outbox_path, realert=config.realert)
    send = dispatch_digest if digest else dispatch
    try:
        report = send(outbox, config, channels, clock.now, unavailable=unavailable, wait=wait)
    except OutboxBusy as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        outbox.close()
    out.print(_summary(report), highlight=False)


def deliver(
    wait: Annotated[float | None, typer.Option(help="seconds to wait for rate windows and retries")] = None,
) -> None:
    """Send what waits in the outbox: retries, fallbacks, and deliveries left by a stopped run."""
    _run(digest=False, wait=wait)


def digest(
    wait: Annotated[float | None, typer.Option(help="seconds to wait for rate windows and retries")] = None,
) -> None:
    """At a checkpoint: send each unit one digest of the low-level alerts held since the last one."""
    _run(digest=True, wait=wait)


@silence_app.command("add")
def silence_add(
    match: Annotated[
        str, typer.Option(help="an event id, a county (e.g. 濮阳县) or a rule category (e.g. 民生诉求)")
    ],
    until: Annotated[
        str, typer.Option(help="when it ends: 2026-11-24 18:00, or a duration like 4h, 30m, 2d")
    ],
    reason: Annotated[str, typer.Option(help="why, for the record")],
    by: Annotated[str | None, typer.Option(help="who sets it (default: the login name)")] = None,
) -> None:
    """Hold back alerts that match until a time; each one held back is kept and marked silenced."""
    now = clock.now()
    try:
        end = parse_until(until, now)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if end <= now:
        err.print(
            f"[red]error:[/red] --until {until!r} is not in the future ({now:%Y-%m-%d %H:%M})",
            highlight=False,
        )
        raise typer.Exit(2)
    if not match.strip() or not reason.strip():
        err.print("[red]error:[/red] --match and --reason must not be empty", highlight=False)
        raise typer.Exit(2)
    who = by or os.environ.get("USER") or getpass.getuser()
    outbox = Outbox(get_env().outbox_path)
    try:
        silence = outbox.add_silence(match.strip(), end, reason.strip(), who, now)
    finally:
        outbox.close()
    out.print(
        f"静默 #{silence.id}：{silence.match}，至 {end:%Y-%m-%d %H:%M}，{who}：{silence.reason}",
        highlight=False,
    )


@silence_app.command("list")
def silence_list(
    show_all: Annotated[bool, typer.Option("--all", help="also the expired ones")] = False,
) -> None:
    """The silences in force (or all of them), with who set them, when and why."""
    now = clock.now()
    outbox = Outbox(get_env().outbox_path)
    try:
        silences = outbox.silences(active_at=None if show_all else now)
        held = {}
        for _alert, sid in outbox.silenced():
            held[sid] = held.get(sid, 0) + 1
    finally:
        outbox.close()
    table = Table(title=f"静默（{'全部' if show_all else '生效中'}）")
    for column in ("#", "匹配", "至", "原因", "设置人", "设置时间", "已静默", "状态"):
        table.add_column(column)
    for s in silences:
        table.add_row(
            str(s.id),
            s.match,
            f"{s.until:%Y-%m-%d %H:%M}",
            s.reason,
            s.created_by,
            f"{s.created_at:%Y-%m-%d %H:%M}",
            str(held.get(s.id, 0)),
            "生效" if s.active(now) else "已过期",
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
    return lines + unit_reach_lines(config, known_units(units, territory))


def known_units(units: UnitsFile, territory: TerritoryFile) -> list[str]:
    """Every unit an alert can name, composed as alerts.routing composes them: the city's units by role,
    each department in the city and in every county, and each county's own two claiming units."""
    city = units.city_units
    names = [
        *city.duty,
        city.cyberspace,
        city.propaganda,
        city.gov_office,
        city.principal,
        city.party_committee,
    ]
    for department in units.departments:
        names.append(department.city_unit)
        if department.vertical:
            names.append(f"{department.city_unit}办公室")
    for county in territory.counties:
        names += [county.propaganda, county.gov_office]
        names += [department.county_unit.format(county=county.name) for department in units.departments]
    return list(dict.fromkeys(names))


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
