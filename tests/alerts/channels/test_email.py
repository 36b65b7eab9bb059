"""Email through a real SMTP server (aiosmtpd) on 127.0.0.1: a UTF-8 mail to the unit's own addresses,
logged in with the password from the environment; refusals and outages are told apart."""

from __future__ import annotations

from alerts.channels import Message
from alerts.channels.email import EmailChannel
from tests.alerts.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, make_alert


def channel(
    smtp: SmtpServer, password: str = SMTP_PASSWORD, port: int | None = None, **options: object
) -> EmailChannel:
    spec = {
        "host": smtp.host,
        "port": port or smtp.port,
        "security": "none",
        "user": SMTP_USER,
        "password_env": "YUQING_SMTP_PASSWORD",
        "from": "yuqing@example.gov.cn",
        "to": {"市委宣传部": ["xcb@example.gov.cn", "xcb-duty@example.gov.cn"]},
        **options,
    }
    return EmailChannel("office-mail", spec, environ={"YUQING_SMTP_PASSWORD": password})


def message(recipient: str = "市委宣传部") -> Message:
    alert = make_alert()
    return Message(recipient, alert.subject(), alert.render(), key=f"{alert.key}|{recipient}")


def test_the_unit_gets_a_utf8_mail_with_subject_and_body(smtp: SmtpServer) -> None:
    result = channel(smtp).send(message())
    assert result.ok, result.error
    assert smtp.mailbox.logins == [SMTP_USER]
    [(rcpts, mail)] = smtp.mailbox.messages
    assert rcpts == ["xcb@example.gov.cn", "xcb-duty@example.gov.cn"]
    assert mail["Subject"] == "【复杂敏感事件】濮阳县一化工厂被指偷排废水（1）"
    assert mail["From"] == "yuqing@example.gov.cn"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert "第一责任主体：市生态环境局濮阳县分局" in body
    assert "回应时限：2026-11-25 09:00前" in body


def test_a_resend_of_the_same_delivery_is_the_same_mail(smtp: SmtpServer) -> None:
    mail = channel(smtp)
    assert mail.send(message()).ok
    assert mail.send(message()).ok
    first, second = (m for _rcpts, m in smtp.mailbox.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@example.gov.cn>")


def test_units_without_an_address_go_to_default_to_or_are_refused_for_good(smtp: SmtpServer) -> None:
    refused = channel(smtp).send(message("清丰县委宣传部"))
    assert not refused.ok
    assert refused.permanent
    assert refused.error == "没有 清丰县委宣传部 的邮箱地址：请在渠道 office-mail 的 options.to 下添加"
    assert channel(smtp, default_to=["wxb-duty@example.gov.cn"]).send(message("清丰县委宣传部")).ok
    assert smtp.mailbox.messages[-1][0] == ["wxb-duty@example.gov.cn"]


def test_a_wrong_password_is_refused_for_good_and_never_shown(smtp: SmtpServer) -> None:
    result = channel(smtp, password="wrong-password").send(message())
    assert not result.ok
    assert result.permanent
    assert result.error.startswith("邮件服务器拒绝：535")
    assert "wrong-password" not in result.error
    assert smtp.mailbox.messages == []


def test_a_server_that_is_down_is_worth_retrying(smtp: SmtpServer) -> None:
    result = channel(smtp, port=9).send(message())
    assert not result.ok
    assert not result.permanent
    assert result.error.startswith("邮件服务器 127.0.0.1：ConnectionRefusedError")
