"""WeCom group bot against a real receiver: errcode in a 200 body decides, mobiles are mentioned in text
messages, the 20-a-minute limit answers 45009, and over-long text is cut to what WeCom accepts."""

from __future__ import annotations

from alerts.channels import Message
from alerts.channels.wecom import TEXT_MAX_BYTES, WeComChannel
from classifiers.types import Level
from tests.alerts.conftest import make_alert
from tests.alerts.receiver import BotReceiver


def channel(url: str, **options: object) -> WeComChannel:
    return WeComChannel(
        "county-wecom", {"url_env": "YUQING_WECOM_URL", **options}, environ={"YUQING_WECOM_URL": url}
    )


def message(
    level: Level = Level.SENSITIVE, recipient: str = "清丰县委宣传部", body: str | None = None
) -> Message:
    alert = make_alert(1, level, county="清丰县")
    return Message(
        recipient, alert.subject(), body or alert.render(), key=f"{alert.key}|{recipient}", level=level
    )


def test_a_text_alert_mentions_the_units_mobiles_and_everyone_when_major(receiver: BotReceiver) -> None:
    bot = channel(
        receiver.wecom_url, mentions={"清丰县委宣传部": ["13900000000"]}, mention_all_from="重大突发事态"
    )
    assert bot.send(message()).ok
    assert bot.send(message(Level.MAJOR_EMERGENCY)).ok
    sensitive, major = receiver.of("wecom")
    assert sensitive.answer == "wecom_ok"
    assert sensitive.body == {
        "msgtype": "text",
        "text": {
            "content": make_alert(1, county="清丰县").render(),
            "mentioned_mobile_list": ["13900000000"],
        },
    }
    assert major.body["text"]["mentioned_mobile_list"] == ["13900000000", "@all"]


def test_markdown_quotes_the_alert_under_a_bold_title(receiver: BotReceiver) -> None:
    assert channel(receiver.wecom_url, msgtype="markdown").send(message()).ok
    [got] = receiver.of("wecom")
    content = got.body["markdown"]["content"]
    assert content.startswith("**【复杂敏感事件】清丰县一化工厂被指偷排废水（1）**\n> 属地：清丰县")


def test_an_invalid_key_is_refused_in_the_body_and_is_not_worth_retrying(receiver: BotReceiver) -> None:
    result = channel(receiver.wecom_url.replace("key=5f", "key=00")).send(message())
    assert not result.ok
    assert result.permanent
    assert "errcode 93000 invalid webhook url" in result.error
    assert "key=00" not in result.error


def test_over_twenty_a_minute_is_answered_45009_and_retried_later(receiver: BotReceiver) -> None:
    bot = channel(receiver.wecom_url)
    results = [bot.send(message()) for _ in range(21)]
    assert all(r.ok for r in results[:20])
    assert not results[20].ok
    assert "errcode 45009 api freq out of limit" in results[20].error
    assert results[20].retry_after == 60
    assert not results[20].permanent


def test_text_longer_than_wecom_takes_is_cut_on_a_character_boundary(receiver: BotReceiver) -> None:
    assert channel(receiver.wecom_url).send(message(body="舆情" * 2000)).ok
    [got] = receiver.of("wecom")
    content = got.body["text"]["content"]
    assert len(content.encode("utf-8")) <= TEXT_MAX_BYTES
    assert content.endswith("…（已截断）")
    assert content.startswith("舆情舆情")
