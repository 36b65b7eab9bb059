"""A console served by `yuqing console` in its own process on 127.0.0.1, on a fresh data folder with
accounts made by `yuqing user add --password-stdin` and alerts written to its outbox, and the system
Chromium driven by Playwright at 1366x768."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from alerts.calendar import SHANGHAI
from alerts.models import Alert
from alerts.outbox import Outbox
from classifiers.types import Level
from config.env import Env
from pipeline.browser import launch_options
from tests.helpers import PROJECT_ROOT, office_env, yuqing

PASSWORD = "Qf-2026-duty"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"

ACCOUNTS = (
    ("张伟", "admin", None),
    ("李娜", "duty", None),
    ("王芳", "unit", "清丰县政府办"),
    ("赵磊", "unit", "濮阳县政府办"),
    ("刘洋", "unit", "华龙区政府办"),
    ("陈静", "supervisor", "市委宣传部"),
)


def _alert(n: int, level: Level, county: str, unit: str, title: str, minutes_ago: int) -> Alert:
    event = f"event:console:{n}"
    return Alert(
        key=f"{event}@{level.value}",
        post_id=f"weibo:{n}",
        event_id=event,
        level=level,
        title=title,
        url=f"https://weibo.com/detail/{n}",
        source="新浪微博",
        summary="网民发帖反映情况，评论持续增加。",
        created_at=datetime.now(SHANGHAI) - timedelta(minutes=minutes_ago),
        reasons=["问题性质：命中规则「安全生产」"],
        first=[unit],
        inform=["市网信办值班室"],
        counties=[county],
    )


# The alerts' times are as many minutes before the console starts as they say: a module that runs late in the
# session must find the same deadlines still running (see `console`).
STAMPED_AT = datetime.now(SHANGHAI)
ALERTS = (
    _alert(1, Level.GENERAL, "华龙区", "华龙区政府办", "华龙区部分路段夜间施工噪音扰民", 5),
    _alert(2, Level.SENSITIVE, "濮阳县", "濮阳县政府办", "濮阳县一学校食堂被指使用过期食材", 40),
    _alert(3, Level.HOT_TOPIC, "清丰县", "清丰县政府办", "清丰县城区集中供暖迟迟未到位引热议", 90),
    _alert(
        4,
        Level.MAJOR_EMERGENCY,
        "清丰县",
        "清丰县政府办",
        "清丰县工业园区一化工厂发生爆炸<script>document.title='被注入'</script>",
        2,  # fresh: its claim is due at a patrol at least 10 minutes on, whatever the hour the tests run
    ),
)


@dataclass
class Console:
    url: str
    env: dict[str, str]
    data_dir: Path
    db_url: str = ""  # the PostgreSQL database the console runs on; empty: the SQLite file in data_dir

    def outbox(self, *, read_only: bool = False) -> Outbox:
        """The console's alerts database, as `serve` would open it."""
        return Outbox(self.data_dir / "alerts.sqlite3", read_only=read_only, url=self.db_url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], *options: str) -> Iterator[str]:
    """`yuqing console OPTIONS` in its own process on a free port, answering; its address."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "commands.cli", "console", *options, "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def wait_until_up(server: subprocess.Popen[str], url: str) -> None:
    """Until the console started as `server` answers at `url`; fails the test if it exits or takes a minute."""
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"yuqing console exited: {server.stderr.read() if server.stderr else ''}")
        try:
            requests.get(f"{url}/login", timeout=2)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                pytest.fail("yuqing console did not answer within 60 s")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Console]:
    """The console on SQLite, or on PostgreSQL where a module asks for it with
    `@pytest.mark.parametrize("console", ["postgresql"], indirect=True)`; a module may also give the
    console's environment more settings (its clock, say) as a dict there."""
    data_dir = tmp_path_factory.mktemp("console") / "var"
    asked = getattr(request, "param", "sqlite")
    extra = dict(asked) if isinstance(asked, dict) else {}
    if asked == "postgresql":
        server = request.getfixturevalue("postgres")
        extra["YUQING_DB_URL"] = server.database(f"console_{uuid.uuid4().hex[:12]}")
    db_url = extra.get("YUQING_DB_URL", "")
    env = office_env(data_dir, **extra)
    for name, role, unit in ACCOUNTS:
        args = ["user", "add", name, "--role", role, "--password-stdin"]
        args += ["--unit", unit] if unit else []
        args += ["--as", "张伟"] if name != "张伟" else []
        done = yuqing(*args, env=env, input=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr
    outbox = Console("", env, data_dir, db_url).outbox()
    try:
        shift = datetime.now(SHANGHAI) - STAMPED_AT
        for alert in ALERTS:
            assert outbox.enqueue(replace(alert, created_at=alert.created_at + shift))
    finally:
        outbox.close()
    with serving(env) as url:
        yield Console(url, env, data_dir, db_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_options(Env(_env_file=None)))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    try:
        yield context.new_page()
    finally:
        context.close()
