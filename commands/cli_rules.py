"""`yuqing rules`: the analysts' keyword rules, versioned in the alerts database. `import` takes a rules file
(the format of config/rules.yaml), checked whole before anything changes, as a new version in force from the
next patrol; `export` writes a version back to a file, so an office can keep its rules under version control;
`versions` lists who saved what, when and why, `show` what a version changed, `restore` brings an old one back
as a new version. With `--demo`, the demo's rules. Registered in commands/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.cli_workflow import ACTING, Actor, _local, _table, _workflow
from commands.common import fail, out, write_out
from commands.demo import demo_option
from commands.userpaths import user_path
from config.errors import ConfigError

rules_app = typer.Typer(help="关键词规则的版本：导入、导出、查看、恢复", no_args_is_help=True)
RULES = ACTING  # not the rules themselves: a broken rules.yaml must not stop a good file from replacing it


@rules_app.command("import")
@demo_option
def import_(
    file: Annotated[Path, typer.Argument(help="规则文件（config/rules.yaml 的格式）", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="为什么改，如 新增欠薪类规则")],
    actor: Actor = None,
) -> None:
    """把规则文件存为新版本：整份检查无误才保存，下一次巡查起生效，无需重启（须以分析员或管理员账号操作）。"""
    from alerts.rulebook import Rulebook, diff
    from config.env import get_env

    path = user_path(str(file))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"无法读取 {path}：{exc}") from None
    with _workflow(RULES) as workflow:
        book = Rulebook(workflow, get_env())
        try:
            before = book.current()
            saved = book.save(actor or "", text, reason)
        except ConfigError as exc:
            raise fail(f"{str(exc).replace('要保存的规则', str(path), 1)}；规则未作任何改动") from None
        changes = diff(before.rules() if before else book.before(saved), saved.rules())
    out.print(
        f"已保存为第 {saved.number} 版（{len(saved.rules().rules)} 条规则，改动 {len(changes)} 条），"
        "下一次巡查起生效",
        highlight=False,
    )


@rules_app.command("export")
@demo_option
def export(
    file: Annotated[
        Path | None, typer.Argument(help="写入的文件；不写则输出到屏幕", show_default=False)
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="导出第几版；默认现行版本")] = None,
) -> None:
    """导出规则为 rules.yaml 格式（默认现行版本；还没保存过版本时即配置文件夹里的 rules.yaml）。"""
    from alerts.rulebook import Rulebook
    from config.env import get_env

    with _workflow(RULES, reading=True) as workflow:
        book = Rulebook(workflow, get_env())
        if version is None:
            text = book.text_in_force()
        elif (chosen := book.get(version)) is None:
            raise fail(f"没有第 {version} 版规则（见 yuqing rules versions）")
        else:
            text = chosen.body
    write_out(text, file)


@rules_app.command("versions")
@demo_option
def versions() -> None:
    """列出规则的各个版本：第几版、何时、谁、为什么，第一行为现行版本。"""
    from alerts.rulebook import Rulebook
    from config.env import get_env

    with _workflow(RULES, reading=True) as workflow:
        found = Rulebook(workflow, get_env()).versions()
    if not found:
        out.print("还没有保存过规则版本：现行规则是配置文件夹里的 rules.yaml", highlight=False)
        return
    table = _table(f"关键词规则：{len(found)} 个版本，第 {found[0].number} 版现行")
    for column in ("版本", "保存时间", "账号", "原因"):
        table.add_column(column, overflow="fold")
    for v in found:
        again = f"（恢复自第 {v.restored_from} 版）" if v.restored_from else ""
        table.add_row(str(v.number), _local(v.saved_at), v.account, v.reason + again)
    out.print(table)


@rules_app.command("show")
@demo_option
def show(version: Annotated[int, typer.Argument(help="第几版")]) -> None:
    """显示某一版相对上一版改了哪些规则、哪些字段。"""
    from alerts.rulebook import Rulebook, diff
    from config.env import get_env

    with _workflow(RULES, reading=True) as workflow:
        book = Rulebook(workflow, get_env())
        chosen = book.get(version)
        if chosen is None:
            raise fail(f"没有第 {version} 版规则（见 yuqing rules versions）")
        changes = diff(book.before(chosen), chosen.rules())
    table = _table(f"第 {chosen.number} 版：{_local(chosen.saved_at)} {chosen.account}，{chosen.reason}")
    for column in ("规则", "改动", "字段", "原来", "现在"):
        table.add_column(column, overflow="fold")
    for change in changes:
        for label, was, now in change.fields:
            table.add_row(change.rule_id, change.kind, label, was, now)
    out.print(table if changes else f"第 {chosen.number} 版与上一版内容相同", highlight=False)


@rules_app.command("restore")
@demo_option
def restore(
    version: Annotated[int, typer.Argument(help="恢复到第几版")],
    reason: Annotated[str, typer.Option("--reason", help="为什么恢复")] = "",
    actor: Actor = None,
) -> None:
    """把某一旧版本恢复为现行规则（存为一个新版本，下一次巡查起生效）。"""
    from alerts.rulebook import Rulebook
    from config.env import get_env

    with _workflow(RULES) as workflow:
        saved = Rulebook(workflow, get_env()).restore(actor or "", version, reason)
    out.print(f"已把第 {version} 版恢复为第 {saved.number} 版，下一次巡查起生效", highlight=False)
