"""DingTalk (钉钉) custom group bot: `POST https://oapi.dingtalk.com/robot/send?access_token=…`.

Signed (加签) with `&timestamp=<ms>&sign=<urlencoded base64 HmacSHA256(secret, "<ms>\\n<secret>")>`; a
body `{"errcode":0,"errmsg":"ok"}` is the only success, whatever the HTTP status says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar
from urllib.parse import quote_plus

import requests

from alerts.channels.base import DeliveryResult, Message, truncate_utf8
from alerts.channels.http import BotChannel
from config.channels import DingTalkOptions

# The platform's text limit is 20,000 bytes; leave room for the mentions.
BODY_MAX_BYTES = 18000


def sign(secret: str, timestamp_ms: str) -> str:
    """The `sign` query value for a request made at `timestamp_ms`, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DingTalkChannel(BotChannel):
    type = "dingtalk"
    platform = "钉钉"
    options_model = DingTalkOptions
    # 每个机器人每分钟最多发送20条；超过后限流10分钟。
    default_limits: ClassVar[tuple[tuple[int, float], ...]] = ((20, 60),)
    code_field = "errcode"
    message_field = "errmsg"
    throttle_codes: ClassVar[dict[int, float]] = {130101: 600}
    # 310000: signature, keyword or IP check failed; 300001/300005: the token is wrong or gone.
    permanent_codes = frozenset({310000, 300001, 300005})

    options: DingTalkOptions

    def __init__(self, name: str, options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self._secret = self.secret(self.options.secret_env) if self.options.secret_env else None

    def payload(self, message: Message) -> dict[str, Any]:
        mobiles, everyone = self.mentioned(message)
        at = {"atMobiles": mobiles, "isAtAll": everyone}
        # A mention only rings when the number also appears in the text.
        tail = " ".join(f"@{mobile}" for mobile in mobiles)
        if self.options.msgtype == "text":
            text = truncate_utf8(message.body, BODY_MAX_BYTES)
            return {"msgtype": "text", "text": {"content": f"{text}\n{tail}" if tail else text}, "at": at}
        # DingTalk markdown needs a blank line to break a line.
        body = message.body.splitlines()
        if body and body[0].strip() == message.subject.strip():
            body = body[1:]  # the heading says it already
        lines = [f"#### {message.subject}", *body]
        text = truncate_utf8("\n\n".join(line for line in lines if line.strip()), BODY_MAX_BYTES)
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": f"{text}\n\n{tail}" if tail else text},
            "at": at,
        }

    def signed_url(self) -> str:
        if self._secret is None:
            return self.url
        timestamp = str(round(self._timer() * 1000))
        joiner = "&" if "?" in self.url else "?"
        return (
            f"{self.url}{joiner}timestamp={timestamp}&sign={sign(self._secret.get_secret_value(), timestamp)}"
        )

    def send(self, message: Message) -> DeliveryResult:
        try:
            reply = self.post(self.signed_url(), self.payload(message))
        except requests.RequestException as exc:
            return self.unreachable(exc)
        return self.read_reply(reply)
