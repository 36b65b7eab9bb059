"""`yuqing user`: the accounts that act on cases. An administrator adds and disables them; the first
administrator is made from the server's shell, with no account yet. With `--demo`, the demo's accounts,
beside its cases. Registered in commands/cli.py."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from alerts.accounts import AccountError, Role, roles_help
from commands.cli_workflow import ACTING, Actor, _local, _table, _workflow
from commands.common import fail, out
from commands.demo import demo_option

user_app = typer.Typer(help="账号：谁以什么角色、为哪个单位操作案件", no_args_is_help=True)


def _role(text: str) -> Role:
    try:
        return Role.parse(text)
    except AccountError as exc:
        raise typer.BadParameter(str(exc)) from None


@user_app.command("add")
@demo_option
def add(
    name: Annotated[str, typer.Argument(help="账号名，通常是本人姓名，如 王芳")],
    role: Annotated[str, typer.Option("--role", help=f"角色：{roles_help()}", metavar="角色")],
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit", help="所属单位（units.yaml 或 territory.yaml 中的单位名）；责任单位和督办必填"
        ),
    ] = None,
    actor: Actor = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读一行作为网页控制台的登录密码")
    ] = False,
) -> None:
    """添加账号（须以管理员账号操作；还没有管理员时，先创建第一个管理员）。"""
    from console.passwords import check_password, set_password

    chosen = _role(role)
    password = _read_password() if password_stdin else None
    if password is not None:
        try:
            check_password(name, password)  # before the account exists, so a weak password adds nothing
        except AccountError as exc:
            raise fail(str(exc)) from None
    # The password was checked above, so setting it after the account is added cannot be refused; the
    # add keeps its own transaction, so a refused add stays on the audit trail.
    with _workflow(ACTING) as workflow:
        account = workflow.accounts.add(name, chosen, unit, by=actor)
        if password is not None:
            set_password(workflow.accounts, name, password, by=actor or account.name, origin="shell")
    said = "，已设置登录密码" if password is not None else "（未设密码，不能登录网页控制台）"
    out.print(f"已添加账号：{account.describe()}{said}", highlight=False, soft_wrap=True)


def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise fail("标准输入没有读到密码：请用 echo 或管道把密码送入，如 … --password-stdin < 密码文件")
    return line


@user_app.command("passwd")
@demo_option
def passwd(
    name: Annotated[str, typer.Argument(help="要设置密码的账号名")],
    actor: Actor = None,
) -> None:
    """设置或重设账号的网页登录密码（从标准输入读一行；须以管理员账号操作）。重设后账号解锁，原登录失效。"""
    from console.passwords import set_password

    password = _read_password()
    with _workflow(ACTING) as workflow:
        admin = workflow.accounts.acting(actor)
        if admin.role is not Role.ADMIN and admin.name != name:
            workflow.accounts.refused(actor, "user_passwd", name, "只有管理员能重设他人的密码")
            raise fail(f"{admin.describe()}不能重设他人的密码：须以管理员账号操作")
        set_password(workflow.accounts, name, password, by=admin, origin="shell")
    out.print(f"已设置账号「{name}」的登录密码", highlight=False, soft_wrap=True)


@user_app.command("list")
@demo_option
def list_accounts() -> None:
    """列出账号：名称、角色、单位、状态，以及由谁、何时（北京时间）创建。"""
    with _workflow(ACTING, reading=True) as workflow:
        accounts = workflow.accounts.all()
    table: Table = _table(f"账号（{len(accounts)} 个）")
    table.add_column("账号", no_wrap=True)
    table.add_column("角色", no_wrap=True)
    table.add_column("单位", no_wrap=True)
    table.add_column("状态", overflow="fold")
    table.add_column("创建", overflow="fold")
    for account in accounts:
        state = "启用" if account.enabled else f"停用（{_local(account.disabled_at)} {account.disabled_by}）"
        table.add_row(
            account.name,
            account.role.label,
            account.unit or "-",
            state,
            f"{_local(account.created_at)} {account.created_by}",
        )
    out.print(table)
    if not accounts:
        out.print("还没有账号。先创建第一个管理员：yuqing user add 姓名 --role admin", highlight=False)


@user_app.command("disable")
@demo_option
def disable(
    name: Annotated[str, typer.Argument(help="要停用的账号名")],
    actor: Actor = None,
) -> None:
    """停用账号：此后不能再以它操作；它做过的事仍记录在案（须以管理员账号操作）。"""
    with _workflow(ACTING) as workflow:
        account = workflow.accounts.disable(name, by=actor)
    out.print(f"已停用账号：{account.describe()}", highlight=False, soft_wrap=True)
