"""What the delivery tests share: alerts to send, a real bot receiver and a real SMTP server on 127.0.0.1,
and a clock that a test moves by hand."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.models import Alert, alert_key
from classifiers.types import Level
from tests.alerts.receiver import BotReceiver

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")
SMTP_USER, SMTP_PASSWORD = "yuqing@example.gov.cn", "s3cret-smtp-pass"


@pytest.fixture(autouse=True)
def _no_account_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whoever runs the tests may have YUQING_ACCOUNT set for their own desk; each test names its account.
    monkeypatch.delenv("YUQING_ACCOUNT", raising=False)


def make_alert(
    n: int = 1,
    level: Level = Level.SENSITIVE,
    *,
    at: datetime = NOW,
    county: str = "濮阳县",
    first: tuple[str, ...] = ("市生态环境局濮阳县分局",),
    inform: tuple[str, ...] = ("市网信办值班室",),
    categories: tuple[str, ...] = ("生态环境",),
    reach: int = 0,
    post: str | None = None,
) -> Alert:
    event = f"event:sina:{n}"
    return Alert(
        key=alert_key(event, level),
        post_id=post or f"sina:{n}",
        event_id=event,
        level=level,
        title=f"{county}一化工厂被指偷排废水（{n}）",
        url=f"https://news.sina.com.cn/c/doc-{n}.shtml",
        source="大河报",
        summary="村民反映工厂夜间偷排。",
        created_at=at,
        reasons=["问题性质：命中规则「污水直排」"],
        first=list(first),
        claim=[],
        inform=list(inform),
        counties=[county],
        categories=list(categories),
        reach=reach,
    )


@dataclass
class FakeTime:
    """Real-seconds clock for rate windows and backoff that moves only when told (or slept on)."""

    now: float = 1_795_395_600.0  # 2026-11-23 09:00 +08:00
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def business(self) -> datetime:
        return NOW + timedelta(seconds=self.now - 1_795_395_600.0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def receiver() -> Iterator[BotReceiver]:
    with BotReceiver(dingtalk_secret="SECabc123def456", feishu_secret="fs-sign-secret") as server:
        yield server


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), mail))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # unhandled failure: the server answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that checks logins."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        # Plain SMTP on loopback; TLS itself is smtplib's business. PLAIN only: one answer per login.
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def alerts_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs a test once on the SQLite file and once on a fresh PostgreSQL database (YUQING_DB_URL), for
    the modules that say `pytestmark = pytest.mark.usefixtures("alerts_backend")`."""
    from config.env import get_env

    if request.param == "sqlite":
        monkeypatch.delenv("YUQING_DB_URL", raising=False)
        get_env.cache_clear()
        yield "sqlite"
        get_env.cache_clear()
        return
    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("YUQING_DB_URL", server.database(name))
    get_env.cache_clear()
    try:
        yield "postgresql"
    finally:
        get_env.cache_clear()
        server.drop(name)
