"""`yuqing labels`: the analysts' corrections of posts' analysis, kept as labels in the alerts database.
`export` writes the sentiment labels in the format `yuqing train sentiment --labels` reads; `agreement`
prints how often the model said what the analysts say. With `--demo`, the demo's. Registered in
commands/cli.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from commands.cli_workflow import ACTING, _table, _workflow
from commands.common import Exit, err, fail, out, write_out
from commands.demo import demo_option

labels_app = typer.Typer(help="分析员的更正（标注）：导出、与模型的一致程度", no_args_is_help=True)


@labels_app.command("export")
@demo_option
def export(
    file: Annotated[
        Path | None, typer.Argument(help="写入的文件；不写则输出到屏幕", show_default=False)
    ] = None,
) -> None:
    """导出情感标注：每行 {"text": …, "label": "正面|负面|中性"}，即 yuqing train sentiment --labels 读的格式。"""
    from alerts.labels import Labels

    with _workflow(ACTING, reading=True) as workflow:
        examples = Labels(workflow).sentiment_examples()
    lines = "".join(
        json.dumps({"text": t, "label": label}, ensure_ascii=False) + "\n" for t, label in examples
    )
    write_out(lines, file, f"：{len(examples)} 条情感标注")


@labels_app.command("agreement")
@demo_option
def agreement() -> None:
    """各项（情感、级别、属地、主管部门）分析员已标注多少条帖子，模型与之一致的比例。"""
    from alerts.labels import FIELDS, Labels

    with _workflow(ACTING, reading=True) as workflow:
        figures = Labels(workflow).agreement()
    table = _table("模型与分析员的一致程度（每条帖子每项取最近一次更正）")
    for column in ("项目", "已标注帖子", "模型与之一致", "一致率"):
        table.add_column(column)
    for f in figures:
        share = f"{100 * f.share:.0f}%" if f.share is not None else "尚无标注"
        table.add_row(FIELDS[f.field], str(f.labelled), str(f.agreeing), share)
    out.print(table)


def evidence() -> None:
    """存证：为近 3 天的预警帖子截取原网页（HTML 与整页截图，记录时间与 SHA-256）；serve 每 5 分钟自动做。"""
    from alerts.outbox import Outbox
    from config.env import get_env
    from pipeline import clock
    from pipeline.browser import BrowserMissing
    from pipeline.evidence import RECENT, capture, wanted

    env = get_env()
    now = clock.now()
    outbox = Outbox(env.outbox_path, read_only=True)
    try:
        alerts = [(a.post_id, a.url) for a in outbox.alerts(since=now - RECENT) if a.about_event]
    finally:
        outbox.close()
    todo = wanted(env, alerts)
    if not todo:
        out.print("没有待存证的预警帖子", highlight=False)
        return
    try:
        taken, failed = capture(env, todo, now)
    except BrowserMissing as exc:
        raise fail(str(exc), Exit.FAILED) from None
    out.print(f"已存证 {len(taken)} 条，保存在 {env.data_dir / 'evidence'}", highlight=False)
    for line in failed:
        err.print(f"未能存证 {line}（稍后再试，最多 3 次）", highlight=False)
    if failed:
        raise typer.Exit(Exit.FAILED)
