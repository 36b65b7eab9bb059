"""No configured secret comes back: when a platform's refusal repeats the bare token, nothing stored in the
outbox, shown by `yuqing doctor` or written to the `-v` log holds it; and every secret the config names
(webhook keys, signing secrets, the SMTP password, Weibo cookies, proxy passwords) is masked in any log line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.outbox import Outbox
from config.loader import DEFAULT_DIR
from tests.alerts.conftest import SMTP_USER, free_port, make_alert
from tests.alerts.receiver import BotReceiver
from tests.helpers import office_env

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-23T09:00:00+08:00"

# What this office configured; the receiver expects other tokens, so every bot refuses and repeats ours.
DINGTALK_TOKEN = "dt-ours-4e8a1c9b7d2f"
DINGTALK_SECRET = "SECours9f3e7a1b5c"
WECOM_KEY = "0d9b7e1a-3c5f-4a8e-9b2d-6f4e1c8a7b30"
FEISHU_HOOK = "9a7c5e3b-1d2f-4e6a-8b0c-2d4f6a8c0e1b"
FEISHU_SECRET = "fs-ours-8c2e6a"
HOOK_TOKEN = "bearer-ours-51d7c3e9"
SMTP_PASSWORD = "smtp-ours-6b4d2f8a"
UNITS = {
    "duty-dingtalk": "市网信办值班室",
    "city-wecom": "市委宣传部",
    "city-feishu": "市政府办",
    "screen": "市网信办",
    "office-mail": "市生态环境局",
}


class EchoingMailbox:
    """An SMTP server whose refusal quotes the password it was given, as some servers' logs do."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        password = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else ""
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials {password}")


@pytest.fixture
def echoing_smtp() -> Iterator[int]:
    port = free_port()
    controller = Controller(
        EchoingMailbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=EchoingMailbox().authenticate,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def alerts_yaml(smtp_port: int) -> str:
    recipients = "\n".join(f"  {unit}: [{channel}]" for channel, unit in UNITS.items())
    return (
        textwrap.dedent(
            f"""
        min_level: 一般性事项
        channels:
          - name: duty-dingtalk
            type: dingtalk
            options: {{url_env: YUQING_DINGTALK_URL, secret_env: YUQING_DINGTALK_SECRET}}
          - name: city-wecom
            type: wecom
            options: {{url_env: YUQING_WECOM_URL}}
          - name: city-feishu
            type: feishu
            options: {{url_env: YUQING_FEISHU_URL, secret_env: YUQING_FEISHU_SECRET}}
          - name: screen
            type: webhook
            options: {{url_env: YUQING_SCREEN_URL, token_env: YUQING_SCREEN_TOKEN}}
          - name: office-mail
            type: email
            options:
              host: 127.0.0.1
              port: {smtp_port}
              security: none
              user: {SMTP_USER}
              password_env: YUQING_SMTP_PASSWORD
              from: {SMTP_USER}
              default_to: [duty@example.gov.cn]
        delivery:
          attempts_per_channel: 1
          wait_seconds: 0
        recipients:
        """
        )
        + recipients
        + "\n"
    )


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commands.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_refusal_that_repeats_the_token_leaves_it_nowhere(tmp_path: Path, echoing_smtp: int) -> None:
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (office / "alerts.yaml").write_text(alerts_yaml(echoing_smtp), encoding="utf-8")
    data = tmp_path / "var"
    outbox = Outbox(data / "alerts.sqlite3")
    outbox.enqueue(make_alert(first=tuple(UNITS.values()), inform=()))
    outbox.close()

    with BotReceiver(echo=True) as receiver:
        secrets = [DINGTALK_TOKEN, DINGTALK_SECRET, WECOM_KEY, FEISHU_HOOK, FEISHU_SECRET, HOOK_TOKEN]
        secrets.append(SMTP_PASSWORD)
        receiver.webhook_statuses = [401]
        env = office_env(data)
        env |= {
            "YUQING_CONFIG_DIR": str(office),
            "YUQING_NOW": NOW,
            "YUQING_DINGTALK_URL": f"{receiver.base_url}/robot/send?access_token={DINGTALK_TOKEN}",
            "YUQING_DINGTALK_SECRET": DINGTALK_SECRET,
            "YUQING_WECOM_URL": f"{receiver.base_url}/cgi-bin/webhook/send?key={WECOM_KEY}",
            "YUQING_FEISHU_URL": f"{receiver.base_url}/open-apis/bot/v2/hook/{FEISHU_HOOK}",
            "YUQING_FEISHU_SECRET": FEISHU_SECRET,
            "YUQING_SCREEN_URL": f"{receiver.base_url}/hook",
            "YUQING_SCREEN_TOKEN": HOOK_TOKEN,
            "YUQING_SMTP_PASSWORD": SMTP_PASSWORD,
        }
        deliver = cli("-v", "deliver", env=env)
        assert {r.bot for r in receiver.received} == {"dingtalk", "wecom", "feishu", "webhook"}
        assert not any(r.ok for r in receiver.received)
    doctor = cli("doctor", env={**env, "YUQING_CHROMIUM": str(tmp_path / "no-browser")})

    db = sqlite3.connect(data / "alerts.sqlite3")
    stored = "\n".join(db.iterdump())
    db.close()
    raw = b"".join(p.read_bytes() for p in data.glob("alerts.sqlite3*") if p.is_file())
    # The refusals themselves were kept, with the rest of what the platforms said.
    for said in ("token is not exist (token ***)", "invalid webhook url", "sign match fail", "HTTP 401"):
        assert said in stored, said
    assert "bad credentials ***" in stored
    assert "待发送预警" in doctor.stdout
    assert "token ***" in doctor.stdout
    assert "钉钉拒收" in deliver.stderr  # the -v log tells the refusal
    for secret in secrets:
        for where, text in (
            ("outbox", stored),
            ("deliver", deliver.stdout + deliver.stderr),
            ("doctor", doctor.stdout + doctor.stderr),
        ):
            assert secret not in text, f"{secret} in {where}"
        assert secret.encode() not in raw, f"{secret} in the bytes of alerts.sqlite3"


LOGGER = textwrap.dedent(
    """
    import logging, sys
    from config.secrets import install_log_masking

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
    install_log_masking()
    # A handler added later, as Scrapy adds its own once it starts.
    late = logging.StreamHandler(sys.stdout)
    logging.getLogger().addHandler(late)
    log = logging.getLogger("scrapy.downloadermiddlewares.httpproxy")
    log.warning("proxy %s refused", sys.argv[1])
    log.warning("password %s, cookie value %s", sys.argv[2], sys.argv[3])
    log.warning("node %s, %s", sys.argv[5], sys.argv[6])
    try:
        raise ConnectionError(f"via {sys.argv[1]} with Cookie: {sys.argv[4]}")
    except ConnectionError:
        logging.getLogger("alerts.dispatcher").exception("delivery failed")
    """
)


def test_every_secret_the_config_names_is_masked_in_every_log_line(tmp_path: Path) -> None:
    office = tmp_path / "office"
    shutil.copytree(DEFAULT_DIR, office, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    sources = (office / "sources.yaml").read_text(encoding="utf-8")
    # The first source goes through a proxy whose URL (with its password) is in YUQING_PROXY_URL.
    sources = sources.replace("spider: sina_news", "spider: sina_news\n    proxy_env: YUQING_PROXY_URL", 1)
    (office / "sources.yaml").write_text(sources, encoding="utf-8")
    proxy = "http://crawler:pr0xy-Pass-8812@10.1.2.3:3128"
    cookie = "SUB=_2A25LxYzWDeRhGeNN7VYV8ynIyDuIHXVm0wXerDV8PUNbmtANLVrgkW9NSfYtZ2Q; SUBP=0033WrSXqPxfM725Ws9jqgMF55529P9D9W5"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env |= {"YUQING_CONFIG_DIR": str(office), "YUQING_PROXY_URL": proxy, "YUQING_WEIBO_COOKIE": cookie}
    env["ES_URL"] = "http://elastic:es-Pass-4471@127.0.0.1:9200"
    sub = cookie.split(";")[0].removeprefix("SUB=")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOGGER,
            proxy,
            "pr0xy-Pass-8812",
            sub,
            cookie,
            env["ES_URL"],
            "http://127.0.0.1:9200",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    log = result.stdout + result.stderr
    assert "proxy *** refused" in log
    assert "password ***, cookie value ***" in log
    assert "ConnectionError: via *** with Cookie: ***" in log  # the traceback too
    assert "node ***, http://127.0.0.1:9200" in log  # an address without its login is no secret
    for secret in (
        proxy,
        "pr0xy-Pass-8812",
        sub,
        "0033WrSXqPxfM725Ws9jqgMF55529P9D9W5",
        cookie,
        "es-Pass-4471",
    ):
        assert secret not in log
