"""The dispatcher against real receivers: a refusing bot falls back to email and shows up dead in
`yuqing doctor`, rate windows defer instead of getting a bot blocked, failures back off, nothing
acknowledged is sent twice, low levels go out as one digest per unit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alerts.dispatcher import delivery_checks, dispatch, dispatch_digest, open_channels
from alerts.outbox import Outbox
from classifiers.types import Level
from config.loader import DEFAULT_DIR
from config.models import AlertsFile
from tests.alerts.conftest import NOW, SMTP_PASSWORD, SMTP_USER, FakeTime, SmtpServer, make_alert
from tests.alerts.receiver import BotReceiver

# The same behaviour on the SQLite file and on PostgreSQL.
pytestmark = pytest.mark.usefixtures("alerts_backend")

ROOT = Path(__file__).resolve().parents[2]
UNIT, DUTY = "市生态环境局濮阳县分局", "市网信办值班室"


def alerts_yaml(smtp: SmtpServer | None = None, **extra: object) -> dict:
    channels: list[dict] = [
        {"name": "console", "type": "console"},
        {
            "name": "duty-dingtalk",
            "type": "dingtalk",
            "options": {"url_env": "YUQING_DINGTALK_URL", "secret_env": "YUQING_DINGTALK_SECRET"},
        },
        {"name": "duty-screen", "type": "webhook", "options": {"url_env": "YUQING_SCREEN_URL"}},
    ]
    if smtp is not None:
        channels.append(
            {
                "name": "office-mail",
                "type": "email",
                "options": {
                    "host": smtp.host,
                    "port": smtp.port,
                    "security": "none",
                    "user": SMTP_USER,
                    "password_env": "YUQING_SMTP_PASSWORD",
                    "from": "yuqing@example.gov.cn",
                    "to": {UNIT: ["fj@example.gov.cn"]},
                    "default_to": ["wxb-duty@example.gov.cn"],
                },
            }
        )
    return {
        "min_level": "社会热点问题",
        "channels": channels,
        "recipients": {UNIT: ["duty-dingtalk"], DUTY: ["duty-dingtalk"]},
        **extra,
    }


def environ(receiver: BotReceiver, secret: str = "SECabc123def456") -> dict[str, str]:
    return {
        "YUQING_DINGTALK_URL": receiver.dingtalk_url,
        "YUQING_DINGTALK_SECRET": secret,
        "YUQING_SCREEN_URL": receiver.webhook_url,
        "YUQING_SMTP_PASSWORD": SMTP_PASSWORD,
    }


def run(outbox: Outbox, config: AlertsFile, env: dict[str, str], clock: FakeTime | None = None, **kw: object):
    timing = {"timer": clock, "sleep": clock.sleep} if clock else {}
    channels, unavailable = open_channels(config, environ=env, **({"timer": clock} if clock else {}))
    return dispatch(outbox, config, channels, lambda: NOW, unavailable=unavailable, **timing, **kw)


def test_a_refusing_bot_falls_back_to_email_and_doctor_reports_it_dead(
    tmp_path: Path, receiver: BotReceiver, smtp: SmtpServer
) -> None:
    config = AlertsFile.model_validate(alerts_yaml(smtp, fallback=["office-mail", "console"]))
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    for n in range(3):
        outbox.enqueue(make_alert(n))
    # The bot's secret was rotated and nobody told us: DingTalk answers 310000 in an HTTP 200.
    report = run(outbox, config, environ(receiver, secret="SECold"), wait=0)

    assert (report.sent, report.fell_back) == (6, 6)
    assert report.channels_dead == ["duty-dingtalk"]
    # Three refusals make the bot dead; after that nobody waits on it.
    assert [r.answer for r in receiver.of("dingtalk")] == ["dingtalk_sign_not_match"] * 3
    mails = sorted((rcpts[0], mail["Subject"]) for rcpts, mail in smtp.mailbox.messages)
    assert [rcpt for rcpt, _subject in mails] == ["fj@example.gov.cn"] * 3 + ["wxb-duty@example.gov.cn"] * 3
    deliveries = outbox.deliveries()
    assert {(d.status, d.via) for d in deliveries} == {("sent", "office-mail")}
    assert all(d.chain == ["duty-dingtalk", "office-mail", "console"] for d in deliveries)
    [health] = outbox.health("duty-dingtalk")
    assert health.failures == 3
    assert health.dead_since is not None
    assert "errcode 310000" in health.last_error
    outbox.close()

    checks = {
        what: (ok, detail)
        for ok, what, detail in delivery_checks(
            config, tmp_path / "alerts.sqlite3", environ=environ(receiver)
        )
    }
    ok, detail = checks["channel duty-dingtalk"]
    assert not ok
    assert "起失效（连续失败" in detail
    assert "errcode 310000" in detail
    assert checks["channel office-mail"][0] is True

    # The same seen by an office: `yuqing doctor` names the dead channel and fails.
    config_dir = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config_dir / "alerts.yaml").write_text(
        yaml.safe_dump(alerts_yaml(smtp, fallback=["office-mail", "console"]), allow_unicode=True),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        **environ(receiver, secret="SECold"),
        "YUQING_CONFIG_DIR": str(config_dir),
        "YUQING_DATA_DIR": str(tmp_path / "var"),
        "YUQING_OUTBOX": str(tmp_path / "alerts.sqlite3"),
        "COLUMNS": "250",
    }
    env.pop("ES_URL", None)
    doctor = subprocess.run(
        [sys.executable, "-m", "commands.cli", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert doctor.returncode == 1
    [line] = [row for row in doctor.stdout.splitlines() if "渠道 duty-dingtalk" in row]
    assert line.startswith("故障 渠道 duty-dingtalk：自 ")
    assert "起失效（连续失败 3 次）" in line
    assert "SECold" not in doctor.stdout
    assert "access_token" not in doctor.stdout


def test_a_full_rate_window_defers_instead_of_getting_the_bot_blocked(
    tmp_path: Path, fake_time: FakeTime
) -> None:
    config = AlertsFile.model_validate(alerts_yaml())
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    for n in range(25):
        outbox.enqueue(make_alert(n, first=(DUTY,), inform=()))
    with BotReceiver(dingtalk_secret="SECabc123def456", clock=fake_time) as receiver:
        first = run(outbox, config, environ(receiver), fake_time, wait=0)
        assert (first.sent, first.deferred, first.failed) == (20, 5, 0)
        waiting = [d for d in outbox.deliveries() if d.status == "pending"]
        assert len(waiting) == 5
        assert {d.next_attempt_at for d in waiting} == {fake_time.now + 60}

        fake_time.advance(59)
        assert run(outbox, config, environ(receiver), fake_time, wait=0).sent == 0
        fake_time.advance(1)
        assert run(outbox, config, environ(receiver), fake_time, wait=0).sent == 5
        # DingTalk never had reason to block the bot.
        assert [r.answer for r in receiver.of("dingtalk")] == ["dingtalk_ok"] * 25
    assert outbox.delivery_counts() == {"sent": 25}


def test_one_run_waits_for_the_window_when_allowed_to(tmp_path: Path, fake_time: FakeTime) -> None:
    config = AlertsFile.model_validate(alerts_yaml())
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    for n in range(25):
        outbox.enqueue(make_alert(n, first=(DUTY,), inform=()))
    with BotReceiver(dingtalk_secret="SECabc123def456", clock=fake_time) as receiver:
        report = run(outbox, config, environ(receiver), fake_time, wait=120)
        assert report.sent == 25
        assert fake_time.slept == [60]
        assert all(r.ok for r in receiver.of("dingtalk"))


def test_failures_back_off_and_the_acknowledged_delivery_is_never_repeated(
    tmp_path: Path, receiver: BotReceiver, fake_time: FakeTime
) -> None:
    config = AlertsFile.model_validate({**alerts_yaml(), "recipients": {DUTY: ["duty-screen"]}})
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.enqueue(make_alert(first=(DUTY,), inform=()))
    receiver.webhook_statuses = [503, 502]
    start = fake_time.now

    assert run(outbox, config, environ(receiver), fake_time, wait=0).failed == 1
    [delivery] = outbox.deliveries()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, start + 30)
    assert "接收方（Webhook）返回 HTTP 503" in delivery.last_error

    fake_time.advance(30)
    assert run(outbox, config, environ(receiver), fake_time, wait=0).failed == 1
    [delivery] = outbox.deliveries()
    assert (delivery.attempts, delivery.next_attempt_at) == (2, start + 30 + 60)

    fake_time.advance(60)
    assert run(outbox, config, environ(receiver), fake_time, wait=0).sent == 1
    fake_time.advance(3600)
    assert run(outbox, config, environ(receiver), fake_time, wait=0).sent == 0
    answers = receiver.of("webhook")
    assert [r.answer for r in answers] == ["HTTP 503", "HTTP 502", "HTTP 200"]
    # Every try of one delivery carries the same key, so the receiver can drop repeats.
    assert len({r.headers["idempotency-key"] for r in answers}) == 1
    [delivery] = outbox.deliveries()
    assert (delivery.status, delivery.attempts, delivery.via) == ("sent", 3, "duty-screen")


def test_a_bot_held_back_by_the_platform_passes_its_alerts_on_at_once(
    tmp_path: Path, receiver: BotReceiver, smtp: SmtpServer
) -> None:
    config = AlertsFile.model_validate(alerts_yaml(smtp, fallback=["office-mail"]))
    # Another system filled this bot's minute: DingTalk now holds it back for ten minutes.
    other, _ = open_channels(config, environ=environ(receiver))
    from alerts.channels import Message

    for _ in range(21):
        other["duty-dingtalk"].send(Message(DUTY, "巡检", "巡检"))
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.enqueue(make_alert(1, first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(2, first=(DUTY,), inform=()))
    report = run(outbox, config, environ(receiver), wait=0)
    assert (report.sent, report.fell_back) == (2, 2)
    # Only the first alert tried the bot; the second went straight to email.
    assert [r.answer for r in receiver.of("dingtalk")][21:] == ["dingtalk_send_too_fast"]
    assert len(smtp.mailbox.messages) == 2
    [health] = outbox.health("duty-dingtalk")
    assert health.resume_at is not None
    assert health.dead_since is None


def test_low_levels_wait_for_one_digest_per_unit(tmp_path: Path, receiver: BotReceiver) -> None:
    config = AlertsFile.model_validate(
        {
            **alerts_yaml(),
            "min_level": "一般性事项",
            "digest_below": "社会热点问题",
            "recipients": {DUTY: ["duty-screen"]},
        }
    )
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    for n in range(3):
        outbox.enqueue(make_alert(n, Level.GENERAL, first=(DUTY,), inform=()))
    outbox.enqueue(make_alert(9, Level.SENSITIVE, first=(DUTY,), inform=()))

    report = run(outbox, config, environ(receiver), wait=0)
    assert (report.sent, report.held) == (1, 3)
    [sensitive] = receiver.of("webhook")
    assert sensitive.body["subject"] == "【复杂敏感事件】濮阳县一化工厂被指偷排废水（9）"

    channels, unavailable = open_channels(config, environ=environ(receiver))
    digest = dispatch_digest(outbox, config, channels, lambda: NOW, unavailable=unavailable, wait=0)
    assert (digest.digests, digest.sent) == (1, 1)
    got = receiver.of("webhook")[1]
    assert got.body["subject"] == f"【舆情摘要】11-23 09:00 {DUTY}：3 条"
    assert got.body["id"] == f"digest@2026-11-23T09:00|{DUTY}"
    lines = got.body["text"].splitlines()
    assert lines[2:] == [
        f"{n + 1}. 【一般性事项】濮阳县一化工厂被指偷排废水（{n}）（濮阳县） 11-23 09:00 大河报 "
        f"https://news.sina.com.cn/c/doc-{n}.shtml"
        for n in range(3)
    ]
    assert outbox.delivery_counts() == {"sent": 2, "digested": 3}
    # The next checkpoint has nothing new to tell.
    again = dispatch_digest(outbox, config, channels, lambda: NOW, unavailable=unavailable, wait=0)
    assert (again.digests, again.sent) == (0, 0)
    assert len(receiver.of("webhook")) == 2


def test_a_unit_without_its_own_channel_is_told_once_on_the_console(
    tmp_path: Path, receiver: BotReceiver
) -> None:
    config = AlertsFile.model_validate({**alerts_yaml(), "recipients": {}})
    outbox = Outbox(tmp_path / "alerts.sqlite3")
    outbox.enqueue(make_alert())
    channels, _ = open_channels(config, environ=environ(receiver))
    import io

    from alerts.channels.console import ConsoleChannel

    screen = io.StringIO()
    channels["console"] = ConsoleChannel("console", {}, screen)
    report = dispatch(outbox, config, channels, lambda: NOW, wait=0)
    assert report.sent == 1
    assert screen.getvalue().count("── 致 控制台 ──") == 1
    assert "第一责任主体：市生态环境局濮阳县分局" in screen.getvalue()
