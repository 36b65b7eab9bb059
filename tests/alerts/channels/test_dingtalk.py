"""DingTalk group bot against a real receiver that checks 加签 and the 20-a-minute limit like DingTalk:
HTTP 200 with a non-zero errcode is a failure, signing is right, mentions ring, no token leaks."""

from __future__ import annotations

import logging

import pytest

from alerts.channels import ChannelUnavailable, Message
from alerts.channels.dingtalk import DingTalkChannel
from classifiers.types import Level
from tests.alerts.conftest import make_alert
from tests.alerts.receiver import BotReceiver

SECRET = "SECabc123def456"


def channel(receiver: BotReceiver, secret: str = SECRET, **options: object) -> DingTalkChannel:
    environ = {"YUQING_DINGTALK_URL": receiver.dingtalk_url, "YUQING_DINGTALK_SECRET": secret}
    spec = {"url_env": "YUQING_DINGTALK_URL", "secret_env": "YUQING_DINGTALK_SECRET", **options}
    return DingTalkChannel("duty-dingtalk", spec, environ=environ)


def message(level: Level = Level.SENSITIVE, recipient: str = "市网信办值班室", n: int = 1) -> Message:
    alert = make_alert(n, level)
    return Message(recipient, alert.subject(), alert.render(), key=f"{alert.key}|{recipient}", level=level)


def test_a_signed_markdown_alert_reaches_the_group_and_rings_the_units_people(receiver: BotReceiver) -> None:
    bot = channel(receiver, mentions={"市网信办值班室": ["13800000000"]})
    result = bot.send(message())
    assert result.ok, result.error
    [got] = receiver.of("dingtalk")
    assert got.answer == "dingtalk_ok"
    assert {"access_token", "timestamp", "sign"} <= set(got.query)
    assert got.body["msgtype"] == "markdown"
    assert got.body["markdown"]["title"] == "【复杂敏感事件】濮阳县一化工厂被指偷排废水（1）"
    text = got.body["markdown"]["text"]
    assert text.startswith("#### 【复杂敏感事件】濮阳县一化工厂被指偷排废水（1）\n\n属地：濮阳县")
    assert "回应时限：2026-11-25 09:00前" in text
    # A mention only rings when the number is also in the text.
    assert got.body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert text.endswith("@13800000000")


def test_everyone_is_mentioned_from_the_configured_level_up(receiver: BotReceiver) -> None:
    bot = channel(receiver, msgtype="text", mention_all_from="重大突发事态")
    assert bot.send(message(Level.SENSITIVE)).ok
    assert bot.send(message(Level.MAJOR_EMERGENCY, n=2)).ok
    sensitive, major = receiver.of("dingtalk")
    assert sensitive.body["at"]["isAtAll"] is False
    assert major.body["at"]["isAtAll"] is True
    assert major.body["msgtype"] == "text"
    assert major.body["text"]["content"].startswith("【重大突发事态】")


def test_a_wrong_secret_is_refused_in_a_200_body_and_is_not_worth_retrying(receiver: BotReceiver) -> None:
    result = channel(receiver, secret="SECnot-the-one").send(message())
    [got] = receiver.of("dingtalk")
    assert got.answer == "dingtalk_sign_not_match"  # the platform answered HTTP 200
    assert not result.ok
    assert result.permanent
    assert "errcode 310000" in result.error
    assert "签名不匹配" in result.error


def test_an_unknown_token_is_refused(receiver: BotReceiver) -> None:
    environ = {"YUQING_DINGTALK_URL": receiver.dingtalk_url.replace("dt-", "xx-")}
    bot = DingTalkChannel("duty-dingtalk", {"url_env": "YUQING_DINGTALK_URL"}, environ=environ)
    result = bot.send(message())
    assert not result.ok
    assert result.permanent
    assert "errcode 300005 token is not exist" in result.error


def test_the_21st_message_in_a_minute_is_refused_and_the_bot_held_back_ten_minutes(
    receiver: BotReceiver,
) -> None:
    # The channel itself never holds back: the dispatcher's rate window does (see test_dispatcher).
    bot = channel(receiver)
    results = [bot.send(message(n=n)) for n in range(22)]
    assert all(r.ok for r in results[:20])
    for refused in results[20:]:
        assert not refused.ok
        assert "errcode 130101 send too fast" in refused.error
        assert refused.retry_after == 600
        assert not refused.permanent


def test_no_token_or_secret_reaches_an_error_a_log_or_doctor(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {
        # Nothing listens on port 9 of loopback.
        "YUQING_DINGTALK_URL": "http://127.0.0.1:9/robot/send?access_token=TOKEN-must-not-leak",
        "YUQING_DINGTALK_SECRET": "SEC-must-not-leak",
    }
    bot = DingTalkChannel(
        "duty-dingtalk",
        {"url_env": "YUQING_DINGTALK_URL", "secret_env": "YUQING_DINGTALK_SECRET"},
        environ=environ,
    )
    result = bot.send(message())
    assert not result.ok
    assert not result.permanent  # unreachable: worth retrying
    assert "连不上钉钉" in result.error
    for text in (result.error, caplog.text, str(bot.describe())):
        assert "must-not-leak" not in text
    assert bot.describe() == {
        "name": "duty-dingtalk",
        "type": "dingtalk",
        "rate": "20/60s",
        "to": "http://127.0.0.1:9",
    }


def test_a_channel_whose_variable_is_not_set_is_unavailable_and_says_which() -> None:
    with pytest.raises(ChannelUnavailable, match="环境变量 YUQING_DINGTALK_URL 未设置"):
        DingTalkChannel("duty-dingtalk", {"url_env": "YUQING_DINGTALK_URL"}, environ={})
