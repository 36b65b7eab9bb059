"""The generic JSON webhook against a real HTTP server: the alert as JSON with a stable idempotency key,
2xx delivered, 5xx retried, other 4xx not."""

from __future__ import annotations

from alerts.channels import Message
from alerts.channels.webhook import WebhookChannel, idempotency_key
from tests.alerts.conftest import make_alert
from tests.alerts.receiver import BotReceiver


def channel(receiver: BotReceiver) -> WebhookChannel:
    environ = {"YUQING_SCREEN_URL": receiver.webhook_url, "YUQING_SCREEN_TOKEN": "screen-token"}
    return WebhookChannel(
        "duty-screen", {"url_env": "YUQING_SCREEN_URL", "token_env": "YUQING_SCREEN_TOKEN"}, environ=environ
    )


def message() -> Message:
    alert = make_alert()
    return Message(
        "市网信办值班室",
        alert.subject(),
        alert.render(),
        key=f"{alert.key}|市网信办值班室",
        level=alert.level,
        data={"key": alert.key},
    )


def test_the_alert_arrives_as_json_with_its_idempotency_key(receiver: BotReceiver) -> None:
    assert channel(receiver).send(message()).ok
    [got] = receiver.of("webhook")
    assert got.headers["idempotency-key"] == idempotency_key("event:sina:1@复杂敏感事件|市网信办值班室")
    assert got.headers["authorization"] == "Bearer screen-token"
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert got.body["id"] == "event:sina:1@复杂敏感事件|市网信办值班室"
    assert got.body["recipient"] == "市网信办值班室"
    assert got.body["level"] == "复杂敏感事件"
    assert got.body["alert"] == {"key": "event:sina:1@复杂敏感事件"}
    assert got.body["text"].startswith("【复杂敏感事件】")


def test_server_errors_are_retried_and_client_errors_are_not(receiver: BotReceiver) -> None:
    receiver.webhook_statuses = [503, 404]
    unavailable = channel(receiver).send(message())
    missing = channel(receiver).send(message())
    assert (unavailable.ok, unavailable.permanent) == (False, False)
    assert "接收方（Webhook）返回 HTTP 503" in unavailable.error
    assert (missing.ok, missing.permanent) == (False, True)


def test_a_token_in_the_url_path_never_reaches_the_error() -> None:
    url = "http://127.0.0.1:9/services/T0001/B0002/tokenXYZsecret"  # nothing listens on port 9
    bot = WebhookChannel("duty-screen", {"url_env": "YUQING_SCREEN_URL"}, environ={"YUQING_SCREEN_URL": url})
    result = bot.send(message())
    assert not result.ok
    assert "连不上接收方（Webhook）" in result.error
    assert "tokenXYZsecret" not in result.error
    assert bot.describe()["to"] == "http://127.0.0.1:9"
