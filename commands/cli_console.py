"""`yuqing console`: the web console (console/) on the alerts database `serve` writes, or with `--demo`
on the demo's. Registered in commands/cli.py."""

from __future__ import annotations

import errno
import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Annotated

import typer

from commands.cli_workflow import ACTING
from commands.common import Exit, err, fail, load_office
from commands.demo import demo_option
from config.env import get_env
from pipeline import clock


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, opened before the server starts, so a taken port is said plainly."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        detail = "端口已被占用（可能已有一个控制台在运行），换一个 --port" if _in_use(exc) else str(exc)
        raise fail(f"无法在 {host}:{port} 监听：{detail}", Exit.FAILED) from None
    return sock


def _in_use(exc: OSError) -> bool:
    return exc.errno == errno.EADDRINUSE


@demo_option
def console(
    host: Annotated[str, typer.Option("--host", help="监听地址；只在本机使用时保持 127.0.0.1")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="监听端口", min=1, max=65535)] = 8765,
    cert: Annotated[
        Path | None,
        typer.Option("--cert", help="HTTPS 证书文件（PEM）；与 --key 一起给出时以 HTTPS 提供服务"),
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="HTTPS 证书的私钥文件（PEM）")] = None,
    behind_https: Annotated[
        bool,
        typer.Option("--behind-https", help="由前置的 HTTPS 反向代理转发时使用：会话 Cookie 只经 HTTPS 发送"),
    ] = False,
) -> None:
    """启动网页控制台（值班台等页面），与 serve 共用预警数据库。浏览器打开 http://地址:端口/login 登录。"""
    import uvicorn

    from console import assets
    from console.app import create_app
    from console.sessions import KeyFileError

    if (cert is None) != (key is None):
        raise fail("--cert 与 --key 须一起给出")
    https = cert is not None
    office = load_office(ACTING | {"sources"})  # the duty desk shows each source's health
    path = get_env().outbox_path
    try:
        app = create_app(path, office, clock.now, secure_cookies=https or behind_https)
    except (OSError, KeyFileError) as exc:
        raise fail(f"无法在 {path.parent} 读写控制台密钥：{exc}", Exit.FAILED) from None
    if assets.missing():
        err.print(
            f"注意：页面脚本 htmx 尚未安装，局部刷新不可用；请运行 {assets.HOW_TO_FETCH}",
            highlight=False,
            soft_wrap=True,
        )
    if not (_loopback(host) or https or behind_https):
        err.print(
            "注意：控制台在非本机地址上以明文 HTTP 提供服务，账号密码和会话会以明文经过网络；"
            "请用 --cert/--key 启用 HTTPS，或置于 HTTPS 反向代理之后并加 --behind-https",
            highlight=False,
            soft_wrap=True,
        )
    sock = _listen(host, port)
    scheme = "https" if https else "http"
    err.print(f"控制台：{scheme}://{host}:{port}/login（按 Ctrl+C 停止）", highlight=False, soft_wrap=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        # Open pages (their keep-alive connections, the live feed) do not hold up a stop for long.
        timeout_graceful_shutdown=5,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
    )
    try:
        config.load()  # reads the certificate now, so a bad one is said here
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise fail(f"无法使用 HTTPS 证书 {cert}（私钥 {key}）：{exc}", Exit.FAILED) from None
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
