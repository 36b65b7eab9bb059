"""`yuqing console`: the web console (console/) on the alerts database `serve` writes, or with `--demo`
on the demo's. Registered in commands/cli.py."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.cli_workflow import ACTING
from commands.common import Exit, err, fail, load_office
from commands.demo import demo_option
from config.env import get_env
from pipeline import clock


@demo_option
def console(
    host: Annotated[str, typer.Option("--host", help="监听地址；只在本机使用时保持 127.0.0.1")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="监听端口", min=1, max=65535)] = 8765,
) -> None:
    """启动网页控制台（值班台等页面），与 serve 共用预警数据库。浏览器打开 http://地址:端口/login 登录。"""
    import uvicorn

    from console import assets
    from console.app import create_app

    office = load_office(ACTING)
    path = get_env().outbox_path
    try:
        app = create_app(path, office, clock.now)
    except OSError as exc:
        raise fail(f"无法在 {path.parent} 读写控制台密钥：{exc}", Exit.FAILED) from None
    if assets.missing():
        err.print(
            f"注意：页面脚本 htmx 尚未安装，局部刷新不可用；请运行 {assets.HOW_TO_FETCH}", highlight=False
        )
    err.print(f"控制台：http://{host}:{port}/login（按 Ctrl+C 停止）", highlight=False, soft_wrap=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
