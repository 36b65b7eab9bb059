"""The alert-delivery commands of `yuqing`: deliver, digest and silence, and the delivery lines of
`yuqing doctor`. Registered on the main app in pipeline/cli.py."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from alerts.dispatcher import DispatchReport, delivery_checks, dispatch, dispatch_digest, open_channels
from alerts.outbox import Outbox, OutboxBusy
from alerts.silences import parse_until
from config.env import Env, get_env
from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import AlertsFile
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
    outbox = Outbox(get_env().outbox_path, read_only=True)
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


def doctor_lines(env: Env) -> list[tuple[bool, str, str]]:
    """Channels (built from the environment, never showing a secret), their health and waiting deliveries."""
    try:
        config = load_file(config_dir() / "alerts.yaml", AlertsFile)
    except ConfigError:
        return []  # the config line of doctor already says what is wrong
    return delivery_checks(config, env.outbox_path)
