"""Feishu group bot against a real receiver that checks 签名校验 and Feishu's 100/min and 5/s limits:
`code` in a 200 body decides, the signature travels in the body, mentions use open ids."""

from __future__ import annotations

from alerts.channels import Message
from alerts.channels.feishu import FeishuChannel
from classifiers.types import Level
from tests.alerts.conftest import FakeTime, make_alert
from tests.alerts.receiver import BotReceiver


def channel(
    receiver: BotReceiver, secret: str = "fs-sign-secret", timer=None, **options: object
) -> FeishuChannel:
    environ = {"YUQING_FEISHU_URL": receiver.feishu_url, "YUQING_FEISHU_SECRET": secret}
    spec = {"url_env": "YUQING_FEISHU_URL", "secret_env": "YUQING_FEISHU_SECRET", **options}
    return FeishuChannel("city-feishu", spec, environ=environ, **({"timer": timer} if timer else {}))


def message(level: Level = Level.SENSITIVE, recipient: str = "市委宣传部") -> Message:
    alert = make_alert(1, level)
    return Message(recipient, alert.subject(), alert.render(), key=f"{alert.key}|{recipient}", level=level)


def test_a_signed_rich_text_post_reaches_the_group_with_its_mentions(receiver: BotReceiver) -> None:
    bot = channel(receiver, mentions={"市委宣传部": ["ou_0123456789abcdef"]})
    result = bot.send(message())
    assert result.ok, result.error
    [got] = receiver.of("feishu")
    assert got.answer == "feishu_ok"
    assert got.body["timestamp"].isdigit()
    assert got.body["sign"]
    assert got.body["msg_type"] == "post"
    post = got.body["content"]["post"]["zh_cn"]
    assert post["title"] == "【复杂敏感事件】濮阳县一化工厂被指偷排废水（1）"
    assert post["content"][0] == [{"tag": "text", "text": "属地：濮阳县"}]
    assert post["content"][-1] == [{"tag": "at", "user_id": "ou_0123456789abcdef"}]


def test_text_messages_mention_everyone_for_major_emergencies(receiver: BotReceiver) -> None:
    bot = channel(receiver, msgtype="text", mention_all_from="重大突发事态")
    assert bot.send(message(Level.MAJOR_EMERGENCY)).ok
    [got] = receiver.of("feishu")
    assert got.body["content"]["text"].endswith('\n<at user_id="all">所有人</at>')


def test_a_wrong_secret_is_refused_with_19021_and_is_not_worth_retrying(receiver: BotReceiver) -> None:
    result = channel(receiver, secret="not-the-secret").send(message())
    assert receiver.of("feishu")[0].answer == "feishu_sign_match_fail"
    assert not result.ok
    assert result.permanent
    assert "code 19021 sign match fail" in result.error


def test_a_sixth_message_within_a_second_is_answered_9499(fake_time: FakeTime) -> None:
    with BotReceiver(feishu_secret="fs-sign-secret", clock=fake_time) as receiver:
        bot = channel(receiver, timer=fake_time)
        results = [bot.send(message()) for _ in range(6)]
        assert all(r.ok for r in results[:5])
        assert not results[5].ok
        assert "code 9499 too many request" in results[5].error
        assert results[5].retry_after == 60
        fake_time.advance(1.5)
        assert bot.send(message()).ok
